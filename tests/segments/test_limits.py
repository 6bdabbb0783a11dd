"""What one segment may cost: a cap on the comparisons that run a subquery per subscriber
(refused where an expression is given, with its position), and a time limit on every
segment query (the database stops it; the API answers 422), on both databases."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import insert, text
from sqlmodel import Session
from temporalio.client import Client

from revsync.segments import DEFAULTS, SegmentError, SegmentTooSlow, limits, parse
from revsync.settings import Settings
from revsync.store import db, workspaces
from revsync.store.models import Subscriber
from tests.helpers.webhooks import webhook_client

TOKEN = "test-platform-key-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
DOCS = Path(__file__).parents[2] / "docs"


def tags(count: int, first: int = 0) -> str:
    return " OR ".join(f"tag = t{i}" for i in range(first, first + count))


def test_defaults_and_documented_examples_are_within_the_cap() -> None:
    comparison = r"[A-Za-z_][\w.]* (?:!=|>=|<=|=|>|<) [^`\"]+"
    documented = re.findall(f"`({comparison})`", (DOCS / "segments.md").read_text())
    documented += re.findall(f'"(?:stop_)?condition": "({comparison})"',
                             (DOCS / "automations.md").read_text())
    assert len(documented) >= 8
    for expression in [*documented, *(e for _, _, e in DEFAULTS)]:
        parse(expression, max_subqueries=1)


def test_the_cap_counts_subqueries_and_points_at_the_first_past_it() -> None:
    parse(tags(20))
    # Stripe-managed tags and revenue columns are on the row: no subquery, no cost.
    parse(" OR ".join(["tag = churned", "mrr > 5", "plan = pro"] * 40))
    with pytest.raises(SegmentError) as caught:
        parse(tags(20) + " AND opened_emails_last_30_days > 2")
    problem = caught.value
    assert problem.position == len(tags(20)) + len(" AND ") + 1
    assert problem.found == "opened_emails_last_30_days"
    assert "at most 20" in problem.message and "REVSYNC_SEGMENT_MAX_SUBQUERIES" in (
        problem.message)
    with pytest.raises(SegmentError):
        parse(tags(3), max_subqueries=2)


@pytest.fixture
def session(settings: Settings) -> Iterator[Session]:
    with db.session(settings.resolved_database_url) as session:
        yield session


def slow_statement(session: Session) -> Any:
    if session.connection().dialect.name == "postgresql":
        return text("SELECT pg_sleep(5)")
    return text("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                "WHERE i < 100000000) SELECT count(*) FROM n")


def test_the_database_stops_a_query_at_the_time_limit(session: Session) -> None:
    with (pytest.raises(SegmentTooSlow, match=r"longer than 0\.2 s"),
          limits.time_limited(session, 0.2)):
        session.execute(slow_statement(session)).all()
    # The session goes on, without the limit outside the block.
    with limits.time_limited(session, 5):
        assert session.execute(text("SELECT 1")).scalar_one() == 1
    if session.connection().dialect.name == "postgresql":
        assert session.execute(text("SHOW statement_timeout")).scalar_one() == "0"


def test_postgresql_compiles_no_segment_query_and_puts_jit_back(session: Session) -> None:
    """JIT compilation takes longer than a segment query runs (see `time_limited`)."""
    if session.connection().dialect.name != "postgresql":
        pytest.skip("JIT is PostgreSQL's")
    jit = session.execute(text("SHOW jit")).scalar_one()
    with limits.time_limited(session, 5):
        assert session.execute(text("SHOW jit")).scalar_one() == "off"
    assert session.execute(text("SHOW jit")).scalar_one() == jit


@pytest.fixture
async def http(settings: Settings, client: Client) -> AsyncIterator[httpx.AsyncClient]:
    with db.session(settings.resolved_database_url) as session:
        workspace = workspaces.get_or_create(session, "shop")
        session.execute(insert(Subscriber), [
            {"workspace_id": workspace.id, "email": f"s{i}@x.test",
             "email_norm": f"s{i}@x.test", "attributes": {}, "stripe_metadata": {},
             "stripe_customer_ids": []} for i in range(30_000)])
        session.commit()
    with_token = settings.model_copy(update={"platform_key": SecretStr(TOKEN)})
    async with webhook_client(with_token, client) as http:
        yield http


async def test_every_route_refuses_a_costly_expression(http: httpx.AsyncClient) -> None:
    costly = tags(21)
    answers = [
        await http.post("/api/workspaces/shop/segments", headers=AUTH,
                        json={"name": "many", "expression": costly}),
        await http.post("/api/workspaces/shop/segments/check", headers=AUTH,
                        json={"expression": costly}),
        await http.get("/api/workspaces/shop/subscribers", headers=AUTH,
                       params={"segment": costly}),
    ]
    for answer in answers:
        assert answer.status_code == 422, answer.text
        error = answer.json()["error"]
        assert error["position"] == len(tags(20)) + len(" OR ") + 1
        assert "at most 20" in error["message"]
    rule = {"name": "r", "trigger": {"kind": "payment"}, "condition": costly,
            "action": {"kind": "email", "template": "thank_you"}}
    answer = await http.post("/api/workspaces/shop/automations/rules", headers=AUTH, json=rule)
    assert answer.status_code == 422 and "at most 20" in answer.text


async def test_a_segment_past_the_time_limit_is_refused(
        http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    expression = " AND ".join(f"tag != t{i}" for i in range(20))  # everyone, slowly
    made = await http.post("/api/workspaces/shop/segments", headers=AUTH,
                           json={"name": "slow", "expression": expression})
    base = f"/api/workspaces/shop/segments/{made.json()['id']}"
    assert (await http.get(f"{base}/count", headers=AUTH)).json() == {"count": 30_000}

    quick = Settings(segment_statement_seconds=0.001)
    monkeypatch.setattr(limits, "get_settings", lambda: quick)
    answers = [await http.get(f"{base}/count", headers=AUTH),
               await http.get(f"{base}/members", headers=AUTH, params={"limit": 500}),
               await http.get("/api/workspaces/shop/subscribers", headers=AUTH,
                              params={"segment": expression, "limit": 1000})]
    for answer in answers:
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["message"].startswith(
            "the segment took longer than 0.001 s")
