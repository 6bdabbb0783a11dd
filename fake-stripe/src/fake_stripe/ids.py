"""Stripe-looking object ids from a seeded RNG, so generated accounts are reproducible."""

from __future__ import annotations

import random
import string
from typing import Final

_ALPHABET: Final = string.digits + string.ascii_letters
# Maps every byte to an alphabet character, so an id is one randbytes + translate.
_BYTE_TO_CHAR: Final = bytes((_ALPHABET * 5)[:256], "ascii")

#: Id prefix and random-part length per object type, as Stripe spells them.
PREFIXES: Final[dict[str, tuple[str, int]]] = {
    "customer": ("cus_", 14),
    "subscription": ("sub_", 24),
    "subscription_item": ("si_", 14),
    "price": ("price_", 24),
    "product": ("prod_", 14),
    "coupon": ("", 8),
    "discount": ("di_", 24),
    "charge": ("ch_", 24),
    "refund": ("re_", 24),
    "invoice": ("in_", 24),
    "line_item": ("il_", 24),
    "invoice_item": ("ii_", 24),
    "event": ("evt_", 24),
    "request": ("req_", 14),
    "account": ("acct_", 16),
}


_SORTED_ALPHABET: Final = string.digits + string.ascii_uppercase + string.ascii_lowercase
_SEQUENCE_WIDTH: Final = 6


class IdFactory:
    """Makes ids like ``cus_QXg1o8vcGmoR32`` deterministically from a seed.

    ``sequential=True`` starts each id with a counter (like Stripe's time-prefixed
    ids), so objects created in the same second still list newest first.
    """

    def __init__(self, seed: int | str = 0, *, sequential: bool = False) -> None:
        self._rng = random.Random(seed)
        self._sequential = sequential
        self._counter = 0

    def new(self, object_type: str) -> str:
        """A fresh id for ``object_type``."""
        prefix, length = PREFIXES[object_type]
        if not self._sequential:
            return prefix + self._rng.randbytes(length).translate(_BYTE_TO_CHAR).decode("ascii")
        self._counter += 1
        n, digits = self._counter, []
        for _ in range(_SEQUENCE_WIDTH):
            n, d = divmod(n, 62)
            digits.append(_SORTED_ALPHABET[d])
        rest = length - _SEQUENCE_WIDTH
        tail = self._rng.randbytes(rest).translate(_BYTE_TO_CHAR).decode("ascii")
        return prefix + "".join(reversed(digits)) + tail
