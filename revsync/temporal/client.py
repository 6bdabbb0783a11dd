"""Connect to Temporal the way the `temporal` CLI does (TEMPORAL_* env, temporal.toml)."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client
from temporalio.envconfig import ClientConfig

from revsync.settings import Settings
from revsync.temporal.plugin import RevenueSyncPlugin

DEFAULT_TARGET = "127.0.0.1:7233"


def connect_config() -> dict[str, Any]:
    config: dict[str, Any] = dict(ClientConfig.load_client_connect_config())
    config.setdefault("target_host", DEFAULT_TARGET)
    return config


async def connect(settings: Settings, target_host: str | None = None,
                  plugin: RevenueSyncPlugin | None = None) -> Client:
    """A client with the plugin installed; workers made from it get the plugin too."""
    config = connect_config()
    if target_host:
        config["target_host"] = target_host
    return await Client.connect(**config, plugins=[plugin or RevenueSyncPlugin(settings)])
