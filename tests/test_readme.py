"""The README's layout section names exactly what the tree holds, so a newcomer reading
it finds every package, and nothing that is gone."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def layout_block() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Layout\n", 1)[1]
    return section.split("```", 2)[1].splitlines()


def named(lines: list[str], indent: int) -> set[str]:
    """Entries at this indentation: `name/` or `name.py`, the first word of a line."""
    pattern = re.compile(rf"^ {{{indent}}}([\w.-]+/?)\s")
    return {m.group(1).rstrip("/") for line in lines if (m := pattern.match(line + " "))}


def tracked(path: str) -> set[str]:
    """Names git tracks directly below `path` (files and folders), links included."""
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT / path, check=True,
                            capture_output=True, text=True).stdout.splitlines()
    return {line.split("/")[0] for line in listed}


def test_the_top_level_entries_are_the_trees() -> None:
    top = {name for name in tracked(".")
           if not name.startswith(".") and name not in ("README.md", "pyproject.toml")}
    assert named(layout_block(), 0) == top


def test_the_product_packages_are_the_trees() -> None:
    packages = {name for name in tracked("revsync")
                if name not in ("__init__.py", "py.typed", "workflows", "activities")}
    assert named(layout_block(), 2) == packages
