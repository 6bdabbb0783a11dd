"""Nested lists as Stripe serves them: at most 10 entries embedded, the rest paged.

Stripe embeds only the first 10 entries of ``subscription.items`` and ``invoice.lines``,
says ``has_more: true`` and names the ``url``
that pages the rest: ``GET /v1/subscription_items?subscription=...`` and
``GET /v1/invoices/{id}/lines``. A sync that reads only the embedded list undercounts
big subscriptions and invoices without any error, so the fake cuts every answer it sends
the same way, in every place Stripe does: retrieve, list, create/update answers,
``/v1/events`` and webhook payloads.

The cut happens here, on the way out, never in the store: objects keep every entry, so
tests can build a 20-item subscription through the Python API and check a sync against
the whole of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from .errors import check_limit, resource_missing
from .objects import StripeObject, list_object

#: How many entries of a nested list Stripe embeds in its parent object.
NESTED_LIMIT: Final = 10

#: The nested list fields of each object type Stripe truncates.
_NESTED: Final[dict[str, tuple[str, ...]]] = {
    "subscription": ("items",),
    "invoice": ("lines",),
}
#: Expanded objects that can themselves carry nested lists (``latest_invoice.lines``).
_EXPANDED: Final[dict[str, tuple[str, ...]]] = {"subscription": ("latest_invoice",)}


def on_the_wire(body: Any) -> Any:
    """``body`` as Stripe would send it: nested lists cut to their first 10 entries.

    Walks only where Stripe objects can nest such lists (a list's ``data``, an event's
    ``data.object``, expanded references), building new dicts along the way, so the
    store's objects and event snapshots stay whole.
    """
    if not isinstance(body, Mapping):
        return body
    kind = body.get("object")
    if kind == "list":
        return {**body, "data": [on_the_wire(entry) for entry in body["data"]]}
    if kind == "event":
        data = body["data"]
        obj = data["object"]
        cut = {**data, "object": on_the_wire(obj)}
        previous = data.get("previous_attributes")
        if isinstance(previous, Mapping) and isinstance(obj, Mapping):
            # An update's old items/lines are a nested list too.
            cut["previous_attributes"] = _cut_fields(previous, obj.get("object"))
        return {**body, "data": cut}
    if kind not in _NESTED:
        return body
    out = _cut_fields(body, kind)
    for name in _EXPANDED.get(kind, ()):
        out[name] = on_the_wire(out.get(name))
    return out


def _cut_fields(obj: Mapping[str, Any], kind: Any) -> dict[str, Any]:
    """A copy of ``obj`` with the nested lists of a ``kind`` object cut."""
    out = dict(obj)
    for name in _NESTED.get(kind, ()):
        nested = out.get(name)
        if isinstance(nested, Mapping) and nested.get("object") == "list":
            out[name] = embedded(nested)
    return out


def embedded(nested: Mapping[str, Any]) -> dict[str, Any]:
    """A nested list object holding only the entries Stripe embeds."""
    data = nested["data"]
    if len(data) <= NESTED_LIMIT:
        return dict(nested)
    return {**nested, "data": data[:NESTED_LIMIT], "has_more": True}


def page(
    entries: Sequence[StripeObject],
    *,
    url: str,
    entry_type: str,
    limit: int = NESTED_LIMIT,
    starting_after: str | None = None,
    ending_before: str | None = None,
) -> dict[str, Any]:
    """One page of a nested list, in the order the parent embeds it (so paging on from
    the last embedded entry returns exactly the rest). An unknown cursor is Stripe's
    400 ``resource_missing`` naming the cursor parameter."""
    check_limit(limit)
    if starting_after is not None:
        rest = entries[_position(entries, starting_after, entry_type, "starting_after") + 1:]
        return list_object(list(rest[:limit]), url, len(rest) > limit)
    if ending_before is not None:
        before = entries[:_position(entries, ending_before, entry_type, "ending_before")]
        return list_object(list(before[-limit:]), url, len(before) > limit)
    return list_object(list(entries[:limit]), url, len(entries) > limit)


def _position(entries: Sequence[StripeObject], entry_id: str, entry_type: str,
              param: str) -> int:
    for i, entry in enumerate(entries):
        if entry["id"] == entry_id:
            return i
    raise resource_missing(entry_type, entry_id, status=400, param=param)
