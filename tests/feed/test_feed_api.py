"""The change feed's HTTP routes over the app, on SQLite and PostgreSQL: paging by
cursor, who may read which feed, refusals of odd cursors and limits, the retention.

Entries are recorded the way derivations record them (`changes.record_transitions`), by
hand, so each page's content is known exactly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal as D
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import text, update
from sqlmodel import select
from temporalio.client import Client

from revsync.feed import retention
from revsync.settings import Settings
from revsync.store import db, workspaces
from revsync.store.models import (
    AutomationFire,
    RuleOutcome,
    Subscriber,
    SubscriberTransition,
    utcnow,
)
from revsync.subscribers.changes import Transition, record_transitions
from tests.web.test_workspace_keys import PLATFORM, PLATFORM_KEY, bearer, mint, refusal


@pytest.fixture
def platform(settings: Settings) -> Settings:
    return settings.model_copy(update={"platform_key": SecretStr(PLATFORM_KEY)})


@pytest.fixture
async def http(platform: Settings, client: Client) -> AsyncIterator[httpx.AsyncClient]:
    from revsync.web.app import create_app

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(platform, client)),
                                 base_url="http://revsync.test") as http:
        yield http


def subscriber(settings: Settings, workspace: str, email: str, external_id: str | None) -> int:
    with db.session(settings.resolved_database_url) as session:
        ws = workspaces.get_or_create(session, workspace)
        row = Subscriber(workspace_id=ws.id or 0, email=email, email_norm=email,
                         external_id=external_id)
        session.add(row)
        session.commit()
        return row.id or 0


def record(settings: Settings, workspace: str, source: str, subscriber_id: int,
           mrr: str, fire: bool = True) -> None:
    """One change of `subscriber_id`'s MRR from nothing to `mrr`, tagged customer."""
    with db.session(settings.resolved_database_url) as session:
        ws = workspaces.by_name(session, workspace)
        record_transitions(session, ws.id or 0, source, [Transition(
            subscriber_id, frozenset({"customer"}), frozenset(), mrr_after=D(mrr),
            ltv_after=D(mrr), tags_after=frozenset({"customer"}),
            metadata_after={"plan": "gold"})], fire)
        session.commit()


