"""Ten hand-built subscribers (and one in another workspace) for evaluation tests.

    who mrr    ltv     tags (s = stripe, u = user)  metadata               events (age)
    a   120    1500    customer/s saas.monthly/s    plan=pro seats=10      open 2d, 5d; click 2d
    b   49.99  600     customer/s                   plan=basic seats=5.0   open 40d
    c   0      800     churned/s vip/u              seats=many             -
    d   NULL   NULL    trial/u                      -                      open 1d
    e   0      0       trial/s                      plan=trial             -
    f   200    2400    customer/s saas.yearly/s     seats=-3               open 29d; click 31d
                       churned/u
    g   50     501     past-due/s customer/s        plan=5                 -
    h   NULL   1000.00 churned/s                    plan="pro "            click 10d
    i   100    1000.01 -                            seats=1e3              open 30d (exactly), -1d
    j   75.5   NULL    customer/u                   seats=007              open 31d
    other workspace: k  mrr 1000, ltv 5000, churned/s customer/s, plan=pro, open 1d
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from revsync.store import db, workspaces
from revsync.store.models import EmailEvent, Subscriber, SubscriberTag
from tests.segments.reference import Person

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
D = timedelta(days=1)


def _p(email: str, mrr: str | None, ltv: str | None, tags: list[tuple[str, str]],
       metadata: dict[str, str], events: list[tuple[str, timedelta]]) -> Person:
    return Person(f"{email}@x.test", None if mrr is None else Decimal(mrr),
                  None if ltv is None else Decimal(ltv), tags, metadata, events)


PEOPLE = [
    _p("a", "120", "1500", [("customer", "stripe"), ("saas.monthly", "stripe")],
       {"plan": "pro", "seats": "10"}, [("open", 2 * D), ("open", 5 * D), ("click", 2 * D)]),
    _p("b", "49.99", "600", [("customer", "stripe")], {"plan": "basic", "seats": "5.0"},
       [("open", 40 * D)]),
    _p("c", "0", "800", [("churned", "stripe"), ("vip", "user")], {"seats": "many"}, []),
    _p("d", None, None, [("trial", "user")], {}, [("open", 1 * D)]),
    _p("e", "0", "0", [("trial", "stripe")], {"plan": "trial"}, []),
    _p("f", "200", "2400", [("customer", "stripe"), ("saas.yearly", "stripe"),
                            ("churned", "user")], {"seats": "-3"},
       [("open", 29 * D), ("click", 31 * D)]),
    _p("g", "50", "501", [("past-due", "stripe"), ("customer", "stripe")], {"plan": "5"}, []),
    _p("h", None, "1000.00", [("churned", "stripe")], {"plan": "pro "}, [("click", 10 * D)]),
    _p("i", "100", "1000.01", [], {"seats": "1e3"}, [("open", 30 * D), ("open", -1 * D)]),
    _p("j", "75.5", None, [("customer", "user")], {"seats": "007"}, [("open", 31 * D)]),
]
OTHER = _p("k", "1000", "5000", [("churned", "stripe"), ("customer", "stripe")],
           {"plan": "pro"}, [("open", 1 * D)])


def load(database_url: str, workspace: str = "shop") -> int:
    """Insert the people into `workspace` (and OTHER into 'elsewhere'); its id."""
    with db.session(database_url) as session:
        ws = workspaces.get_or_create(session, workspace)
        other = workspaces.get_or_create(session, "elsewhere")
        assert ws.id is not None and other.id is not None
        for workspace_id, people in ((ws.id, PEOPLE), (other.id, [OTHER])):
            for person in people:
                subscriber = Subscriber(workspace_id=workspace_id, email=person.email,
                                        email_norm=person.email, mrr=person.mrr,
                                        ltv=person.ltv, stripe_metadata=person.metadata)
                session.add(subscriber)
                session.flush()
                assert subscriber.id is not None
                for tag, source in person.tags:
                    session.add(SubscriberTag(subscriber_id=subscriber.id, tag=tag,
                                              source=source, workspace_id=workspace_id))
                for kind, age in person.events:
                    session.add(EmailEvent(workspace_id=workspace_id,
                                           subscriber_id=subscriber.id, kind=kind,
                                           occurred_at=NOW - age))
        session.commit()
        return ws.id
