"""Webhook endpoints: the account's delivery targets, kept beside its objects.

They live in their own small table rather than :class:`FakeStripe`'s object tables
because they are configuration, not account data: changing them emits no events,
they are never seeded, and only the create response shows the signing ``secret``.
"""

from __future__ import annotations

import builtins
import re
import secrets
import string
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from .errors import StripeError, invalid_param, resource_missing
from .objects import (
    Record,
    StripeObject,
    build_deleted_webhook_endpoint,
    build_webhook_endpoint,
    list_object,
)
from .table import CreatedRange, Table, page_ids

_ALPHANUMERIC: Final = string.digits + string.ascii_uppercase + string.ascii_lowercase
_EVENT_TYPE: Final = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
_API_VERSION: Final = re.compile(r"^\d{4}-\d{2}-\d{2}(\.[a-z_]+)?$")
_UPDATABLE: Final = frozenset({"url", "enabled_events", "description", "metadata", "disabled"})
_SEQUENCE_WIDTH: Final = 6
_ID_LENGTH: Final = 24


class WebhookEndpoints:
    """CRUD on webhook endpoints, guarded by the account's lock (shared with events)."""

    def __init__(self, lock: threading.RLock, clock: Callable[[], int]) -> None:
        self._lock = lock
        self._clock = clock
        self._table = Table("webhook_endpoint")
        self._counter = 0

    def create(
        self,
        url: str,
        enabled_events: Iterable[str],
        *,
        api_version: str | None = None,
        description: str | None = None,
        metadata: Mapping[str, str] | None = None,
        connect: bool = False,
    ) -> StripeObject:
        """Add an enabled endpoint; the result carries its new ``secret``. A ``connect``
        endpoint receives the events of the platform's connected accounts instead."""
        rec: Record = {
            "url": _check_url(url),
            "enabled_events": _check_events(enabled_events),
            "api_version": None if api_version is None else _check_api_version(api_version),
            "description": description,
            "metadata": dict(metadata or {}),
            "status": "enabled",
            "connect": connect,
            "secret": "whsec_" + "".join(secrets.choice(_ALPHANUMERIC) for _ in range(32)),
        }
        with self._lock:
            rec["id"] = self._new_id()
            rec["created"] = self._clock()
            self._table.upsert(rec)
            return build_webhook_endpoint(rec, with_secret=True)

    def retrieve(self, endpoint_id: str) -> StripeObject:
        """One endpoint as ``GET`` returns it (no secret); 404 if unknown."""
        with self._lock:
            return build_webhook_endpoint(self._record(endpoint_id), with_secret=False)

    def get(self, endpoint_id: str) -> StripeObject | None:
        """One endpoint with its secret, or None (for delivery and tests)."""
        with self._lock:
            rec = self._table.get(endpoint_id)
            return None if rec is None else build_webhook_endpoint(rec, with_secret=True)

    def update(self, endpoint_id: str, fields: Mapping[str, Any]) -> StripeObject:
        """Change ``url``, ``enabled_events``, ``description``, ``metadata`` (replaced
        whole) or ``disabled`` (-> ``status``); returns the endpoint without secret."""
        unknown = fields.keys() - _UPDATABLE
        if unknown:
            raise ValueError(f"webhook_endpoint cannot update {sorted(unknown)}")
        changes: Record = {}
        if "url" in fields:
            changes["url"] = _check_url(fields["url"])
        if "enabled_events" in fields:
            changes["enabled_events"] = _check_events(fields["enabled_events"])
        if "description" in fields:
            changes["description"] = fields["description"]
        if "metadata" in fields:
            changes["metadata"] = dict(fields["metadata"] or {})
        if "disabled" in fields:
            changes["status"] = "disabled" if fields["disabled"] else "enabled"
        with self._lock:
            rec = {**self._record(endpoint_id), **changes}
            self._table.upsert(rec)
            return build_webhook_endpoint(rec, with_secret=False)

    def delete(self, endpoint_id: str) -> StripeObject:
        """Remove an endpoint; nothing more is delivered to it."""
        with self._lock:
            self._record(endpoint_id)
            self._table.remove(endpoint_id)
        return build_deleted_webhook_endpoint(endpoint_id)

    def list(
        self,
        *,
        limit: int = 10,
        starting_after: str | None = None,
        ending_before: str | None = None,
    ) -> dict[str, Any]:
        """One page, newest first, like ``GET /v1/webhook_endpoints`` (no secrets)."""
        if not 1 <= limit <= 100:
            raise invalid_param(
                "limit",
                f"This value must be between 1 and 100 (it currently is '{limit}').",
                code="parameter_invalid_integer",
            )
        with self._lock:
            ids, has_more = page_ids(
                self._table.sorted_keys(),
                limit=limit,
                created=CreatedRange(),
                after=self._cursor(starting_after, "starting_after"),
                before=self._cursor(ending_before, "ending_before"),
            )
            recs = self._table.records
            data = [build_webhook_endpoint(recs[i], with_secret=False) for i in ids]
        return list_object(data, "/v1/webhook_endpoints", has_more)

    def all(self) -> builtins.list[StripeObject]:
        """Every endpoint, newest first, with its secret."""
        with self._lock:
            return [build_webhook_endpoint(r, with_secret=True) for r in self._table.newest_first()]

    def targets(self, event_type: str, connect: bool = False) -> builtins.list[StripeObject]:
        """Enabled endpoints subscribed to ``event_type`` (or ``*``), oldest first; the
        account's own events go to its plain endpoints, its connected accounts' events
        to its ``connect`` ones."""
        with self._lock:
            return [
                build_webhook_endpoint(rec, with_secret=True)
                for rec in reversed(list(self._table.newest_first()))
                if rec["status"] == "enabled" and bool(rec.get("connect")) == connect
                and ("*" in rec["enabled_events"] or event_type in rec["enabled_events"])
            ]

    def _record(self, endpoint_id: str) -> Record:
        rec = self._table.get(endpoint_id)
        if rec is None:
            raise resource_missing("webhook_endpoint", endpoint_id)
        return rec

    def _cursor(self, endpoint_id: str | None, param: str) -> str | None:
        if endpoint_id is None:
            return None
        key = self._table.key_of(endpoint_id)
        if key is None:
            raise resource_missing("webhook_endpoint", endpoint_id, status=400, param=param)
        return key

    def _new_id(self) -> str:
        """``we_`` + a counter (so same-second endpoints list newest first) + random."""
        self._counter += 1
        n, digits = self._counter, []
        for _ in range(_SEQUENCE_WIDTH):
            n, d = divmod(n, 62)
            digits.append(_ALPHANUMERIC[d])
        tail = "".join(secrets.choice(_ALPHANUMERIC) for _ in range(_ID_LENGTH - _SEQUENCE_WIDTH))
        return "we_" + "".join(reversed(digits)) + tail


def _check_url(url: Any) -> str:
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise StripeError(
            400,
            f"Invalid URL: {url!r}. An explicit scheme (http or https) and a host must be "
            "provided.",
            code="url_invalid",
            param="url",
        )
    return str(url)


def _check_events(events: Iterable[str]) -> list[str]:
    out = list(events)
    if not out:
        raise invalid_param("enabled_events", "Missing required param: enabled_events.",
                            code="parameter_missing")
    for i, name in enumerate(out):
        if not isinstance(name, str) or (name != "*" and not _EVENT_TYPE.match(name)):
            raise invalid_param(f"enabled_events[{i}]",
                                f"Invalid enabled_events[{i}]: {name!r} is not an event type.")
    return out


def _check_api_version(version: str) -> str:
    if not _API_VERSION.match(version):
        raise invalid_param("api_version", f"Invalid API version: {version}")
    return version
