"""Automation activities: hand transitions to rule workflows; run one step of a rule."""

from __future__ import annotations

import asyncio

from temporalio import activity
from temporalio.exceptions import ApplicationError

from revsync.activities.liveness import kept_alive
from revsync.automations import dispatch, rule_steps
from revsync.automations.client import send
from revsync.automations.types import (
    Command,
    DispatchInput,
    DispatchResult,
    RuleStepInput,
    RuleStepResult,
)
from revsync.feed import sink
from revsync.settings import Settings
from revsync.store import db, workspaces


class AutomationActivities:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def url(self) -> str:
        return self.settings.resolved_database_url

    @activity.defn(name="revsync.dispatch_transitions")
    @kept_alive
    async def dispatch_transitions(self, request: DispatchInput) -> DispatchResult:
        """Signal the automations a source's transitions ask for, then mark them handed over;
        nudge the change sink, which delivers the source's feed entries, fired or silent."""
        commands, ids = await asyncio.to_thread(self._plan, request)
        name = await asyncio.to_thread(self._name, request.workspace_id) if commands else ""
        client = activity.client()
        for command in commands:
            await send(client, self.settings.task_queue, request.workspace_id, name, command)
        await asyncio.to_thread(self._mark, request, commands, ids)
        await sink.nudge(client, self.settings, request.workspace_id)
        return DispatchResult(transitions=len(ids), signals=len(commands))

    def _plan(self, request: DispatchInput) -> tuple[list[Command], list[int]]:
        with db.session(self.url) as session:
            return dispatch.plan(session, request.workspace_id, request.source_id)

    def _name(self, workspace_id: int) -> str:
        with db.session(self.url) as session:
            return workspaces.by_id(session, workspace_id).name

    def _mark(self, request: DispatchInput, commands: list[Command], ids: list[int]) -> None:
        with db.session(self.url) as session:
            dispatch.mark_dispatched(session, request.workspace_id, commands, ids)

    @activity.defn(name="revsync.run_rule_step")
    @kept_alive
    def run_rule_step(self, request: RuleStepInput) -> RuleStepResult:
        """One step of a workspace rule: check its condition, send its email once, or POST
        its webhook (a refused one fails the attempt: Temporal retries it with backoff)."""
        with activity.shield_thread_cancel_exception(), db.session(self.url) as session:
            try:
                return rule_steps.run_step(self.settings, session, request,
                                           activity.info().attempt)
            except rule_steps.WebhookNotDelivered as refused:
                raise ApplicationError(str(refused), type="WebhookNotDelivered") from None
