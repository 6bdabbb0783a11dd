"""Decode Stripe's form encoding (``items[0][price]=...``) into nested dicts/lists."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .errors import invalid_param

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")


def decode(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """``[("a[b][0]", "x")]`` -> ``{"a": {"b": ["x"]}}``; ``a[]`` appends."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = _KEY.match(key)
        if match is None:
            raise invalid_param(key, f"Invalid parameter name: {key}")
        path = [match.group(1), *_PART.findall(match.group(2))]
        node: dict[str, Any] = root
        for i, part in enumerate(path[:-1]):
            nxt = path[i + 1]
            child = node.get(part)
            if child is None or not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
            if nxt == "":
                node.setdefault("__append__", [])
        last = path[-1]
        if last == "":
            node.setdefault("__append__", []).append(value)
        else:
            node[last] = value
    decoded: dict[str, Any] = _listify(root)
    return decoded


def _listify(node: Any) -> Any:
    """Dicts whose keys are all integers (or appended) become lists, in index order."""
    if not isinstance(node, dict):
        return node
    if "__append__" in node and len(node) == 1:
        return [_listify(v) for v in node["__append__"]]
    converted = {k: _listify(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


def to_int(value: Any, param: str) -> int:
    """A form value as an integer, or Stripe's 400."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise invalid_param(
            param, f"Invalid integer: {value}", code="parameter_invalid_integer"
        ) from None


def to_bool(value: Any, param: str) -> bool:
    """A form value as a boolean (``true``/``false``), or Stripe's 400."""
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return bool(value == "true")
    raise invalid_param(param, f"Invalid boolean: {value}")


def to_list(value: Any, param: str) -> list[Any]:
    """A form value that must be an array."""
    if isinstance(value, list):
        return value
    if value == "":
        return []
    raise invalid_param(param, f"Invalid array: {param}")


def metadata(value: Any, current: dict[str, str] | None = None) -> dict[str, str]:
    """Stripe's metadata update: keys merge, ``""`` unsets a key, ``metadata=""`` clears."""
    if value == "":
        return {}
    if not isinstance(value, dict):
        raise invalid_param("metadata", "Invalid hash")
    out = dict(current or {})
    for key, val in value.items():
        if val == "":
            out.pop(key, None)
        else:
            out[key] = str(val)
    return out
