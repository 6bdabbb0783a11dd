"""The plugin gives each worker the right work and the Stripe queue its shared budget."""

from __future__ import annotations

from typing import Any

from revsync.settings import Settings
from revsync.temporal.plugin import RevenueSyncPlugin
from revsync.workflows.automations import AutomationRuleWorkflow
from revsync.workflows.catch_up import CatchUpWorkflow
from revsync.workflows.change_sink import ChangeSinkWorkflow
from revsync.workflows.full_sync import FullSyncWorkflow
from revsync.workflows.setup import DryRunWorkflow, RederiveWorkflow, RefreshProductsWorkflow
from revsync.workflows.stripe_event import StripeEventWorkflow


def configure(settings: Settings, task_queue: str) -> dict[str, Any]:
    plugin = RevenueSyncPlugin(settings)
    return dict(plugin.configure_worker({"task_queue": task_queue}))


def names(config: dict[str, Any]) -> set[str]:
    return {f.__temporal_activity_definition.name for f in config["activities"]}


def test_stripe_queue_gets_the_stripe_activities_and_no_worker_side_rate() -> None:
    """Per-account budgets live in the server's task queue config, not on the worker:
    a worker-side rate would cap every account together."""
    settings = Settings(stripe_requests_per_second=12, pages_per_activity=4,
                        stripe_worker_threads=40, stripe_worker_pollers=12)
    config = configure(settings, settings.stripe_task_queue)
    assert names(config) == {"revsync.fetch_stream_pages", "revsync.plan_partitions",
                             "revsync.dry_run", "revsync.refresh_products"}
    assert "max_task_queue_activities_per_second" not in config
    assert config["max_concurrent_activities"] == 40
    assert config["max_concurrent_activity_task_polls"] == 12  # one per queue partition
    assert "workflows" not in config


def test_fleet_scope_sets_one_rate_for_every_account() -> None:
    settings = Settings(stripe_budget_scope="fleet", stripe_fleet_requests_per_second=12,
                        pages_per_activity=4)
    config = configure(settings, settings.stripe_task_queue)
    # 12 requests/s at 4 pages per activity = 3 activities/s, enforced by the server.
    assert config["max_task_queue_activities_per_second"] == 3.0


def test_main_queue_gets_workflows_and_database_activities_without_a_rate() -> None:
    settings = Settings()
    config = configure(settings, settings.task_queue)
    assert config["workflows"] == [FullSyncWorkflow, StripeEventWorkflow, CatchUpWorkflow,
                                   AutomationRuleWorkflow, DryRunWorkflow, RederiveWorkflow,
                                   RefreshProductsWorkflow, ChangeSinkWorkflow]
    assert names(config) == {"revsync.start_run", "revsync.sweep_mirror",
                             "revsync.derive_subscribers", "revsync.finish_run",
                             "revsync.dispatch_transitions",
                             "revsync.run_rule_step", "revsync.next_changes"}
    assert "max_task_queue_activities_per_second" not in config
    assert config["activity_executor"] is not None


def test_events_queue_gets_the_refetch_activities_and_its_own_budget() -> None:
    settings = Settings(stripe_event_requests_per_second=30, stripe_budget_scope="fleet")
    config = configure(settings, settings.stripe_events_task_queue)
    assert names(config) == {"revsync.process_event", "revsync.list_event_page"}
    # 30 requests/s, at most 2 refetches per event = 15 event activities/s.
    assert config["max_task_queue_activities_per_second"] == 15.0
    assert "workflows" not in config


def test_a_workers_own_poll_count_is_kept() -> None:
    plugin = RevenueSyncPlugin(Settings())
    config = plugin.configure_worker({"task_queue": "revsync-stripe",
                                      "max_concurrent_activity_task_polls": 3})
    assert config["max_concurrent_activity_task_polls"] == 3
    main = plugin.configure_worker({"task_queue": "revsync"})
    assert main.get("max_concurrent_activity_task_polls") is None  # the SDK's default


def test_a_platform_workers_own_queue_is_left_as_built() -> None:
    """The platform's worker running its change sink, on a client with the plugin, gets
    none of revsync's workflows or activities."""
    config = configure(Settings(), "platform-sink")
    assert config == {"task_queue": "platform-sink"}