async def page(http: httpx.AsyncClient, path: str, headers: dict[str, str], **params: Any
               ) -> dict[str, Any]:
    answer = await http.get(path, params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_pages_follow_the_cursor_and_a_caught_up_reader_waits_at_the_end(
    http: httpx.AsyncClient, platform: Settings
) -> None:
    ann = subscriber(platform, "alpha", "ann@example.com", "crm-ann")
    ben = subscriber(platform, "alpha", "ben@example.com", None)
    for n, (who, mrr) in enumerate([(ann, "10.00"), (ben, "20.00"), (ann, "30.00")]):
        record(platform, "alpha", f"evt_{n}", who, mrr)
    path = "/api/workspaces/alpha/changes"
    first = await page(http, path, PLATFORM, limit=2)
    assert first["has_more"] is True
    assert [(c["subscriber_id"], c["external_id"], c["cause"], c["cause_id"], c["after"]["mrr"])
            for c in first["changes"]] == [(ann, "crm-ann", "stripe_event", "evt_0", "10.00"),
                                          (ben, None, "stripe_event", "evt_1", "20.00")]
    assert first["changes"][0]["before"] == {"mrr": None, "ltv": None, "tags": [],
                                             "metadata": {}}
    assert first["changes"][0]["after"] == {"mrr": "10.00", "ltv": "10.00",
                                            "tags": ["customer"], "metadata": {"plan": "gold"}}
    second = await page(http, path, PLATFORM, after=first["next"], limit=2)
    assert [c["after"]["mrr"] for c in second["changes"]] == ["30.00"]
    assert second["has_more"] is False
    caught_up = await page(http, path, PLATFORM, after=second["next"])
    assert caught_up["changes"] == [] and caught_up["has_more"] is False
    # A change made later is found from the caught-up reader's cursor.
    record(platform, "alpha", "evt_3", ben, "40.00")
    later = await page(http, path, PLATFORM, after=caught_up["next"])
    assert [c["cause_id"] for c in later["changes"]] == ["evt_3"]
    positions = [c["position"] for c in first["changes"] + second["changes"]
                 + later["changes"]]
    assert positions == sorted(positions) and len(set(positions)) == 4


async def test_each_key_reads_its_own_feed_and_the_platform_reads_all(
    http: httpx.AsyncClient, platform: Settings
) -> None:
    ann = subscriber(platform, "alpha", "ann@example.com", None)
    bob = subscriber(platform, "beta", "bob@example.com", None)
    record(platform, "alpha", "sync/1", ann, "10.00", fire=False)
    record(platform, "beta", "evt_b", bob, "20.00")
    read_alpha = bearer(str((await mint(http, "alpha", "read"))["secret"]))
    alpha = await page(http, "/api/workspaces/alpha/changes", read_alpha)
    assert [(c["workspace"], c["cause"], c["cause_id"], c["silent"])
            for c in alpha["changes"]] == [("alpha", "sync", "1", True)]
    other = await http.get("/api/workspaces/beta/changes", headers=read_alpha)
    assert refusal(other) == (404, "unknown workspace")
    assert refusal(await http.get("/api/changes", headers=read_alpha)) == (
        404, "unknown workspace")
    assert (await http.get("/api/changes")).status_code == 401
    everything = await page(http, "/api/changes", PLATFORM)
    assert [(c["workspace"], c["subscriber_id"]) for c in everything["changes"]] == [
        ("alpha", ann), ("beta", bob)]


@pytest.mark.parametrize("after, limit, message", [
    ("12", None, "after must be a cursor from a previous page, not '12'"),
    ("12.x", None, "after must be a cursor from a previous page, not '12.x'"),
    ("-1.5", None, "after must be a cursor from a previous page, not '-1.5'"),
    ("1" * 30 + ".1", None, "after must be a cursor from a previous page"),
    ("1.1 ", None, "after must be a cursor from a previous page"),
    (None, "0", "limit must be between 1 and 1000, not 0"),
    (None, "1001", "limit must be between 1 and 1000, not 1001"),
    (None, "ten", "limit must be an integer, not 'ten'"),
])
async def test_odd_cursors_and_limits_are_refused(
    http: httpx.AsyncClient, platform: Settings, after: str | None, limit: str | None,
    message: str,
) -> None:
    subscriber(platform, "alpha", "ann@example.com", None)
    params = {k: v for k, v in (("after", after), ("limit", limit)) if v is not None}
    for path in ("/api/workspaces/alpha/changes", "/api/changes"):
        status, text = refusal(await http.get(path, params=params, headers=PLATFORM))
        assert status == 422 and text.startswith(message), (path, text)


async def test_a_cursor_older_than_the_retention_is_gone(
    http: httpx.AsyncClient, platform: Settings
) -> None:
    ann = subscriber(platform, "alpha", "ann@example.com", None)
    record(platform, "alpha", "evt_old", ann, "10.00")
    record(platform, "alpha", "evt_new", ann, "20.00")
    # Thirty-one days on, a reader that read the first entry then comes back.
    with db.session(platform.resolved_database_url) as session:
        session.execute(update(SubscriberTransition).values(
            created_at=utcnow() - timedelta(days=31)))
        session.commit()
    first = await page(http, "/api/workspaces/alpha/changes", PLATFORM, limit=1)
    stale = first["next"]
    for path, listed in (("/api/workspaces/alpha/changes", "/api/workspaces/alpha/subscribers"),
                         ("/api/changes", "/api/workspaces/{workspace}/subscribers")):
        answer = await http.get(path, params={"after": stale}, headers=PLATFORM)
        assert answer.status_code == 410
        assert answer.json()["error"]["list"] == listed
        assert "older than the feed's retention (30 days)" in answer.json()["error"]["message"]
    # The sync's prune forgets both entries; a new reader starts from what is kept.
    with db.session(platform.resolved_database_url) as session:
        ws = workspaces.by_name(session, "alpha")
        assert retention.prune(session, ws.id or 0, timedelta(days=30)) == 2
        session.commit()
    assert (await page(http, "/api/workspaces/alpha/changes", PLATFORM))["changes"] == []


async def test_positions_go_past_32_bits(http: httpx.AsyncClient, platform: Settings) -> None:
    """A platform dedupes on positions, so they must never wrap: past 2**31 the feed, the
    rule tables naming a transition and the sink's cursor keep them."""
    ann = subscriber(platform, "alpha", "ann@example.com", None)
    far = 3_000_000_000
    with db.session(platform.resolved_database_url) as session:
        ws = workspaces.by_name(session, "alpha").id or 0
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT setval('subscriber_transition_id_seq', :v)"),
                            {"v": far})
        else:  # SQLite hands out one past the largest key
            session.add(SubscriberTransition(id=far, workspace_id=ws, subscriber_id=ann,
                                             source_id="evt_seed"))
        session.commit()
    record(platform, "alpha", "evt_far", ann, "10.00")
    change = (await page(http, "/api/workspaces/alpha/changes", PLATFORM))["changes"][-1]
    assert (change["cause_id"], change["position"]) == ("evt_far", far + 1)
    with db.session(platform.resolved_database_url) as session:
        session.add(RuleOutcome(workspace_id=ws, rule_id=1, subscriber_id=ann,
                                transition_id=far + 1, step=0, outcome="sent"))
        session.add(AutomationFire(workspace_id=ws, automation="rule-1", subscriber_id=ann,
                                   key="once", transition_id=far + 1))
        session.commit()
        assert session.exec(select(RuleOutcome.transition_id)).one() == far + 1
