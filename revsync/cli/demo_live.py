"""The demo's live part: changes on the fake Stripe arrive as signed webhooks.

Every few seconds a customer's payment fails, a subscription is canceled or a
charge is refunded; the fake signs the events and POSTs them to the app, each event
becomes a workflow (visible in the Temporal UI), and the transitions it recorded are
printed as they land.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlmodel import col, select

from revsync.automations import mailer
from revsync.cli.console import console
from revsync.settings import Settings
from revsync.store import db
from revsync.store.models import Subscriber, SubscriberTransition, Workspace

if TYPE_CHECKING:
    # Only a type here: the demo hands in the state it created.
    from fake_stripe import FakeStripe

LIVE = ("active", "trialing")


def _payment_fails(fake: FakeStripe, rng: random.Random) -> str | None:
    subs = [r for r in fake.iter_records("subscription") if r.get("status") == "active"]
    if not subs:
        return None
    sub = rng.choice(subs)
    fake.update("subscription", sub["id"], {"status": "past_due"})
    fake.put("charge", {"customer": sub["customer"], "amount": 2900, "currency": "usd",
                        "amount_captured": 0, "status": "failed", "captured": False})
    return f"payment failed, {sub['id']} is past_due"


def _cancel(fake: FakeStripe, rng: random.Random) -> str | None:
    subs = [r for r in fake.iter_records("subscription") if r.get("status") in LIVE]
    if not subs:
        return None
    sub = rng.choice(subs)
    fake.cancel_subscription(sub["id"])
    return f"{sub['id']} canceled"


def _refund(fake: FakeStripe, rng: random.Random) -> str | None:
    charges = [r for r in fake.iter_records("charge")
               if r.get("status") == "succeeded" and not r.get("refunded")]
    if not charges:
        return None
    paid = fake.retrieve("charge", rng.choice(charges)["id"])
    left = paid["amount_captured"] - paid["amount_refunded"]
    if left <= 0:
        return None
    fake.refund(paid["id"], max(1, left // 2))
    return f"half of {paid['id']} refunded"


CHANGES: tuple[Callable[[FakeStripe, random.Random], str | None], ...] = (
    _payment_fails, _cancel, _refund)


def _new_transitions(settings: Settings, workspace: Workspace, after: int) -> int:
    with db.session(settings.resolved_database_url) as session:
        rows = session.exec(
            select(SubscriberTransition, Subscriber.email)
            .join(Subscriber, col(Subscriber.id) == SubscriberTransition.subscriber_id)
            .where(SubscriberTransition.workspace_id == workspace.id,
                   col(SubscriberTransition.id) > after)
            .order_by(col(SubscriberTransition.id))
        ).all()
    for transition, email in rows:
        tags = [f"+{t}" for t in transition.tags_added] + [f"-{t}" for t in
                                                           transition.tags_removed]
        console.print(
            f"  [green]{email}[/green] {' '.join(tags) or '(tags unchanged)'}  "
            f"mrr {transition.mrr_before} -> {transition.mrr_after}  "
            f"ltv {transition.ltv_before} -> {transition.ltv_after}  "
            f"[dim](event {transition.source_id})[/dim]"
        )
        assert transition.id is not None
        after = transition.id
    return after


async def simulate(
    fake: FakeStripe, settings: Settings, workspace: Workspace, seconds: float, seed: int,
    interval: float = 3.0,
) -> None:
    """Make a change every `interval` seconds for `seconds` (0: until interrupted)."""
    rng = random.Random(seed)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds if seconds else None
    seen = _last_id(settings, workspace)
    printed = _new_messages(settings, workspace, 0, show=False)
    while deadline is None or loop.time() < deadline:
        change = rng.choice(CHANGES)
        described = change(fake, rng)
        if described:
            console.print(f"[bold]stripe:[/bold] {described}")
        await asyncio.sleep(interval)
        seen = _new_transitions(settings, workspace, seen)
        printed = _new_messages(settings, workspace, printed)


def _new_messages(settings: Settings, workspace: Workspace, after: int, show: bool = True) -> int:
    """The demo has no SMTP server: print what the automations put in the outbox."""
    assert workspace.id is not None
    with db.session(settings.resolved_database_url) as session:
        messages = mailer.outbox(session, workspace.id, after, limit=1000)
    for message in messages:
        if show:
            console.print(f"  [magenta]outbox[/magenta] to {', '.join(message.recipients)}: "
                          f"{message.subject!r} [dim]({message.idempotency_key})[/dim]")
        assert message.id is not None
        after = message.id
    return after


def _last_id(settings: Settings, workspace: Workspace) -> int:
    with db.session(settings.resolved_database_url) as session:
        last = session.exec(
            select(SubscriberTransition.id)
            .where(SubscriberTransition.workspace_id == workspace.id)
            .order_by(col(SubscriberTransition.id).desc())
        ).first()
    return last or 0
