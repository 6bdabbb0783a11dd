"""The product as one Temporal plugin: add it to your client and to two workers.

    client = await Client.connect(address, plugins=[RevenueSyncPlugin()])
    Worker(client, task_queue=settings.task_queue)                 # workflows, database
    Worker(client, task_queue=settings.stripe_task_queue)          # full-sync Stripe calls
    Worker(client, task_queue=settings.stripe_events_task_queue)   # webhook refetches

The plugin decides what each worker runs from its task queue. Every Stripe-calling
activity runs on one of the two Stripe task queues, and the plugin sets each queue's
server-side activity rate on every worker of it, so the whole fleet shares the
budget. Webhook refetches have their own queue so a long sync never delays them.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.plugin import SimplePlugin
from temporalio.worker import WorkerConfig

from revsync.activities.automations import AutomationActivities
from revsync.activities.event_store import EventStoreActivities
from revsync.activities.setup import SetupActivities
from revsync.activities.stripe_events import StripeEventActivities
from revsync.activities.stripe_pages import StripePageActivities
from revsync.activities.sync_store import SyncStoreActivities
from revsync.settings import Settings, get_settings
from revsync.workflows.automations import NotifyWorkflow, WinBackWorkflow
from revsync.workflows.catch_up import CatchUpWorkflow
from revsync.workflows.full_sync import FullSyncWorkflow
from revsync.workflows.setup import DryRunWorkflow, RederiveWorkflow
from revsync.workflows.stripe_event import StripeEventWorkflow

WORKFLOWS: list[type] = [
    FullSyncWorkflow, StripeEventWorkflow, CatchUpWorkflow, WinBackWorkflow, NotifyWorkflow,
    DryRunWorkflow, RederiveWorkflow,
]


class RevenueSyncPlugin(SimplePlugin):
    """Registers the revenue-sync workflows, activities and data converter."""

    def __init__(self, settings: Settings | None = None, max_threads: int = 16) -> None:
        self.settings = settings or get_settings()
        store = SyncStoreActivities(self.settings)
        pages = StripePageActivities(self.settings)
        self.stripe_activities: list[Callable[..., Any]] = [
            pages.fetch_stream_pages,
            pages.plan_partitions,
            SetupActivities(self.settings).dry_run,
        ]
        events = StripeEventActivities(self.settings)
        automations = AutomationActivities(self.settings)
        self.stripe_event_activities: list[Callable[..., Any]] = [
            events.refetch_event_objects,
            events.list_event_page,
        ]
        self.store_activities: list[Callable[..., Any]] = [
            store.start_run,
            store.sweep_mirror,
            store.derive_subscribers,
            store.finish_run,
            EventStoreActivities(self.settings).apply_event,
            automations.dispatch_transitions,
            automations.send_email,
        ]
        self._max_threads = max_threads
        super().__init__("revsync.RevenueSyncPlugin", data_converter=pydantic_data_converter)

    def configure_worker(self, config: WorkerConfig) -> WorkerConfig:
        config = super().configure_worker(config)
        activities = list(config.get("activities") or [])
        queue = config.get("task_queue")
        if queue == self.settings.stripe_task_queue:
            activities += self.stripe_activities
            # Server-side, across every worker of the queue: the shared Stripe budget.
            config["max_task_queue_activities_per_second"] = self.settings.activities_per_second
        elif queue == self.settings.stripe_events_task_queue:
            activities += self.stripe_event_activities
            rate = self.settings.event_activities_per_second
            config["max_task_queue_activities_per_second"] = rate
        else:
            activities += self.store_activities
            config["workflows"] = [*(config.get("workflows") or []), *WORKFLOWS]
        config["activities"] = activities
        if config.get("activity_executor") is None:
            config["activity_executor"] = ThreadPoolExecutor(self._max_threads)
            # A task waiting for a thread cannot heartbeat: never accept more than we run.
            config["max_concurrent_activities"] = self._max_threads
        return config
