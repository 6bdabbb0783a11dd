"""Where the budget is held: per account in the server's task queue config, or, where the
server cannot hold it, one worker-side rate for the fleet, and the worker says which."""

from __future__ import annotations

import asyncio

import pytest
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from fake_stripe import FakeStripe, FakeStripeServer
from revsync.budget.task_queues import BudgetScope, BudgetUnavailable, apply_budget, per_key_rates
from revsync.settings import Settings
from revsync.temporal.client import connect
from revsync.temporal.plugin import RevenueSyncPlugin
from revsync.temporal.workers import budget_line, run_until
from tests.helpers.e2e import KEY, connect_workspace, sync


async def stored_rate(client: Client, queue: str) -> float:
    described = await client.workflow_service.describe_task_queue(DescribeTaskQueueRequest(
        namespace=client.namespace, task_queue=TaskQueue(name=queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY, report_config=True))
    return described.config.fairness_keys_rate_limit_default.rate_limit.requests_per_second


async def test_the_dev_server_holds_a_rate_per_account_on_both_stripe_queues(
    client: Client, settings: Settings
) -> None:
    plugin = RevenueSyncPlugin(settings)
    assert await plugin.resolve_budget(client) == BudgetScope(
        "account", "per-key rate limits set on the Stripe task queues")
    # 100 requests/s at 2 pages per activity; webhooks 100/s at 2 refetches per event.
    assert per_key_rates(settings) == {settings.stripe_task_queue: 50.0,
                                       settings.stripe_events_task_queue: 50.0}
    for queue, rate in per_key_rates(settings).items():
        assert await stored_rate(client, queue) == rate
    config = plugin.configure_worker({"task_queue": settings.stripe_task_queue})
    assert "max_task_queue_activities_per_second" not in config


async def test_a_server_without_task_queue_config_falls_back_to_the_fleet_rate(
    time_env: WorkflowEnvironment, settings: Settings
) -> None:
    plugin = RevenueSyncPlugin(settings.model_copy(
        update={"stripe_fleet_requests_per_second": 12.0}))
    budget = await plugin.resolve_budget(time_env.client)
    assert budget.scope == "fleet"
    assert budget.reason.startswith("the Temporal server refused the task queue config")
    config = plugin.configure_worker({"task_queue": settings.stripe_task_queue})
    assert config["max_task_queue_activities_per_second"] == 6.0  # 12/s, 2 pages each
    line = budget_line(plugin.settings, budget)
    assert "for the whole fleet" in line and "12.0/s" in line and budget.reason in line


async def test_the_account_scope_asked_for_where_it_cannot_hold_is_an_error(
    time_env: WorkflowEnvironment, settings: Settings
) -> None:
    with pytest.raises(BudgetUnavailable, match="refused the task queue config"):
        await apply_budget(time_env.client,
                           settings.model_copy(update={"stripe_budget_scope": "account"}))


async def test_a_stripe_worker_never_runs_without_a_budget(
    time_env: WorkflowEnvironment, settings: Settings
) -> None:
    """Built before the fallback was known, the worker has no rate: it refuses to start."""
    worker = Worker(time_env.client, task_queue=settings.stripe_task_queue,
                    plugins=[RevenueSyncPlugin(settings)])
    with pytest.raises(BudgetUnavailable, match="resolve_budget"):
        await worker.run()


def test_the_fleet_scope_by_setting_asks_the_server_nothing() -> None:
    settings = Settings(stripe_budget_scope="fleet")
    line = budget_line(settings, BudgetScope("fleet", "REVSYNC_STRIPE_BUDGET_SCOPE=fleet"))
    assert "REVSYNC_STRIPE_BUDGET_SCOPE=fleet" in line
    config = RevenueSyncPlugin(settings).configure_worker(
        {"task_queue": settings.stripe_task_queue})
    # 10/s, 3 pages each
    assert config["max_task_queue_activities_per_second"] == pytest.approx(10 / 3)


async def test_a_sync_in_the_fleet_scope_completes_under_the_worker_side_rate(
    temporal_env: WorkflowEnvironment, settings: Settings
) -> None:
    state = FakeStripe.seeded(customers=30, seed=4, api_keys=[KEY])
    with FakeStripeServer(state) as fake:
        fleet = settings.model_copy(update={"stripe_budget_scope": "fleet",
                                            "stripe_api_base": fake.base_url})
        workspace = connect_workspace(fleet, "fleet")
        client = await connect(fleet, target_host=temporal_env.client.service_client.config
                               .target_host)
        stop = asyncio.Event()
        running = asyncio.create_task(run_until(client, fleet, stop))
        try:
            report = await sync(client, fleet, workspace)
        finally:
            stop.set()
            await running
    assert report.status == "completed"
    assert sum(s.objects for s in report.streams if s.name == "customers") == 30
    # Nothing was written into the server's config: the worker-side rate held it.
    assert await stored_rate(client, fleet.stripe_task_queue) == 0.0


async def test_a_rate_a_32_bit_float_cannot_hold_exactly_is_taken(
    client: Client, settings: Settings
) -> None:
    """The server keeps rates as 32-bit floats: 100 requests/s at 3 pages per activity is
    stored as 33.333332, and that is the budget, not a refusal."""
    thirds = settings.model_copy(update={"pages_per_activity": 3})
    scope = await RevenueSyncPlugin(thirds).resolve_budget(client)
    assert scope.scope == "account"
    stored = await stored_rate(client, thirds.stripe_task_queue)
    assert stored != 100 / 3 and abs(stored - 100 / 3) < 1e-5
