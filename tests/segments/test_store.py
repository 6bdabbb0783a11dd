"""The segment store on both databases: CRUD, counting, paging, errors that change
nothing, workspace scoping; and the defaults created once by `connect`."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from fake_stripe import FakeStripeServer
from revsync.segments import (
    DuplicateSegmentName,
    InvalidSegmentName,
    SegmentError,
    SegmentNotFound,
    SegmentStoreError,
    ensure_default_segments,
    store,
)
from revsync.settings import Settings
from revsync.store import db, workspaces
from revsync.store.models import Segment, Workspace
from tests.helpers.e2e import connect_workspace
from tests.segments import dataset


@pytest.fixture
def session(database_url: str) -> Iterator[tuple[Session, int, int]]:
    """A session, the data set's workspace id and the other workspace's id."""
    workspace_id = dataset.load(database_url)
    with db.session(database_url) as session:
        other = workspaces.by_name(session, "elsewhere").id
        assert other is not None
        yield session, workspace_id, other


def names(session: Session, workspace_id: int) -> list[str]:
    return [s.name for s in store.list_segments(session, workspace_id)]


def test_create_list_edit_delete(session: tuple[Session, int, int]) -> None:
    s, ws, other = session
    big = store.create(s, ws, "  Big spenders ", "ltv > 1000")
    assert big.id is not None and big.name == "Big spenders"
    low = store.create(s, ws, "Low", "mrr < 50 AND tag = customer")
    store.create(s, other, "Big spenders", "ltv > 1")  # names are per workspace
    assert names(s, ws) == ["Big spenders", "Low"]
    assert store.get(s, ws, big.id).expression == "ltv > 1000"
    assert store.by_name(s, ws, "Low").id == low.id

    created_at = big.created_at
    edited = store.edit(s, ws, big.id, name="Whales", expression="ltv > 2000")
    assert (edited.name, edited.expression) == ("Whales", "ltv > 2000")
    assert edited.created_at == created_at and edited.updated_at >= created_at
    store.edit(s, ws, big.id, expression="ltv > 1000")
    assert store.get(s, ws, big.id).name == "Whales"
    store.edit(s, ws, big.id, name="Whales")  # its own name is not a duplicate

    store.delete(s, ws, big.id)
    assert names(s, ws) == ["Low"]
    with pytest.raises(SegmentNotFound):
        store.get(s, ws, big.id)


def test_count_and_members(session: tuple[Session, int, int]) -> None:
    s, ws, _ = session
    segment = store.create(s, ws, "High Spenders", "ltv > 500")
    assert segment.id is not None
    assert store.count(s, ws, segment.id, now=dataset.NOW) == 7
    first = store.members(s, ws, segment.id, limit=4, now=dataset.NOW)
    assert [m.email for m in first.members] == [f"{x}@x.test" for x in "abcf"]
    a = first.members[0]
    assert (a.mrr, a.ltv, a.tags) == (Decimal("120.00"), Decimal("1500.00"),
                                      ["customer", "saas.monthly"])
    assert first.members[2].tags == ["churned", "vip"]  # both sources
    assert first.next_after == first.members[-1].id
    second = store.members(s, ws, segment.id, after=first.next_after, limit=4,
                           now=dataset.NOW)
    assert [m.email for m in second.members] == [f"{x}@x.test" for x in "ghi"]
    assert second.next_after is None
    h = second.members[1]
    assert (h.mrr, h.ltv, h.tags) == (None, Decimal("1000.00"), ["churned"])


@pytest.mark.parametrize("limit, after", [(0, 0), (501, 0), (10, -1)])
def test_page_bounds(session: tuple[Session, int, int], limit: int, after: int) -> None:
    s, ws, _ = session
    segment = store.create(s, ws, "All", "ltv > 0")
    assert segment.id is not None
    with pytest.raises(SegmentStoreError):
        store.members(s, ws, segment.id, after=after, limit=limit)
    assert len(store.members(s, ws, segment.id, limit=500).members) == 7


def test_errors_change_nothing(session: tuple[Session, int, int]) -> None:
    s, ws, other = session
    segment = store.create(s, ws, "Low", "mrr < 50")
    foreign = store.create(s, other, "Theirs", "mrr < 50")
    assert segment.id is not None and foreign.id is not None
    with pytest.raises(DuplicateSegmentName, match="'Low' already exists"):
        store.create(s, ws, " Low", "mrr < 10")
    with pytest.raises(SegmentError, match="position 7"):
        store.create(s, ws, "Bad", "mrr < ")
    for bad_name in ("", "   ", "x" * 201, "tab\there", "bell\x07"):
        with pytest.raises(InvalidSegmentName):
            store.create(s, ws, bad_name, "mrr < 5")
    other_one = store.create(s, ws, "Other", "ltv > 5")
    assert other_one.id is not None
    with pytest.raises(DuplicateSegmentName):
        store.edit(s, ws, other_one.id, name="Low")
    with pytest.raises(SegmentError):
        store.edit(s, ws, segment.id, name="Renamed", expression="mrr <<< 5")
    with pytest.raises(SegmentStoreError, match="nothing to change"):
        store.edit(s, ws, segment.id)
    for action in (lambda: store.get(s, ws, foreign.id), lambda: store.delete(s, ws, 999),
                   lambda: store.edit(s, ws, foreign.id, name="Mine"),
                   lambda: store.count(s, ws, foreign.id),
                   lambda: store.members(s, ws, foreign.id),
                   lambda: store.by_name(s, ws, "Theirs")):
        with pytest.raises(SegmentNotFound):
            action()
    s.expire_all()
    assert [(x.name, x.expression) for x in store.list_segments(s, ws)] == [
        ("Low", "mrr < 50"), ("Other", "ltv > 5")]
    assert [(x.name, x.expression) for x in store.list_segments(s, other)] == [
        ("Theirs", "mrr < 50")]


def defaults(settings: Settings, name: str) -> list[tuple[str, str, str | None]]:
    with db.session(settings.resolved_database_url) as session:
        ws = workspaces.by_name(session, name)
        return [(s.name, s.expression, s.default_key)
                for s in store.list_segments(session, ws.id or 0)]


def test_connect_creates_the_defaults_once(settings: Settings, fake: FakeStripeServer) -> None:
    connect_workspace(settings, "shop")
    assert defaults(settings, "shop") == [  # the three seed segments, by name
        ("Churned High Spenders", "tag = churned AND ltv > 500", "churned_high_spenders"),
        ("Customers (Low MRR)", "mrr < 50 AND tag = customer", "customers_low_mrr"),
        ("High Spenders", "ltv > 500", "high_spenders"),
    ]

    url = settings.resolved_database_url
    with db.session(url) as session:
        ws = workspaces.by_name(session, "shop")
        assert ws.id is not None and ws.default_segments_created
        high = store.by_name(session, ws.id, "High Spenders")
        store.edit(session, ws.id, high.id or 0, expression="ltv > 900")
        store.delete(session, ws.id, store.by_name(session, ws.id, "Churned High Spenders").id
                     or 0)

    connect_workspace(settings, "shop")  # connecting again
    assert defaults(settings, "shop") == [
        ("Customers (Low MRR)", "mrr < 50 AND tag = customer", "customers_low_mrr"),
        ("High Spenders", "ltv > 900", "high_spenders"),
    ]
    assert ensure_default_segments(url, "shop") == 0


def test_a_taken_default_name_is_left_alone(settings: Settings) -> None:
    url = settings.resolved_database_url
    with db.session(url) as session:
        ws = workspaces.get_or_create(session, "early")
        assert ws.id is not None
        store.create(session, ws.id, "High Spenders", "ltv > 10000")
    assert ensure_default_segments(url, "early") == 2
    assert ("High Spenders", "ltv > 10000", None) in defaults(settings, "early")
    with db.session(url) as session:
        workspace = session.exec(select(Workspace).where(Workspace.name == "early")).one()
        assert workspace.default_segments_created
        assert len(session.exec(select(Segment)).all()) == 3
