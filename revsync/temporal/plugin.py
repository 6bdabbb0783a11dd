"""The product as one Temporal plugin: add it to your client and to two workers.

    client = await Client.connect(address, plugins=[RevenueSyncPlugin()])
    Worker(client, task_queue=settings.task_queue)                 # workflows, database
    Worker(client, task_queue=settings.stripe_task_queue)          # full-sync Stripe calls
    Worker(client, task_queue=settings.stripe_events_task_queue)   # webhook events

The plugin decides what each worker runs from its task queue; a worker on any other
queue (the platform's own, running its change sink) is left as it was built. Every Stripe-calling
activity runs on one of the two Stripe task queues, under its workflow's fairness key,
the workspace's Stripe account (see `revsync.budget`). When a Stripe worker starts,
the plugin writes each queue's per-account rate into the server's task queue config,
so every account has its own budget, held across the whole fleet. A server that
cannot take that config falls back to one rate for the fleet, set on every worker;
`revsync worker` finds out before it builds its workers. Webhook events have their
own queue so a long sync never delays them; an event is one activity there (refetch,
apply, hand-over), so the events worker reaches the database and signals rule
workflows as well as calling Stripe.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from temporalio.client import Client
from temporalio.plugin import SimplePlugin
from temporalio.worker import Worker, WorkerConfig

from revsync.activities.automations import AutomationActivities
from revsync.activities.catch_up import CatchUpActivities
from revsync.activities.change_sink import SinkActivities
from revsync.activities.full_sync import SyncStoreActivities, SyncStripeActivities
from revsync.activities.setup import SetupActivities
from revsync.activities.stripe_event import EventActivities
from revsync.budget.task_queues import BudgetScope, BudgetUnavailable, apply_budget
from revsync.settings import Settings, get_settings
from revsync.temporal.converter import data_converter
from revsync.workflows.automations import AutomationRuleWorkflow
from revsync.workflows.catch_up import CatchUpWorkflow
from revsync.workflows.change_sink import ChangeSinkWorkflow
from revsync.workflows.full_sync import FullSyncWorkflow
from revsync.workflows.setup import DryRunWorkflow, RederiveWorkflow, RefreshProductsWorkflow
from revsync.workflows.stripe_event import StripeEventWorkflow

log = logging.getLogger(__name__)

WORKFLOWS: list[type] = [
    FullSyncWorkflow, StripeEventWorkflow, CatchUpWorkflow, AutomationRuleWorkflow,
    DryRunWorkflow, RederiveWorkflow, RefreshProductsWorkflow, ChangeSinkWorkflow,
]


class RevenueSyncPlugin(SimplePlugin):
    """Registers the revenue-sync workflows, activities and data converter."""

    def __init__(self, settings: Settings | None = None, max_threads: int = 16) -> None:
        self.settings = settings or get_settings()
        store = SyncStoreActivities(self.settings)
        pages = SyncStripeActivities(self.settings)
        setup = SetupActivities(self.settings)
        self.stripe_activities: list[Callable[..., Any]] = [
            pages.fetch_stream_pages,
            pages.plan_partitions,
            setup.dry_run,
            setup.refresh_products,
        ]
        automations = AutomationActivities(self.settings)
        self.stripe_event_activities: list[Callable[..., Any]] = [
            EventActivities(self.settings).process_event,
            CatchUpActivities(self.settings).list_event_page,
        ]
        self.store_activities: list[Callable[..., Any]] = [
            store.start_run,
            store.sweep_mirror,
            store.derive_subscribers,
            store.finish_run,
            automations.dispatch_transitions,
            automations.run_rule_step,
            SinkActivities(self.settings).next_changes,
        ]
        self._max_threads = max_threads
        # Set by `resolve_budget` (or the first Stripe worker to start); None: not yet known.
        self.budget: BudgetScope | None = None
        self._resolving = asyncio.Lock()
        super().__init__("revsync.RevenueSyncPlugin", data_converter=data_converter)

    async def resolve_budget(self, client: Client) -> BudgetScope:
        """Configure the per-account budget on the server, or learn that the fleet scope
        applies; call before building Stripe workers so the fallback is automatic."""
        async with self._resolving:  # the Stripe workers of one process ask once
            self.budget = await apply_budget(client, self.settings)
        return self.budget

    def configure_worker(self, config: WorkerConfig) -> WorkerConfig:
        config = super().configure_worker(config)
        activities = list(config.get("activities") or [])
        queue = config.get("task_queue")
        threads = self._max_threads
        if queue in self._stripe_queues():
            activities += (self.stripe_activities if queue == self.settings.stripe_task_queue
                           else self.stripe_event_activities)
            threads = self.settings.stripe_worker_threads  # they wait on the network
            if config.get("max_concurrent_activity_task_polls") is None:
                config["max_concurrent_activity_task_polls"] = self.settings.stripe_worker_pollers
            if self._fleet_scope():
                config["max_task_queue_activities_per_second"] = self._fleet_rate(queue)
        elif queue == self.settings.task_queue:
            activities += self.store_activities
            config["workflows"] = [*(config.get("workflows") or []), *WORKFLOWS]
        else:  # the platform's own worker (its change sink, say): left as it was built
            return config
        config["activities"] = activities
        if config.get("activity_executor") is None:
            config["activity_executor"] = ThreadPoolExecutor(threads)
            # A task waiting for a thread cannot heartbeat: never accept more than we run.
            config["max_concurrent_activities"] = threads
        return config

    async def run_worker(self, worker: Worker, next: Callable[[Worker], Awaitable[None]]
                         ) -> None:
        """A Stripe worker starts only once its queue's budget is in force."""
        if worker.task_queue in self._stripe_queues():
            async with self._resolving:
                if self.budget is None:
                    self.budget = await apply_budget(worker.client, self.settings)
            assert self.budget is not None
            limited = worker.config(active_config=True).get(
                "max_task_queue_activities_per_second") is not None
            if self.budget.scope == "fleet" and not limited:
                raise BudgetUnavailable(
                    f"{self.budget.reason}; this worker was built before that was known, so "
                    "it has no Stripe budget. Call `await plugin.resolve_budget(client)` "
                    "before building workers, or set REVSYNC_STRIPE_BUDGET_SCOPE=fleet.")
            log.info("Stripe budget on %s: %s scope (%s)", worker.task_queue,
                     self.budget.scope, self.budget.reason)
        await super().run_worker(worker, next)

    def _stripe_queues(self) -> tuple[str, str]:
        return self.settings.stripe_task_queue, self.settings.stripe_events_task_queue

    def _fleet_scope(self) -> bool:
        return self.settings.stripe_budget_scope == "fleet" or (
            self.budget is not None and self.budget.scope == "fleet")

    def _fleet_rate(self, queue: str) -> float:
        if queue == self.settings.stripe_task_queue:
            return self.settings.fleet_activities_per_second
        return self.settings.event_activities_per_second
