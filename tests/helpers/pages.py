"""Reading the settings page's HTML in HTTP-level tests."""

from __future__ import annotations

import re


def csrf_of(html: str) -> str:
    """The CSRF token the page's forms carry."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)
