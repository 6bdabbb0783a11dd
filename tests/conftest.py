"""Real servers for the test session: Temporal dev server, SQLite and PostgreSQL.

PostgreSQL is required where `CI` is set (a clear failure, not a skip); elsewhere
its tests skip with the reason when no server answers at `REVSYNC_TEST_PG`.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import hypothesis
import psycopg
import pytest
from cryptography.fernet import Fernet
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.testing import WorkflowEnvironment

from fake_stripe import FakeStripe, FakeStripeServer
from revsync.settings import STRIPE_API_BASE, Settings
from revsync.store import db
from revsync.temporal.client import connect
from revsync.temporal.converter import data_converter
from revsync.temporal.dev_server import dynamic_config_args, temporal_binary
from revsync.temporal.workers import run_until
from tests.helpers.e2e import KEY

# No Hypothesis deadlines: a loaded 2-core runner makes any per-example time limit flaky,
# and tests never assert on wall-clock time.
hypothesis.settings.register_profile("revsync", deadline=None)
hypothesis.settings.load_profile("revsync")

PG_ADMIN = os.environ.get("REVSYNC_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    """One Temporal dev server for the whole test session."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(),
        ui=False,
        search_attributes=[SearchAttributeKey.for_keyword("RevsyncWorkspace")],
        dev_server_log_level="error",
        dev_server_extra_args=dynamic_config_args(),
    )
    try:
        yield env
    finally:
        await env.shutdown()


def time_server_binary() -> str:
    found = shutil.which("temporal-test-server") or str(
        Path(sys.executable).parent / "temporal-test-server")
    return found


@pytest.fixture(scope="session")
async def time_env() -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping server: a 7-day timer completes in milliseconds."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=time_server_binary(),
        data_converter=data_converter,
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh database for this test session, dropped at the end."""
    name = f"revsync_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI and not reachable at {PG_ADMIN}: {error}")
        pytest.skip(f"no PostgreSQL at {PG_ADMIN}: {error}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using this runs on SQLite and on PostgreSQL, on a migrated schema."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'revsync.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_url")
        reset_postgres(url)
    db.migrate(Settings(database_url=url).resolved_database_url)
    return url


def reset_postgres(url: str) -> None:
    """Drop every table so the next migration starts from nothing."""
    db.dispose_all()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")


@pytest.fixture
def fake() -> Iterator[FakeStripeServer]:
    """An empty fake Stripe that knows the tests' key; a module that needs another
    account or server options defines its own `fake`."""
    with FakeStripeServer(FakeStripe(api_keys=[KEY])) as server:
        yield server


@pytest.fixture
def stripe_api_base(request: pytest.FixtureRequest) -> str:
    """The deployment's Stripe in a test: the fake Stripe server of the test's `fake`
    fixture when it uses one (a module's fake is always named `fake`), else Stripe's
    (which no test reaches)."""
    if "fake" not in request.fixturenames:
        return STRIPE_API_BASE
    fake = request.getfixturevalue("fake")
    assert isinstance(fake, FakeStripeServer), "a module's `fake` is its FakeStripeServer"
    return fake.base_url


@pytest.fixture
def settings(database_url: str, tmp_path: Path, stripe_api_base: str) -> Settings:
    """Settings with a unique task queue, so tests sharing one dev server never mix, and
    the test's fake Stripe as the deployment's Stripe."""
    suffix = uuid.uuid4().hex[:8]
    return Settings(
        stripe_api_base=stripe_api_base,
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key=Fernet.generate_key().decode(),
        task_queue=f"revsync-{suffix}",
        stripe_task_queue=f"revsync-stripe-{suffix}",
        stripe_events_task_queue=f"revsync-events-{suffix}",
        stripe_event_requests_per_second=100,
        stripe_requests_per_second=100,
        pages_per_activity=2,
    )


@pytest.fixture
async def client(temporal_env: WorkflowEnvironment, settings: Settings) -> Client:
    return await plugin_client(temporal_env, settings)


async def plugin_client(temporal_env: WorkflowEnvironment, settings: Settings) -> Client:
    """A client of the session's dev server with the plugin installed: the workers made
    from it run with these settings."""
    target = temporal_env.client.service_client.config.target_host
    return await connect(settings, target_host=target)


@pytest.fixture
async def workers(client: Client, settings: Settings) -> AsyncIterator[None]:
    """Both workers of the plugin, running in this process for the test."""
    stop = asyncio.Event()
    task = asyncio.create_task(run_until(client, settings, stop))
    yield
    stop.set()
    await task
