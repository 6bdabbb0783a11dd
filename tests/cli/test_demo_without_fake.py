"""`revsync demo` where the fake Stripe distribution is not installed (a deployment's
install): one line saying how to get it, not a traceback."""

from __future__ import annotations

import sys

import pytest

from revsync.cli.app import app
from revsync.cli.demo import FAKE_STRIPE_MISSING
from tests.helpers.cli import runner


def test_the_demo_without_the_fake_says_how_to_install_it(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "fake_stripe", None)  # `import fake_stripe` fails
    result = runner.invoke(app, ["demo", "--customers", "5"])
    assert result.exit_code == 1
    assert result.output.splitlines() == [f"error: {FAKE_STRIPE_MISSING}"]
    assert "pip install ./fake-stripe" in FAKE_STRIPE_MISSING
