"""What the subscribers API reads and writes, field by field, for one workspace: the
fixed fields, then the Stripe metadata keys the workspace carries (its own, so a host
can build its field mapping without reading a subscriber first).

Field names are the record's (`records`); a `segment` name says what a segment
expression calls the value, where it can filter on it.
"""

from __future__ import annotations

from typing import Any

from revsync.revenue.metadata import attribute_name
from revsync.store.models import Workspace
from revsync.subscribers.records import CLICKED, OPENED

FIXED: tuple[dict[str, Any], ...] = (
    {"name": "email", "type": "string", "writable": True, "segment": None,
     "description": "The address; matched to Stripe customers case-insensitively. A new "
                    "address is re-matched at once."},
    {"name": "external_id", "type": "string", "writable": True, "segment": None,
     "description": "The host platform's own id of the subscriber; unique in the "
                    "workspace when set."},
    {"name": "attributes", "type": "object of strings", "writable": True, "segment": None,
     "description": "The host's own fields; a write merges the keys it sends."},
    {"name": "mrr", "type": "decimal string", "writable": False, "segment": "mrr",
     "description": "Monthly recurring revenue in the reporting currency; null when no "
                    "eligible Stripe customer matches."},
    {"name": "ltv", "type": "decimal string", "writable": False, "segment": "ltv",
     "description": "Lifetime value: what the matched customers paid, less refunds."},
    {"name": "tags", "type": "array of {tag, source}", "writable": False, "segment": "tag",
     "description": "Tags with their source; source `stripe` are Stripe-managed "
                    "(customer, trial, past-due, cancelled, churned, saas.monthly, ...)."},
    {"name": "metadata", "type": "object of strings", "writable": False, "segment": None,
     "description": "The Stripe metadata keys the workspace carries (listed below)."},
    {"name": f"engagement.{OPENED}", "type": "integer", "writable": False,
     "segment": OPENED, "description": "Opens recorded in the last 30 days."},
    {"name": f"engagement.{CLICKED}", "type": "integer", "writable": False,
     "segment": CLICKED, "description": "Clicks recorded in the last 30 days."},
    {"name": "changed_at", "type": "object of ISO 8601 times", "writable": False,
     "segment": None, "description": "When mrr, ltv and the Stripe tags last changed."},
    {"name": "version", "type": "integer", "writable": False, "segment": None,
     "description": "Grows by one with each change of mrr, ltv, tags or metadata."},
    {"name": "unsubscribed", "type": "boolean", "writable": False, "segment": None,
     "description": "Set by the unsubscribe call; stops sequences and emails to it."},
)


def fields(workspace: Workspace) -> list[dict[str, Any]]:
    """The fixed fields and one per carried metadata key."""
    carried = [{"name": f"metadata.{attribute_name(key)}", "type": "string",
                "writable": False, "segment": attribute_name(key),
                "description": f"Stripe metadata `{key}` of the matched customer (or its "
                               "newest subscription)."}
               for key in workspace.metadata_keys]
    return [*FIXED, *carried]
