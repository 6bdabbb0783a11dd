"""The settings page ("the gear icon"): server-rendered, one page per workspace.

Signed in with the platform key (platform operators: every workspace) or through an
embed link (`revsync.web.embed_page`: one workspace); the session
(`revsync.web.sessions`, `page_access`) says which, and a page or form of another
workspace is a 404. Every form carries the session's CSRF token; sign-out clears the
session. The same operations as the JSON API
(`revsync.web.setup_api`) and the CLI, through the same `revsync.setup` modules.
Post/redirect/get: each form answers with a redirect and a message.

A page view asks Stripe nothing: the product picker and the metadata suggestions come
from the mirror (`revsync.setup.mirrored`), so the page renders the same while Stripe is
down. The refresh button reads the products again through the account's Stripe queue.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hmac
import secrets
from pathlib import Path
from typing import Any

import anyio.to_thread
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from revsync.automations import rule_store
from revsync.automations.definitions import DefinitionError
from revsync.budget.rates import is_live_key
from revsync.credentials.secrets_hash import is_platform_key
from revsync.segments.store import count_expression
from revsync.settings import Settings
from revsync.setup import connection, mirrored, oauth, options
from revsync.setup.client import (
    dry_run,
    progress,
    refresh_products,
    start_next,
    start_sync_of,
)
from revsync.setup.disconnect import disconnect
from revsync.setup.history import history
from revsync.setup.suggestions import suggest
from revsync.store import db, workspaces
from revsync.store.models import SyncRun, Workspace
from revsync.sync.runs import recent_runs
from revsync.web import page_access, throttle
from revsync.web.automations_page import AutomationsSection
from revsync.web.bodies import MAX_FORM, declared_too_large
from revsync.web.errors import HttpError
from revsync.web.segments_api import segment_refusal

SAVED = {
    options.SYNC: "Saved. The sync has started.",
    options.REDERIVE: "Saved. Subscribers are being updated from the synced data.",
    options.NOTHING: "Nothing changed.",
}
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
CLOSED = "platform key not configured (set REVSYNC_PLATFORM_KEY)"
# How long the refresh button's answer waits for the listing; a refresh that waits longer
# in the account's queue (a sync using the budget) or on Stripe carries on by itself.
REFRESH_WAIT = 10.0


def refresh_problem(failure: WorkflowFailureError) -> str:
    """What the page says when the product refresh failed."""
    cause: BaseException | None = failure.cause
    while cause is not None and not isinstance(cause, ApplicationError):
        cause = cause.__cause__
    kind = cause.type if isinstance(cause, ApplicationError) else None
    if kind in ("AuthenticationError", "PermissionError"):
        return ("Stripe refused the stored key (revoked, or without the permissions it "
                "needs): connect a key again below.")
    if kind == "KeyStoreError":
        return ("The stored key cannot be read with this deployment's secret key: connect "
                "a key again below.")
    return ("Stripe could not be reached, so the product list was not refreshed; the list "
            "shown is the one read before.")


def unknown(name: str) -> Response:
    """An unknown workspace's answer, and the answer for a workspace the session may not
    open: the two look the same."""
    return Response(f"no workspace named {name!r}", 404)


class SettingsPage:
    def __init__(self, settings: Settings, client: Client, ui_base: str | None) -> None:
        self.settings = settings
        self.client = client
        self.ui_base = ui_base
        self.url = settings.resolved_database_url
        self.automations = AutomationsSection(settings)

    def routes(self) -> list[Route]:
        base = "/settings/{workspace}"
        posts = {"login": self.login, "logout": self.logout, "connect": self.connect,
                 "options": self.save, "dry-run": self.dry_run, "sync": self.sync,
                 "disconnect": self.disconnect, "products-refresh": self.refresh,
                 **{name: self._threaded(handler)
                    for name, handler in self.automations.posts().items()}}
        return [
            Route(base, self.page, methods=["GET"]),
            Route(base + "/progress", self.progress, methods=["GET"]),
            Route(base + "/segment-count", self.segment_count, methods=["POST"]),
            Route(base + "/oauth", self.oauth_start, methods=["GET"]),
            Route("/stripe/oauth/callback", self.oauth_callback, methods=["GET"]),
            *[Route(f"{base}/{name}", self._form(handler, login=name == "login"),
                    methods=["POST"]) for name, handler in posts.items()],
        ]

    # ---- plumbing ---------------------------------------------------------------

    def _workspace(self, name: str) -> Workspace | None:
        with db.session(self.url) as session:
            try:
                return workspaces.by_name(session, name)
            except workspaces.WorkspaceError:
                return None

    async def _posted(self, request: Request, name: str,
                      signed_out: Response | None) -> FormData | Response:
        """The posted form once it passed the page's checks (platform key configured,
        size, CSRF token, the session may open the workspace, which exists), else the
        refusal; `signed_out` answers a session not signed in (None: the sign-in form,
        which goes on)."""
        if self.settings.platform_key is None:
            return Response(CLOSED, 503)
        if declared_too_large(request, MAX_FORM):
            return Response("form too large", 413)
        form = await request.form()
        expected = request.session.get("csrf", "")
        if not expected or not hmac.compare_digest(str(form.get("csrf", "")).encode(),
                                                   expected.encode()):
            return Response("invalid or missing CSRF token; reload the page", 403)
        if page_access.signed_in(request) and not page_access.may_open(request, name):
            return unknown(name)
        if signed_out is None:
            return form
        if not page_access.signed_in(request):
            return signed_out
        if await anyio.to_thread.run_sync(self._workspace, name) is None:
            return unknown(name)
        return form

    def _form(self, handler: Any, login: bool = False) -> Any:
        async def handle(request: Request) -> Response:
            name = request.path_params["workspace"]
            form = await self._posted(
                request, name, None if login else RedirectResponse(f"/settings/{name}", 303))
            if isinstance(form, Response):
                return form
            try:
                await handler(request, name, form)
            except (options.OptionsError, connection.ConnectError, DefinitionError,
                    rule_store.RuleStoreError) as problem:
                _flash(request, "error", str(problem))
            except RPCError as problem:
                _flash(request, "error", f"Temporal is not reachable: {problem.status.name}")
            return RedirectResponse(f"/settings/{name}", 303)

        return handle

    def _threaded(self, handler: Any) -> Any:
        """A synchronous section handler run in a thread; what it returns is flashed."""
        async def handle(request: Request, name: str, form: Any) -> None:
            _flash(request, "ok", await anyio.to_thread.run_sync(handler, request, name, form))
        return handle

    # ---- pages ------------------------------------------------------------------

    async def page(self, request: Request) -> Response:
        name = request.path_params["workspace"]
        if self.settings.platform_key is None:
            return Response(CLOSED, 503)
        if page_access.signed_in(request) and not page_access.may_open(request, name):
            return unknown(name)
        request.session.setdefault("csrf", secrets.token_urlsafe(32))
        context: dict[str, Any] = {"workspace": name, "csrf": request.session["csrf"],
                                   "messages": request.session.pop("messages", []),
                                   "user": request.session.get("user")}
        if not page_access.signed_in(request):
            return TEMPLATES.TemplateResponse(request, "login.html", context)
        workspace = await anyio.to_thread.run_sync(self._workspace, name)
        if workspace is None or not workspaces.valid_name(name):
            return unknown(name)
        context.update(connected=workspace.stripe_key_encrypted is not None,
                       oauth=oauth.configured(self.settings),
                       stripe_account=workspace.stripe_account,
                       mode=request.session.get(f"mode:{name}"),
                       dry_run=request.session.pop("dry_run", None),
                       removed_from_watch=request.session.pop("removed", []))
        chosen = request.session.pop("chosen", None) or {
            "products": workspace.products, "watch_products": workspace.watch_products,
            "sync_without_payment": workspace.sync_without_payment,
            "metadata_keys": workspace.metadata_keys, "mrr_statuses": workspace.mrr_statuses}
        context["chosen"] = chosen
        context.update(await anyio.to_thread.run_sync(self.automations.context, request, name))
        context["mrr_statuses"] = options.MRR_STATUSES
        if workspace.stripe_key_encrypted:
            context.update(await anyio.to_thread.run_sync(self._from_mirror, workspace, chosen))

            def read() -> list[dict[str, Any]]:
                with db.session(self.url) as session:
                    return history(session, name, self.ui_base, self.client.namespace)
            context["history"] = await anyio.to_thread.run_sync(read)
            state = await self._progress(workspace)
            context.update(progress=state["text"], running=state["running"])
        return TEMPLATES.TemplateResponse(request, "settings.html", context)

    def _last_run(self, name: str) -> SyncRun | None:
        with db.session(self.url) as session:
            return next(iter(recent_runs(session, name, 1)), None)

    def _from_mirror(self, workspace: Workspace, chosen: dict[str, Any]) -> dict[str, Any]:
        """The product picker and the metadata suggestions, from the mirror. A chosen
        product the mirror does not hold (yet) is listed by its id, so it stays chosen."""
        assert workspace.id is not None
        with db.session(self.url) as session:
            found = mirrored.products(session, workspace.id)
            customers, subscriptions = mirrored.sample(session, workspace.id)
        listed = {p["id"] for p in found}
        found += [{"id": p, "name": p, "active": True}
                  for p in chosen["products"] if p not in listed]
        suggestions = suggest(customers, subscriptions)
        suggested = {s.key for s in suggestions}
        return {"products": found, "suggestions": suggestions,
                "custom_keys": ", ".join(k for k in chosen["metadata_keys"]
                                         if k not in suggested)}

    async def segment_count(self, request: Request) -> Response:
        """How many subscribers a segment expression matches now, for the rule form's
        condition; a bad expression is the segments API's 422, saying where it stops."""
        name = request.path_params["workspace"]
        form = await self._posted(request, name, Response("sign in first", 401))
        if isinstance(form, Response):
            return form
        expression = str(form.get("expression", ""))

        def count() -> int:
            with db.session(self.url) as session:
                workspace_id = workspaces.by_name(session, name).id
                assert workspace_id is not None
                return count_expression(session, workspace_id, expression)
        try:
            return JSONResponse({"count": await anyio.to_thread.run_sync(count)})
        except Exception as problem:
            refusal = segment_refusal(problem)
            if refusal is None:
                raise
            raise refusal from None

    async def progress(self, request: Request) -> Response:
        name = request.path_params["workspace"]
        if not page_access.signed_in(request):
            raise HttpError(401, "sign in first")
        workspace = (await anyio.to_thread.run_sync(self._workspace, name)
                     if page_access.may_open(request, name) else None)
        if workspace is None:
            raise HttpError(404, "unknown workspace")
        state = await self._progress(workspace)
        return JSONResponse({**state, "reload": not state["running"]})

    async def _progress(self, workspace: Workspace) -> dict[str, Any]:
        """The running sync's progress, from its workflow; with none the Temporal server
        still knows, the last run recorded, if any."""
        report = await progress(self.client, workspace)
        status = report.get("status", "none")
        if status == "none":
            last = await anyio.to_thread.run_sync(self._last_run, workspace.name)
            if last is not None:
                return {"text": f"Last sync: run {last.id}, {last.status}.", "running": False}
            return {"text": "No sync yet.", "running": False}
        objects = sum(int(s.get("objects", 0)) for s in report.get("streams", []))
        derived = report.get("derive", {}).get("subscribers_seen", 0)
        return {"text": f"Sync {status}: {objects:,} Stripe objects read, {derived:,} "
                        f"subscribers derived ({report.get('phase')}).",
                "running": status == "running"}

    # ---- Stripe Connect -----------------------------------------------------------

    async def oauth_start(self, request: Request) -> Response:
        """Off to Stripe's authorize page, for a workspace this session manages and that
        exists (else the unknown workspace's 404: an authorization never creates one).
        The state, bound to this session, comes back with the browser."""
        name = request.path_params["workspace"]
        if not page_access.signed_in(request):
            return RedirectResponse(f"/settings/{name}", 303)  # the sign-in form
        if (not page_access.may_open(request, name)
                or await anyio.to_thread.run_sync(self._workspace, name) is None):
            return unknown(name)
        if not oauth.configured(self.settings):
            return RedirectResponse(f"/settings/{name}", 303)
        state = secrets.token_urlsafe(24)
        request.session["oauth"] = {"state": state, "workspace": name}
        return RedirectResponse(oauth.authorize_url(self.settings, state), 303)

    async def oauth_callback(self, request: Request) -> Response:
        """The browser back from Stripe: a top-level navigation from another site, which
        still carries the session cookie (SameSite Lax over http, None over https)."""
        pending = request.session.pop("oauth", None)
        if not isinstance(pending, dict) or not page_access.may_open(
                request, str(pending.get("workspace"))):
            return Response("no Stripe Connect authorization was started here", 400)
        params = request.query_params
        if not hmac.compare_digest(params.get("state", "").encode(),
                                   str(pending["state"]).encode()):
            return Response("the authorization state does not match; start again", 400)
        name = str(pending["workspace"])
        if "error" in params:
            _flash(request, "error", "Stripe Connect was not approved: "
                   f"{params.get('error_description') or params['error']}")
        else:
            try:
                account = await anyio.to_thread.run_sync(
                    oauth.complete, self.settings, name, params.get("code", ""))
                _flash(request, "ok", f"Stripe connected through Stripe Connect ({account}).")
            except connection.ConnectError as problem:
                _flash(request, "error", str(problem))
        return RedirectResponse(f"/settings/{name}", 303)

    # ---- forms ------------------------------------------------------------------

    async def login(self, request: Request, name: str, form: Any) -> None:
        throttle.of(request).check(request)
        if is_platform_key(self.settings, str(form.get("token", ""))):
            throttle.of(request).succeeded(request)
            await page_access.sign_in(request, self.url, page_access.EVERY_WORKSPACE,
                                      page_access.PLATFORM_USER)
        else:
            throttle.of(request).failed(request)
            _flash(request, "error", "wrong platform key")

    async def logout(self, request: Request, name: str, form: Any) -> None:
        await page_access.sign_out(request, self.url)
        _flash(request, "ok", "Signed out.")

    async def connect(self, request: Request, name: str, form: Any) -> None:
        key = str(form.get("api_key", "")).strip()
        opts = await anyio.to_thread.run_sync(connection.stored_options, self.settings, name)
        await anyio.to_thread.run_sync(connection.connect, self.settings, name, key, opts)
        mode = "live" if is_live_key(key) else "test"
        request.session[f"mode:{name}"] = mode
        _flash(request, "ok", f"Stripe connected ({mode} mode).")

    def _changes(self, form: Any) -> options.Changes:
        custom = [k.strip() for k in str(form.get("custom_keys", "")).split(",") if k.strip()]
        return options.parse({
            "products": form.getlist("products"),
            "watch_products": form.getlist("watch_products"),
            "sync_without_payment": form.get("sync_without_payment") == "on",
            "metadata_keys": [*form.getlist("metadata_keys"), *custom],
            "mrr_statuses": form.getlist("mrr_statuses"),
        })

    async def dry_run(self, request: Request, name: str, form: Any) -> None:
        changes = self._changes(form)
        workspace = await anyio.to_thread.run_sync(self._workspace, name)
        assert workspace is not None
        report = await dry_run(self.client, self.settings, workspace, changes.products or [],
                               bool(changes.sync_without_payment))
        request.session["dry_run"] = dataclasses.asdict(report)
        request.session["chosen"] = changes.model_dump()

    async def save(self, request: Request, name: str, form: Any) -> None:
        changes = self._changes(form)
        try:
            saved = await anyio.to_thread.run_sync(options.save_checked, self.settings, name,
                                                   changes)
        except options.OptionsError:
            request.session["chosen"] = changes.model_dump()
            raise
        request.session["removed"] = saved.removed_from_watch
        await start_next(self.client, self.settings, name, saved.next_step)
        _flash(request, "ok", SAVED[saved.next_step])

    async def refresh(self, request: Request, name: str, form: Any) -> None:
        """The product list read again from Stripe (the picker's button, so the ticks not
        saved yet are kept as the dry run keeps them)."""
        with contextlib.suppress(options.OptionsError):
            request.session["chosen"] = self._changes(form).model_dump()
        workspace = await anyio.to_thread.run_sync(self._workspace, name)
        assert workspace is not None
        try:
            stored = await refresh_products(self.client, self.settings, workspace,
                                            REFRESH_WAIT)
        except WorkflowFailureError as failure:
            _flash(request, "error", refresh_problem(failure))
            return
        _flash(request, "ok", "Reading the products from Stripe; they show here once read."
               if stored is None else f"Products refreshed from Stripe ({stored} listed).")

    async def sync(self, request: Request, name: str, form: Any) -> None:
        workspace = await anyio.to_thread.run_sync(self._workspace, name)
        assert workspace is not None
        await start_sync_of(self.client, self.settings, workspace)
        _flash(request, "ok", "Sync started.")

    async def disconnect(self, request: Request, name: str, form: Any) -> None:
        await disconnect(self.settings, self.client, name)
        _flash(request, "ok", "Stripe disconnected; subscribers keep their values.")


def _flash(request: Request, kind: str, text: str) -> None:
    request.session["messages"] = [*request.session.get("messages", []), (kind, text)]
