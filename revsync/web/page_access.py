"""Who the settings page's session signs in, and to which workspace.

A session records `access`: `*` for the platform key's sign-in (platform operators, any
workspace) or the one workspace an embed link signed it in to, and `user`, the label
the platform gave the link. Every page, form and poll of `/settings/<workspace>` asks
`may_open`; a session of another workspace gets the 404 an unknown workspace gets.
"""

from __future__ import annotations

import secrets

from starlette.requests import Request

EVERY_WORKSPACE = "*"
PLATFORM_USER = "platform operator"


def sign_in(request: Request, access: str, user: str) -> None:
    """A fresh session (nothing of the one before is kept) with a new CSRF token."""
    request.session.clear()
    request.session.update(access=access, user=user, csrf=secrets.token_urlsafe(32))


def sign_out(request: Request) -> None:
    request.session.clear()


def signed_in(request: Request) -> bool:
    return isinstance(request.session.get("access"), str)


def may_open(request: Request, workspace: str) -> bool:
    access = request.session.get("access")
    return access == EVERY_WORKSPACE or (isinstance(access, str) and access == workspace)
