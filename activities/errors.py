"""Turn domain errors into Temporal failures a retry cannot fix."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import stripe
from temporalio.exceptions import ApplicationError

from revsync.revenue import RevenueError
from revsync.store.keystore import KeyStoreError
from revsync.store.workspaces import WorkspaceError

# Retrying cannot fix a revoked key, a missing workspace or an undecryptable secret.
PERMANENT: tuple[type[Exception], ...] = (
    stripe.AuthenticationError,
    stripe.PermissionError,
    stripe.InvalidRequestError,  # a request Stripe refuses will be refused again
    WorkspaceError,
    KeyStoreError,
    RevenueError,  # a rule that cannot give a number for the workspace's options
)


@contextmanager
def permanent_errors() -> Iterator[None]:
    """Re-raise permanent errors as non-retryable, with messages free of secrets."""
    try:
        yield
    except PERMANENT as error:
        message = getattr(error, "user_message", None) or str(error)
        raise ApplicationError(message, type=type(error).__name__, non_retryable=True) from None
