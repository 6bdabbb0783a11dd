"""Which attribute a name in an expression means, and what it may be compared with.

Built-in names are matched case-insensitively (a metadata key that collides with
`mrr`, `ltv`, `email` or `tag` is carried as `stripe_<key>`, see
`revsync.revenue.metadata`); every other name is a carried metadata key, matched
exactly as written.
"""

from __future__ import annotations

from enum import Enum


class Kind(Enum):
    MONEY = "money"  # a Numeric column of subscriber; NULL when unknown
    TAG = "tag"  # has / has not a tag, any source
    OPENS = "open"  # email_event kind counted over the last 30 days
    CLICKS = "click"
    METADATA = "metadata"  # a key of subscriber.stripe_metadata


BUILTINS: dict[str, Kind] = {
    "mrr": Kind.MONEY,
    "ltv": Kind.MONEY,
    "tag": Kind.TAG,
    "opened_emails_last_30_days": Kind.OPENS,
    "clicked_emails_last_30_days": Kind.CLICKS,
}



def canonical(name: str) -> str:
    """The name as stored in the tree: built-ins lower-case, metadata keys unchanged."""
    return name.lower() if name.lower() in BUILTINS else name


def kind(name: str) -> Kind:
    return BUILTINS.get(name.lower(), Kind.METADATA)
