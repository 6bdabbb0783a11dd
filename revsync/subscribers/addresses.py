"""What counts as a subscriber's email address and external id, for every way in (CSV
import, the API): one rule, so a row the CLI refuses is refused by the API too.

Addresses are checked with `email-validator` (syntax only, no DNS lookup): display
names, doubled `@`, bidirectional overrides and zero-width characters are refused.
"""

from __future__ import annotations

import unicodedata

from email_validator import EmailNotValidError, validate_email

from revsync.revenue import normalize_email
from revsync.store.models import EXTERNAL_ID_LENGTH

MAX_EMAIL_LENGTH = 320


class Invalid(ValueError):
    """Not an address, or not an external id; the message says which and why."""


def valid_email(raw: str | None) -> str | None:
    """The trimmed address, or None when it is not one."""
    email = (raw or "").strip()
    if not email or len(email) > MAX_EMAIL_LENGTH:
        return None
    try:
        # Syntax only (no DNS). `.test` domains (RFC 6761) are allowed for staging lists;
        # other special-use names (localhost, .local, .invalid) are not addresses.
        validate_email(email, check_deliverability=False, test_environment=True)
    except EmailNotValidError:
        return None
    return email


def exact_email(raw: str) -> bool:
    """Whether `raw` is an address as it stands: nothing to trim, no space, line break or
    control character anywhere. For addresses the product sends to as given (a rule's
    team recipients, `REVSYNC_TEAM_ALERT_TO`): trimming one quietly would hide a pasted
    line break, and keeping it fails every send."""
    if any(c.isspace() or unicodedata.category(c)[0] == "C" for c in raw):
        return False
    return valid_email(raw) == raw


def checked_email(raw: str | None) -> tuple[str, str]:
    """The address and its normalised form (what matches Stripe customers); `Invalid`
    saying why it is not an address."""
    email = valid_email(raw)
    norm = normalize_email(email)
    if email is None or norm is None:
        raise Invalid(f"not an email address: {raw!r}")
    return email, norm


def checked_external_id(raw: str) -> str:
    """1-255 characters, none of them control or format characters (they show in
    tables and logs); `Invalid` saying why not."""
    if not 1 <= len(raw) <= EXTERNAL_ID_LENGTH:
        raise Invalid(f"external_id must be 1-{EXTERNAL_ID_LENGTH} characters")
    if raw != raw.strip() or any(unicodedata.category(c)[0] == "C" for c in raw):
        raise Invalid("external_id has spaces around it or control characters")
    return raw
