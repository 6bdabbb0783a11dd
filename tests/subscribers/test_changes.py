"""Writing a batch of derivations and its feed entries, on SQLite and PostgreSQL: values
that a batch carries as text (PostgreSQL reads the batch from one JSON document) come
back exactly as written.
"""

from __future__ import annotations

from decimal import Decimal as D

from sqlmodel import Session, col, select

from revsync.revenue import Derived
from revsync.settings import Settings
from revsync.store import db, workspaces
from revsync.store.models import CustomerLink, Subscriber, SubscriberTag, SubscriberTransition
from revsync.subscribers import changes

# Quotes, a backslash, a newline, non-ASCII and a character outside the BMP.
ODD = 'say "hi"\\ there\nStraße 🎉'


def derived(mrr: str | None, ltv: str | None, tags: set[str], metadata: dict[str, str],
            customers: tuple[str, ...]) -> Derived:
    return Derived(eligible=bool(customers), mrr=None if mrr is None else D(mrr),
                   ltv=None if ltv is None else D(ltv), tags=frozenset(tags),
                   metadata=metadata, eligible_customer_ids=customers, unconverted={})


def test_a_batch_writes_exact_values_links_tags_and_feed_entries(database_url: str) -> None:
    url = Settings(database_url=database_url).resolved_database_url
    with db.session(url) as session:
        ws = workspaces.get_or_create(session, "w").id or 0
        ann = Subscriber(workspace_id=ws, email="ann@x.test", email_norm="ann@x.test",
                         stripe_customer_ids=["cus_gone"])
        bob = Subscriber(workspace_id=ws, email="bob@x.test", email_norm="bob@x.test")
        cat = Subscriber(workspace_id=ws, email="cat@x.test", email_norm="cat@x.test",
                         stripe_customer_ids=["cus_moved"])
        session.add_all([ann, bob, cat])
        session.flush()
        assert ann.id is not None and bob.id is not None and cat.id is not None
        session.add(CustomerLink(workspace_id=ws, customer_id="cus_gone", subscriber_id=ann.id))
        session.add(CustomerLink(workspace_id=ws, customer_id="cus_moved", subscriber_id=cat.id))
        session.add(SubscriberTag(subscriber_id=ann.id, tag="trial", source="stripe",
                                  workspace_id=ws))
        session.commit()
        outcomes = [
            changes.Outcome(ann, derived("12345678901.23", "0.10", {"customer"},
                                         {ODD: ODD, "plan": "gold"}, ("cus_ann",)),
                            frozenset({"trial"})),
            changes.Outcome(bob, derived("0.01", "99.99", {"customer", "churned"}, {},
                                         ("cus_bob", "cus_moved")), frozenset()),
        ]
        transitions, displaced = changes.write_all(session, ws, outcomes)
        left = changes.record_transitions(session, ws, "sync:1", transitions,
                                          asks_rules=lambda t: t.subscriber_id == bob.id)
        session.commit()
        ann_id, bob_id, cat_id = ann.id, bob.id, cat.id

    assert displaced == {cat_id}  # bob took cus_moved over from cat, outside the batch
    assert left == 1
    with db.session(url) as session:
        rows = {s.id: s for s in session.exec(select(Subscriber)).all()}
        assert (rows[ann_id].mrr, rows[ann_id].ltv) == (D("12345678901.23"), D("0.10"))
        assert rows[ann_id].stripe_metadata == {ODD: ODD, "plan": "gold"}
        assert rows[ann_id].stripe_customer_ids == ["cus_ann"]
        assert (rows[bob_id].mrr, rows[bob_id].ltv) == (D("0.01"), D("99.99"))
        assert rows[bob_id].stripe_customer_ids == ["cus_bob", "cus_moved"]
        assert [rows[i].version for i in (ann_id, bob_id)] == [1, 1]
        assert rows[ann_id].mrr_changed_at == rows[ann_id].updated_at is not None
        assert rows[ann_id].tags_changed_at == rows[ann_id].updated_at
        assert _tags(session) == [(ann_id, "customer"), (bob_id, "churned"),
                                  (bob_id, "customer")]
        links = session.exec(select(CustomerLink.customer_id, CustomerLink.subscriber_id)
                             .order_by(col(CustomerLink.customer_id))).all()
        assert list(links) == [("cus_ann", ann_id), ("cus_bob", bob_id), ("cus_moved", bob_id)]
        entries = session.exec(select(SubscriberTransition)
                               .order_by(col(SubscriberTransition.id))).all()
        assert [e.subscriber_id for e in entries] == [ann_id, bob_id]
        first, second = entries
        assert (first.tags_added, first.tags_removed, first.tags_after) == (
            ["customer"], ["trial"], ["customer"])
        assert (first.mrr_before, first.mrr_after) == (None, D("12345678901.23"))
        assert (first.metadata_before, first.metadata_after) == ({}, {ODD: ODD, "plan": "gold"})
        assert second.tags_after == ["churned", "customer"]
        assert (second.ltv_before, second.ltv_after) == (None, D("99.99"))
        assert first.dispatched_at == first.created_at  # asks nothing of the rules
        assert second.dispatched_at is None and not second.silent
        assert first.source_id == second.source_id == "sync:1"


def _tags(session: Session) -> list[tuple[int, str]]:
    rows = session.exec(select(SubscriberTag.subscriber_id, SubscriberTag.tag)
                        .order_by(col(SubscriberTag.subscriber_id), col(SubscriberTag.tag)))
    return [(sid, tag) for sid, tag in rows.all()]
