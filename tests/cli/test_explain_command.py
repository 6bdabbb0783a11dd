"""`explain EMAIL`: a subscriber's explanation printed, an unknown one refused."""

from __future__ import annotations

import pytest

from revsync.store import db
from revsync.subscribers import csv_import
from tests.helpers.cli import run


@pytest.mark.parametrize("email, message", [
    ("nobody@example.com", "no subscriber 'nobody@example.com' in workspace 'shop'"),
    ("   ", "give the subscriber's email"),
])
def test_explain_refuses_an_unknown_subscriber(bare_shop: int, email: str, message: str) -> None:
    code, out = run("explain", email, "-w", "shop")
    assert code == 2 and message in out


def test_explain_prints_a_subscriber_without_stripe_data(bare_shop: int, env: dict[str, str]
                                                         ) -> None:
    with db.session(env["DATABASE_URL"]) as session:
        csv_import.import_rows(session, bare_shop, [(2, {"email": "Zed@Example.com"})])
    code, out = run("explain", "zed@example.com", "-w", "shop")
    assert code == 0, out
    assert "stored: MRR - LTV - tags -" in out and "no transitions recorded" in out
