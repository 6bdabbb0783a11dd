"""One Stripe client per workspace and stored key, shared by a worker's activities."""

from __future__ import annotations

import threading
from collections.abc import Callable

from revsync.gateway.stripe_api import StripeGateway
from revsync.settings import Settings
from revsync.store import db, workspaces


class GatewayCache:
    """Reuses connections across activities; a new key (reconnect) gets a new client."""

    def __init__(
        self, settings: Settings, sleep: Callable[[float], None] | None = None
    ) -> None:
        self.settings = settings
        self._sleep = sleep
        self._gateways: dict[tuple[int, str], StripeGateway] = {}
        self._lock = threading.Lock()

    def get(self, workspace_id: int) -> StripeGateway:
        with db.session(self.settings.resolved_database_url) as session:
            workspace = workspaces.by_id(session, workspace_id)
        key = (workspace_id, workspace.stripe_key_encrypted or "")
        with self._lock:
            if key not in self._gateways:
                gateway = workspaces.gateway(self.settings, workspace)
                if self._sleep is not None:
                    gateway.sleep = self._sleep
                self._gateways[key] = gateway
            return self._gateways[key]


class StripeActivities:
    """Base of the activity classes that read Stripe: the worker's settings and a client
    per workspace, shared by that class's activities."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.gateways = GatewayCache(settings)
