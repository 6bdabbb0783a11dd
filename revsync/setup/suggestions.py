"""Metadata keys worth carrying over, sampled from recent customers and subscriptions.

Pure: the caller reads one page of each (two list requests), never the whole account.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

EXAMPLE_LENGTH = 60


@dataclass(frozen=True)
class KeySuggestion:
    key: str
    source: str  # customer | subscription
    filled: int  # records of the sample with a non-empty value
    sampled: int
    example: str


def suggest(customers: Iterable[Mapping[str, Any]],
            subscriptions: Iterable[Mapping[str, Any]]) -> list[KeySuggestion]:
    """Keys by how often they are filled, most first; one example value each."""
    found: list[KeySuggestion] = []
    for source, records in (("customer", list(customers)), ("subscription", list(subscriptions))):
        counts: dict[str, int] = {}
        examples: dict[str, str] = {}
        for record in records:
            metadata = record.get("metadata")
            if not isinstance(metadata, dict):
                continue
            for key, value in metadata.items():
                if isinstance(key, str) and isinstance(value, str) and value.strip():
                    counts[key] = counts.get(key, 0) + 1
                    examples.setdefault(key, value[:EXAMPLE_LENGTH])
        found += [KeySuggestion(k, source, n, len(records), examples[k])
                  for k, n in counts.items()]
    return sorted(found, key=lambda s: (-s.filled, s.key, s.source))
