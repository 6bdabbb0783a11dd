"""Run the command line in-process, as a user would type it."""

from __future__ import annotations

from typer.testing import CliRunner

from revsync.cli.app import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, " ".join(result.output.split())  # undo terminal wrapping
