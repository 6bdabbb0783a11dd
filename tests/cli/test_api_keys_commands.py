"""`api-keys create|list|revoke`: the secret printed once and stored only as a digest,
the list without secrets, revocation, and bad input refused with exit 2."""

from __future__ import annotations

import re

from revsync.credentials import api_keys
from revsync.credentials.secrets_hash import digest
from revsync.store import db
from tests.helpers.cli import run


def test_create_list_revoke(bare_shop: int, env: dict[str, str]) -> None:
    code, out = run("api-keys", "create", "--name", "reporting", "--scope", "read", "-w", "shop")
    assert code == 0, out
    secret = re.search(r"rsk_[0-9a-f]{8}_\S+", out)
    assert secret is not None
    with db.session(env["DATABASE_URL"]) as session:
        [key] = api_keys.listed(session, bare_shop)
    assert key.secret_hash == digest(secret.group()) and secret.group() not in key.secret_hash
    assert (key.name, key.scope, key.revoked_at) == ("reporting", "read", None)
    code, out = run("api-keys", "list", "-w", "shop")
    assert code == 0 and "reporting" in out and key.prefix in out
    assert secret.group() not in out
    code, out = run("api-keys", "revoke", str(key.id), "-w", "shop")
    assert code == 0 and f"API key {key.id} revoked" in out
    with db.session(env["DATABASE_URL"]) as session:
        [revoked] = api_keys.listed(session, bare_shop)
    assert revoked.revoked_at is not None


def test_bad_input_is_refused(bare_shop: int, env: dict[str, str]) -> None:
    assert run("api-keys", "create", "--name", "x", "--scope", "admin", "-w", "shop")[0] == 2
    code, out = run("api-keys", "create", "--name", "  ", "--scope", "read", "-w", "shop")
    assert code == 2 and "name must be 1 to 100 characters" in out
    code, out = run("api-keys", "create", "--name", "x", "--scope", "read", "-w", "nowhere")
    assert code == 2 and "no workspace named 'nowhere'" in out
    code, out = run("api-keys", "revoke", "999", "-w", "shop")
    assert code == 2 and "no API key with id 999" in out
    assert run("api-keys", "revoke", "abc", "-w", "shop")[0] == 2
    with db.session(env["DATABASE_URL"]) as session:
        assert api_keys.listed(session, bare_shop) == []
