"""Export each subscriber with its Stripe-managed values (jsonl or csv).

A CSV is opened in spreadsheets, which run a cell starting with `=`, `+`, `-`, `@` (or a
tab or carriage return before one) as a formula; an address like `=1+2@example.com` is
valid, and metadata comes from Stripe. Such a text cell is written with a leading single
quote, as OWASP advises ("CSV injection"): spreadsheets show it as text. `mrr` and `ltv`
are left alone: they are amounts this module formats from decimals (`-12.50` at most
looks like a formula), and quoting them would turn every negative amount into text that
no longer adds up.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Iterator
from typing import Any, TextIO

from sqlmodel import Session, col, select

from revsync.store.models import Subscriber, SubscriberTag

BATCH = 1000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def records(session: Session, workspace_id: int) -> Iterator[dict[str, Any]]:
    """Subscribers in id order, streamed in batches, with their Stripe-managed tags."""
    after = 0
    while True:
        batch = session.exec(
            select(Subscriber)
            .where(Subscriber.workspace_id == workspace_id, col(Subscriber.id) > after)
            .order_by(col(Subscriber.id))
            .limit(BATCH)
        ).all()
        if not batch:
            return
        ids = [s.id for s in batch]
        tags: dict[int, list[str]] = defaultdict(list)
        for row in session.exec(
            select(SubscriberTag)
            .where(col(SubscriberTag.subscriber_id).in_(ids), SubscriberTag.source == "stripe")
            .order_by(col(SubscriberTag.tag))
        ):
            tags[row.subscriber_id].append(row.tag)
        for subscriber in batch:
            assert subscriber.id is not None
            yield {
                "email": subscriber.email,
                "mrr": None if subscriber.mrr is None else f"{subscriber.mrr:.2f}",
                "ltv": None if subscriber.ltv is None else f"{subscriber.ltv:.2f}",
                "tags": tags.get(subscriber.id, []),
                "metadata": dict(subscriber.stripe_metadata),
            }
        after = batch[-1].id or after


def write(session: Session, workspace_id: int, out: TextIO, fmt: str) -> int:
    """Write every record; returns how many. CSV flattens tags and metadata."""
    count = 0
    writer: csv.DictWriter[str] | None = None
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=["email", "mrr", "ltv", "tags", "metadata"])
        writer.writeheader()
    for record in records(session, workspace_id):
        if writer is None:
            out.write(json.dumps(record, sort_keys=True) + "\n")
        else:
            writer.writerow({**record, "email": cell(record["email"]),
                             "tags": cell(" ".join(record["tags"])),
                             "metadata": cell(json.dumps(record["metadata"], sort_keys=True))})
        count += 1
    return count


def cell(text: str) -> str:
    """A CSV text cell that no spreadsheet reads as a formula."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text
