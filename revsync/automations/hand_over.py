"""Hand a source's recorded transitions to the rule workflows and the change sink.

Shared by the full sync's dispatch activity and the webhook event's activity, each
passing the client of the worker running it (`activity.client()`). The database steps
run in `run_sync`, the caller's way of leaving the event loop free (a thread pool).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from temporalio.client import Client

from revsync.automations import dispatch
from revsync.automations.client import send
from revsync.automations.types import Command, DispatchInput, DispatchResult
from revsync.feed import sink
from revsync.settings import Settings
from revsync.store import db, workspaces

RunSync = Callable[..., Awaitable[Any]]


async def hand_over(client: Client, settings: Settings, request: DispatchInput,
                    run_sync: RunSync, nudge_when_none: bool = True) -> DispatchResult:
    """Signal the automations the source's undispatched transitions ask for, then mark
    them handed over; nudge the change sink, which delivers the source's feed entries,
    fired or silent. With `nudge_when_none` False, a source with nothing left to hand
    over costs no signal at all (a retry after an earlier attempt handed it over)."""
    url = settings.resolved_database_url
    commands, ids = await run_sync(_plan, url, request)
    if not ids and not nudge_when_none:
        return DispatchResult()
    name = await run_sync(_name, url, request.workspace_id) if commands else ""
    for command in commands:
        await send(client, settings.task_queue, request.workspace_id, name, command)
    await run_sync(_mark, url, request, commands, ids)
    await sink.nudge(client, settings, request.workspace_id)
    return DispatchResult(transitions=len(ids), signals=len(commands))


def _plan(url: str, request: DispatchInput) -> tuple[list[Command], list[int]]:
    with db.session(url) as session:
        return dispatch.plan(session, request.workspace_id, request.source_id)


def _name(url: str, workspace_id: int) -> str:
    with db.session(url) as session:
        return workspaces.by_id(session, workspace_id).name


def _mark(url: str, request: DispatchInput, commands: list[Command], ids: list[int]) -> None:
    with db.session(url) as session:
        dispatch.mark_dispatched(session, request.workspace_id, commands, ids)
