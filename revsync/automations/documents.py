"""What trigger and action documents share: an object with a known `kind` and only the
fields that kind takes."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any


def kind_of(doc: Any, what: str, fields: Mapping[str, Collection[str]],
            error: type[ValueError]) -> tuple[str, Mapping[str, Any]]:
    """The document's kind and the document; `error` names the first problem."""
    if not isinstance(doc, Mapping):
        raise error(f"{what} is an object with a 'kind'")
    kind = doc.get("kind")
    if not isinstance(kind, str) or kind not in fields:
        raise error(f"{what} kind {kind!r} is not one of {', '.join(fields)}")
    unknown = sorted(set(doc) - {"kind", *fields[kind]})
    if unknown:
        raise error(f"{what} {kind} takes no {', '.join(unknown)}")
    return kind, doc
