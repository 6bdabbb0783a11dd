"""Automation activities: hand transitions to rule workflows; run one step of a rule."""

from __future__ import annotations

import asyncio

from temporalio import activity
from temporalio.exceptions import ApplicationError

from revsync.activities.liveness import kept_alive
from revsync.automations import rule_steps
from revsync.automations.hand_over import hand_over
from revsync.automations.types import DispatchInput, DispatchResult, RuleStepInput, RuleStepResult
from revsync.settings import Settings
from revsync.store import db


class AutomationActivities:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def url(self) -> str:
        return self.settings.resolved_database_url

    @activity.defn(name="revsync.dispatch_transitions")
    @kept_alive
    async def dispatch_transitions(self, request: DispatchInput) -> DispatchResult:
        """Hand a source's transitions to the automations and nudge the change sink."""
        return await hand_over(activity.client(), self.settings, request, asyncio.to_thread)

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
