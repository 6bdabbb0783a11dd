"""``/v1/webhook_endpoints`` form parameters -> :class:`WebhookEndpoints` arguments.

Only shapes are checked here (strings, arrays, booleans, unknown names); the registry
checks values (URL, event names, API version), so Python callers get the same errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from .errors import StripeError, invalid_param
from .forms import metadata, to_bool, to_int, to_list

_CREATE: Final = frozenset(
    {"url", "enabled_events", "api_version", "description", "metadata", "connect"}
)
_UPDATE: Final = frozenset({"url", "enabled_events", "disabled", "description", "metadata"})
_LIST: Final = frozenset({"limit", "starting_after", "ending_before"})


def create_args(params: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments for ``WebhookEndpoints.create`` (url and events required)."""
    _reject_unknown(params, _CREATE)
    for name in ("url", "enabled_events"):
        if params.get(name) in (None, "", []):
            raise invalid_param(name, f"Missing required param: {name}.",
                                code="parameter_missing")
    args: dict[str, Any] = {
        "url": _str(params["url"], "url"),
        "enabled_events": _events(params["enabled_events"]),
    }
    if to_bool(params.get("connect", False), "connect"):
        args["connect"] = True
    if "api_version" in params:
        args["api_version"] = _str(params["api_version"], "api_version")
    if "description" in params:
        args["description"] = _nullable_str(params["description"], "description")
    if "metadata" in params:
        args["metadata"] = metadata(params["metadata"])
    return args


def update_fields(params: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """Fields for ``WebhookEndpoints.update``; metadata merges into ``current``'s."""
    _reject_unknown(params, _UPDATE)
    fields: dict[str, Any] = {}
    for key, value in params.items():
        if key == "url":
            fields["url"] = _str(value, "url")
        elif key == "enabled_events":
            fields["enabled_events"] = _events(value)
        elif key == "disabled":
            fields["disabled"] = to_bool(value, "disabled")
        elif key == "description":
            fields["description"] = _nullable_str(value, "description")
        else:
            fields["metadata"] = metadata(value, current.get("metadata"))
    return fields


def list_args(params: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments for ``WebhookEndpoints.list``; nothing is expandable."""
    for i, path in enumerate(to_list(params.get("expand", []), "expand")):
        raise StripeError(400, f"This property cannot be expanded ({path}).",
                          param=f"expand[{i}]")
    _reject_unknown({k: v for k, v in params.items() if k != "expand"}, _LIST)
    return {
        "limit": to_int(params.get("limit", 10), "limit"),
        "starting_after": params.get("starting_after") or None,
        "ending_before": params.get("ending_before") or None,
    }


def _reject_unknown(params: Mapping[str, Any], allowed: frozenset[str]) -> None:
    for key in params:
        if key not in allowed:
            raise invalid_param(key, f"Received unknown parameter: {key}",
                                code="parameter_unknown")


def _events(value: Any) -> list[str]:
    events = to_list(value, "enabled_events")
    for i, name in enumerate(events):
        _str(name, f"enabled_events[{i}]")
    return events


def _str(value: Any, param: str) -> str:
    if not isinstance(value, str):
        raise invalid_param(param, f"Invalid string: {param}")
    return value


def _nullable_str(value: Any, param: str) -> str | None:
    return None if value == "" else _str(value, param)
