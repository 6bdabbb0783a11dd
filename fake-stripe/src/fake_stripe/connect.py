"""Stripe Connect on the platform side: its connected accounts and their credentials.

Each account is a separate :class:`~.store.FakeStripe` with its own objects and
events. An account can exist without being connected (a Stripe user who has not
authorized the platform yet); while connected, the platform reaches it with its own
secret key plus ``Stripe-Account``, and the OAuth access tokens issued for it act as
that account's secret keys. Disconnecting revokes those tokens.
"""

from __future__ import annotations

import builtins
import secrets
import string
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from .store import FakeStripe

READ_ONLY: Final = "read_only"
READ_WRITE: Final = "read_write"
SCOPES: Final = frozenset({READ_ONLY, READ_WRITE})

_ALPHANUMERIC: Final = string.digits + string.ascii_letters


def random_token(prefix: str, length: int = 32) -> str:
    """``prefix`` + ``length`` random letters and digits (codes, tokens, keys)."""
    return prefix + "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))


@dataclass(frozen=True)
class AccessToken:
    """An OAuth access token: a secret key for one connected account."""

    token: str
    account_id: str
    scope: str
    #: The authorization code it was issued for (None when refreshed or made by a test).
    code: str | None = None


class ConnectedAccounts:
    """The platform's registry of accounts, connections (with scope) and access tokens."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._accounts: dict[str, FakeStripe] = {}
        self._scopes: dict[str, str] = {}
        self._tokens: dict[str, AccessToken] = {}
        self._publishable: dict[str, str] = {}

    # ---- accounts -----------------------------------------------------------------

    def add(self, account_id: str, account: FakeStripe) -> None:
        """Register an account (not connected yet); ids must be new ``acct_`` ids."""
        if not account_id.startswith("acct_"):
            raise ValueError(f"account ids start with 'acct_', got {account_id!r}")
        with self._lock:
            if account_id in self._accounts:
                raise ValueError(f"account {account_id} already exists")
            self._accounts[account_id] = account

    def __getitem__(self, account_id: str) -> FakeStripe:
        with self._lock:
            return self._accounts[account_id]

    def __contains__(self, account_id: object) -> bool:
        with self._lock:
            return account_id in self._accounts

    def ids(self) -> builtins.list[str]:
        """Every registered account id, in the order they were added."""
        with self._lock:
            return list(self._accounts)

    def owner_of_key(self, key: str) -> str | None:
        """The account whose own secret key (``FakeStripe.api_keys``) ``key`` is."""
        with self._lock:
            accounts = list(self._accounts.items())
        return next((i for i, account in accounts if key in account.api_keys), None)

    # ---- connections --------------------------------------------------------------

    def connect(self, account_id: str, scope: str = READ_WRITE) -> None:
        """Give the platform ``scope`` access to a registered account."""
        if scope not in SCOPES:
            raise ValueError(f"scope must be one of {sorted(SCOPES)}, got {scope!r}")
        with self._lock:
            if account_id not in self._accounts:
                raise KeyError(account_id)
            self._scopes[account_id] = scope

    def disconnect(self, account_id: str) -> bool:
        """Revoke the platform's access and every access token; False if not connected."""
        with self._lock:
            for token in [t for t, a in self._tokens.items() if a.account_id == account_id]:
                del self._tokens[token]
            return self._scopes.pop(account_id, None) is not None

    def is_connected(self, account_id: str) -> bool:
        """Whether the platform may act on ``account_id``."""
        with self._lock:
            return account_id in self._scopes

    def scope(self, account_id: str) -> str | None:
        """The connection's scope, or None when not connected."""
        with self._lock:
            return self._scopes.get(account_id)

    def connected_ids(self) -> builtins.list[str]:
        """Connected account ids, in the order they were added."""
        with self._lock:
            return [i for i in self._accounts if i in self._scopes]

    # ---- credentials --------------------------------------------------------------

    def issue_token(self, account_id: str, scope: str, *, code: str | None = None,
                    livemode: bool = False) -> AccessToken:
        """A new access token for a connected account."""
        prefix = "sk_live_" if livemode else "sk_test_"
        with self._lock:
            if account_id not in self._scopes:
                raise KeyError(account_id)
            access = AccessToken(random_token(prefix, 40), account_id, scope, code)
            self._tokens[access.token] = access
            return access

    def access_token(self, token: str) -> AccessToken | None:
        """The live access token ``token``, or None (unknown or revoked)."""
        with self._lock:
            return self._tokens.get(token)

    def revoke_code_tokens(self, code: str) -> int:
        """Revoke the tokens issued for an authorization code; returns how many."""
        with self._lock:
            doomed = [t for t, a in self._tokens.items() if a.code == code]
            for token in doomed:
                del self._tokens[token]
            return len(doomed)

    def publishable_key(self, account_id: str, *, livemode: bool = False) -> str:
        """The account's publishable key (stable per account and mode)."""
        prefix = "pk_live_" if livemode else "pk_test_"
        with self._lock:
            return self._publishable.setdefault(prefix + account_id,
                                                random_token(prefix, 40))
