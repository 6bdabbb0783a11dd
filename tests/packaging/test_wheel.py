"""The wheel, installed into a fresh virtual environment outside the checkout, is the whole
product: the `revsync` command runs a sync, and users' workers import the plugin.

Slow (a wheel build and an install with every dependency, about 30 s), so one module-scoped
install serves every test here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from temporalio.testing import WorkflowEnvironment

from tests.helpers.e2e import ROOT

INSTALL_TIMEOUT = 600


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh virtual environment with the freshly built wheel installed; its bin/."""
    base = tmp_path_factory.mktemp("wheel")
    # Built from a copy, so the build leaves nothing in the checkout (setuptools writes
    # build/ and *.egg-info beside the sources); the two package links stay links.
    source = base / "source"
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "*.egg-info", ".revsync", "__pycache__", ".*_cache",
        ".hypothesis"))
    wheels = base / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels),
                    str(source)], check=True, timeout=INSTALL_TIMEOUT, env=clean_env())
    (wheel,) = wheels.glob("revsync-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(base / "venv")], check=True)
    bin_dir = base / "venv" / "bin"
    subprocess.run([str(bin_dir / "pip"), "install", "-q", str(wheel)], check=True,
                   timeout=INSTALL_TIMEOUT, env=clean_env())
    yield bin_dir


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without anything that would point Python back at the checkout."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    return {**env, "COLUMNS": "200", **extra}


def run(venv: Path, *args: str, cwd: Path, timeout: float = 120,
        **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=cwd, env=clean_env(**env), capture_output=True,
                          text=True, timeout=timeout)


def test_the_console_command_answers_help(venv: Path, tmp_path: Path) -> None:
    result = run(venv, str(venv / "revsync"), "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for command in ("demo", "sync", "connect", "worker", "segments", "automations"):
        assert command in result.stdout


PROBE = """
import importlib.util, json, sys
from importlib.resources import files
import revsync
from revsync import RevenueSyncPlugin, Settings
data = {
    "file": revsync.__file__,
    "names": [RevenueSyncPlugin.__name__, Settings.__name__],
    "generic": [m for m in ("workflows", "activities", "worker", "starter")
                if importlib.util.find_spec(m) is not None],
    "resources": [str(p.is_file()) for p in (
        files("revsync") / "py.typed",
        files("revsync.automations") / "templates" / "win_back_1.txt",
        files("revsync.web") / "templates" / "settings.html",
        files("revsync.web") / "static" / "settings.css",
        files("revsync.store.migrations") / "script.py.mako",
        files("revsync.store.migrations") / "versions" / "0001_initial_schema.py",
    )],
}
print(json.dumps(data))
"""


def test_the_package_imports_from_site_packages_with_its_data(venv: Path, tmp_path: Path
                                                              ) -> None:
    import json

    result = run(venv, str(venv / "python"), "-c", PROBE, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["file"].startswith(str(venv.parent)) and "site-packages" in found["file"]
    assert found["names"] == ["RevenueSyncPlugin", "Settings"]
    assert found["generic"] == []  # nothing generic at the top of site-packages
    assert found["resources"] == ["True"] * 6


def test_the_installed_demo_syncs_a_small_fake_account(
    venv: Path, tmp_path: Path, temporal_env: WorkflowEnvironment
) -> None:
    suffix = uuid.uuid4().hex[:8]
    result = run(
        venv, str(venv / "revsync"), "demo", "--customers", "40", cwd=tmp_path, timeout=300,
        TEMPORAL_ADDRESS=temporal_env.client.service_client.config.target_host,
        DATABASE_URL=f"sqlite:///{tmp_path / 'wheel.sqlite'}",
        REVSYNC_DATA_DIR=str(tmp_path / "data"),
        REVSYNC_SECRET_KEY=Fernet.generate_key().decode(),
        REVSYNC_TASK_QUEUE=f"wheel-{suffix}",
        REVSYNC_STRIPE_TASK_QUEUE=f"wheel-stripe-{suffix}",
        REVSYNC_STRIPE_EVENTS_TASK_QUEUE=f"wheel-events-{suffix}",
        REVSYNC_STRIPE_REQUESTS_PER_SECOND="100",
    )
    out = " ".join(result.stdout.split())
    assert result.returncode == 0, out + result.stderr
    assert "seeding a fake Stripe account with 40 customers" in out
    assert "completed" in out
    assert re.search(r"Stripe customers scanned\W+40\W", out), out
    assert re.search(r"Stripe requests \(data streams\)\W+\d+ vs minimum", out), out
