"""The Stripe-managed tags as bits of `subscriber.tag_bits`, so a segment tests them on
the subscriber row (and its revenue indexes) instead of one subquery per subscriber.

The bits mean "has this tag from any source", like `tag = x`. The database keeps them
(triggers on `subscriber_tag`, created by the migrations with their own copy of this
table), so every writer of tags is covered. A bit's value is stored data: never
renumber one, only add new ones, each with a revision that rewrites the triggers.
"""

from __future__ import annotations

TAG_BITS: dict[str, int] = {
    "customer": 1,
    "trial": 2,
    "past-due": 4,
    "cancelled": 8,
    "churned": 16,
    "saas.monthly": 32,
    "saas.yearly": 64,
}


def bit(tag: str) -> int | None:
    """The tag's bit, or None for a tag kept only in `subscriber_tag`."""
    return TAG_BITS.get(tag)
