"""The one error a segment expression can raise, pointing at where it went wrong."""

from __future__ import annotations


class SegmentError(ValueError):
    """A malformed or unsupported expression.

    `position` is 1-based (the first character is 1; end of input is len + 1), `found`
    the offending text (None at end of input) and `expected` plain words, so a CLI can
    underline the spot and an API can return the parts separately.
    """

    def __init__(self, position: int, message: str, *, found: str | None = None,
                 expected: str | None = None) -> None:
        super().__init__(f"position {position}: {message}")
        self.position = position
        self.message = message
        self.found = found
        self.expected = expected

    def as_dict(self) -> dict[str, object]:
        """The JSON shape the HTTP API returns under `error`."""
        return {"message": str(self), "position": self.position, "found": self.found,
                "expected": self.expected}
