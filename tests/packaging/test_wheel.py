"""The wheel, installed into a fresh virtual environment outside the checkout, is the whole
product: the `revsync` command runs a sync, and users' workers import the plugin. The
fake Stripe server is a wheel of its own, which only the demo needs.

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
import zipfile
from collections.abc import Mapping
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from temporalio.testing import WorkflowEnvironment

from tests.helpers.e2e import ROOT

INSTALL_TIMEOUT = 600


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The product's and the fake Stripe's wheels, freshly built: by distribution name."""
    base = tmp_path_factory.mktemp("wheels")
    # Built from a copy, so the build leaves nothing in the checkout (setuptools writes
    # build/ and *.egg-info beside the sources); the two package links stay links.
    source = base / "source"
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "*.egg-info", ".revsync", "__pycache__", ".*_cache",
        ".hypothesis"))
    out = base / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out),
                    str(source), str(source / "fake-stripe")], check=True,
                   timeout=INSTALL_TIMEOUT, env=clean_env())
    (product,) = out.glob("revsync-*.whl")
    (fake,) = out.glob("revsync_fake_stripe-*.whl")
    return {"revsync": product, "revsync-fake-stripe": fake}


@pytest.fixture(scope="module")
def venv(wheels: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with only the product's wheel installed: its bin/."""
    base = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(base)], check=True)
    bin_dir = base / "bin"
    subprocess.run([str(bin_dir / "pip"), "install", "-q", str(wheels["revsync"])],
                   check=True, timeout=INSTALL_TIMEOUT, env=clean_env())
    return bin_dir


@pytest.fixture(scope="module")
def fake_site(wheels: dict[str, Path], venv: Path, tmp_path_factory: pytest.TempPathFactory
              ) -> Path:
    """The fake Stripe's wheel installed into a folder of its own, for PYTHONPATH.

    Only the runs given it see the fake, so the venv stays a deployment's install for the
    other tests whatever order they run in; its dependencies are all the product's too.
    """
    target = tmp_path_factory.mktemp("fake-site")
    subprocess.run([str(venv / "pip"), "install", "-q", "--no-deps", "--target", str(target),
                    str(wheels["revsync-fake-stripe"])], check=True, timeout=INSTALL_TIMEOUT,
                   env=clean_env())
    return target


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without anything that would point Python back at the checkout."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    return {**env, "COLUMNS": "200", **extra}


def run(venv: Path, *args: str, cwd: Path, timeout: float = 120,
        env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=cwd, env=clean_env(**(env or {})),
                          capture_output=True, text=True, timeout=timeout)


def test_the_product_wheel_holds_no_fake_and_the_fake_wheel_no_product(
    wheels: dict[str, Path]
) -> None:
    with zipfile.ZipFile(wheels["revsync"]) as product:
        assert [n for n in product.namelist() if "fake_stripe" in n] == []
    with zipfile.ZipFile(wheels["revsync-fake-stripe"]) as fake:
        names = fake.namelist()
    assert {"fake_stripe/__main__.py", "fake_stripe/fixtures.json",
            "fake_stripe/py.typed"} <= set(names)
    assert [n for n in names if n.startswith("revsync/")] == []


def test_the_console_command_answers_help(venv: Path, tmp_path: Path) -> None:
    result = run(venv, str(venv / "revsync"), "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for command in ("demo", "sync", "connect", "worker", "segments", "automations"):
        assert command in result.stdout
    result = run(venv, str(venv / "revsync"), "worker", "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Run the workers" in result.stdout


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
    "fake": importlib.util.find_spec("fake_stripe") is not None,
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
    assert found["fake"] is False  # imported without the fake Stripe
    assert found["resources"] == ["True"] * 6


def demo_env(tmp_path: Path) -> dict[str, str]:
    """Settings of a demo run that keep its files in ``tmp_path``."""
    return {"DATABASE_URL": f"sqlite:///{tmp_path / 'wheel.sqlite'}",
            "REVSYNC_DATA_DIR": str(tmp_path / "data"),
            "REVSYNC_SECRET_KEY": Fernet.generate_key().decode()}


def test_the_installed_demo_without_the_fake_says_how_to_get_it(venv: Path, tmp_path: Path
                                                                 ) -> None:
    result = run(venv, str(venv / "revsync"), "demo", cwd=tmp_path, env=demo_env(tmp_path))
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "error: the demo needs the fake Stripe server: pip install ./fake-stripe "
        "(from a revsync checkout)"]
    assert result.stderr == ""


def test_the_installed_demo_syncs_a_small_fake_account(
    venv: Path, fake_site: Path, tmp_path: Path, temporal_env: WorkflowEnvironment
) -> None:
    suffix = uuid.uuid4().hex[:8]
    result = run(
        venv, str(venv / "revsync"), "demo", "--customers", "40", cwd=tmp_path, timeout=300,
        env={**demo_env(tmp_path),
             "PYTHONPATH": str(fake_site),
             "TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
             "REVSYNC_TASK_QUEUE": f"wheel-{suffix}",
             "REVSYNC_STRIPE_TASK_QUEUE": f"wheel-stripe-{suffix}",
             "REVSYNC_STRIPE_EVENTS_TASK_QUEUE": f"wheel-events-{suffix}",
             "REVSYNC_STRIPE_REQUESTS_PER_SECOND": "100"},
    )
    out = " ".join(result.stdout.split())
    assert result.returncode == 0, out + result.stderr
    assert "seeding a fake Stripe account with 40 customers" in out
    assert "completed" in out
    assert re.search(r"Stripe customers scanned\W+40\W", out), out
    assert re.search(r"Stripe requests \(data streams\)\W+\d+ vs minimum", out), out
