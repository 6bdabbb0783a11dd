"""List-request parameters: validation and translation into ``FakeStripe.list`` calls."""

from __future__ import annotations

from typing import Any, Final

from .errors import check_limit, invalid_param
from .forms import to_bool, to_int, to_list
from .store import ENDED_STATUSES, SUBSCRIPTION_STATUSES

_COMMON: Final = frozenset({"limit", "starting_after", "ending_before", "created", "expand"})
_DEFAULT_SUB_STATUSES: Final = SUBSCRIPTION_STATUSES - ENDED_STATUSES
_INVOICE_STATUSES: Final = frozenset({"draft", "open", "paid", "uncollectible", "void"})

#: Filters per type: parameter -> how it becomes a ``where`` entry.
_FILTERS: Final[dict[str, frozenset[str]]] = {
    "customer": frozenset({"email"}),
    "subscription": frozenset({"status", "customer", "collection_method"}),
    "charge": frozenset({"customer"}),
    "invoice": frozenset({"status", "customer", "collection_method"}),
    "price": frozenset({"active", "product", "currency", "type"}),
    "product": frozenset({"active"}),
    "coupon": frozenset(),
    "event": frozenset({"type", "types"}),
    "refund": frozenset({"charge"}),
}


def reject_unknown(params: dict[str, Any], allowed: frozenset[str]) -> None:
    """Stripe's 400 for the first parameter the endpoint does not take."""
    for key in params:
        if key not in allowed:
            raise invalid_param(key, f"Received unknown parameter: {key}",
                                code="parameter_unknown")


def cursor_kwargs(params: dict[str, Any]) -> dict[str, Any]:
    """``limit`` (default 10), ``starting_after``, ``ending_before`` and ``expand``: the
    parameters every Stripe list takes, decoded."""
    return {
        "limit": check_limit(to_int(params.get("limit", 10), "limit")),
        "starting_after": params.get("starting_after") or None,
        "ending_before": params.get("ending_before") or None,
        "expand": [str(p) for p in to_list(params.get("expand", []), "expand")],
    }


def list_kwargs(object_type: str, params: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments for ``FakeStripe.list`` from decoded query parameters."""
    reject_unknown(params, _COMMON | _FILTERS[object_type])
    kwargs = cursor_kwargs(params)
    kwargs["created"] = _created(params.get("created"))
    where: dict[str, Any] = {}
    for key in _FILTERS[object_type] & params.keys():
        value = params[key]
        if key == "status" and object_type == "subscription":
            if value not in SUBSCRIPTION_STATUSES | {"all", "ended"}:
                raise invalid_param("status", f"Invalid status: {value}")
            if value == "ended":
                where["status"] = ENDED_STATUSES
            elif value != "all":
                where["status"] = value
        elif key == "status":
            if value not in _INVOICE_STATUSES:
                raise invalid_param("status", f"Invalid status: {value}")
            where["status"] = value
        elif key == "active":
            where["active"] = to_bool(value, "active")
        elif key == "types":
            where["type"] = frozenset(to_list(value, "types"))
        else:
            where[key] = value
    if object_type == "subscription" and "status" not in params:
        where["status"] = _DEFAULT_SUB_STATUSES
    kwargs["where"] = where
    return kwargs


def _created(value: Any) -> int | dict[str, int] | None:
    if value is None:
        return None
    if isinstance(value, dict):
        out = {}
        for op, ts in value.items():
            if op not in ("gt", "gte", "lt", "lte"):
                raise invalid_param(f"created[{op}]", f"Received unknown parameter: created[{op}]",
                                    code="parameter_unknown")
            out[op] = to_int(ts, f"created[{op}]")
        return out
    return to_int(value, "created")
