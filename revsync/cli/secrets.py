"""`revsync secrets rotate`: every stored secret re-encrypted with the first key."""

from __future__ import annotations

import typer

from revsync.cli.common import fail, load_settings
from revsync.cli.console import console
from revsync.store import keystore, rotation

app = typer.Typer(help="The key that encrypts stored secrets.", no_args_is_help=True)


@app.command("rotate")
def rotate() -> None:
    """Re-encrypt every stored secret (Stripe keys, webhook signing secrets, rule webhook
    secrets) with the first key of REVSYNC_SECRET_KEY or the key file, in batches; run
    again, it changes nothing. Then the other keys can be removed."""
    settings = load_settings(secrets=True)
    try:
        done = rotation.rotate(settings)
    except keystore.KeyStoreError as error:
        raise fail(str(error), code=error.exit_code) from None
    console.print(f"re-encrypted {done.rotated} secrets with the first key; "
                  f"{done.current} already were")
    if done.connect_copies:
        console.print(f"removed the stored key of {done.connect_copies} Stripe Connect "
                      "workspaces (they are read with REVSYNC_STRIPE_PLATFORM_KEY)")
