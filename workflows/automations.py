"""Automation workflows, one per (workspace, automation, subscriber).

They are started or signalled with signal-with-start by the dispatch activity, so a
second transition for the same subscriber lands in the running workflow instead of
starting another. Each remembers the transition ids it has seen (a re-dispatched
transition changes nothing), and every email carries an idempotency key.
"""

from __future__ import annotations

import contextlib
from collections import deque
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

from revsync.workflows.retries import database, rule_step

with workflow.unsafe.imports_passed_through():
    from revsync.automations.types import (
        SIGNAL,
        STOP,
        TEAM_ALERT,
        AutomationInput,
        AutomationResult,
        AutomationSignal,
        EmailInput,
        EmailResult,
        RuleInput,
        RuleStepInput,
        RuleStepResult,
    )

EMAIL_TIMEOUT = timedelta(minutes=2)


class _Signals:
    """Signal bookkeeping shared by the automation workflows."""

    def __init__(self) -> None:
        self.seen: set[int] = set()
        self.queue: deque[AutomationSignal] = deque()
        self.stopped = ""

    def receive(self, signal: AutomationSignal) -> None:
        if signal.transition_id in self.seen:
            return
        self.seen.add(signal.transition_id)
        if signal.action == STOP:
            self.stopped = signal.key or "stopped"
        else:
            self.queue.append(signal)


async def _email(request: AutomationInput, template: str, key: str,
                 transition_id: int) -> EmailResult:
    result: EmailResult = await workflow.execute_activity(
        "revsync.send_automation_email",
        EmailInput(
            workspace_id=request.workspace_id,
            subscriber_id=request.subscriber_id,
            automation=request.automation,
            template=template,
            idempotency_key=key,
            transition_id=transition_id,
        ),
        result_type=EmailResult,
        **database(EMAIL_TIMEOUT),
    )
    return result


class _AutomationWorkflow:
    """The signal every automation workflow receives."""

    def __init__(self) -> None:
        self.signals = _Signals()

    @workflow.signal(name=SIGNAL)
    def transition(self, signal: AutomationSignal) -> None:
        self.signals.receive(signal)


@workflow.defn(name="WinBackSequence")
class WinBackWorkflow(_AutomationWorkflow):
    """An email now, then one after each delay; reactivation or unsubscribing stops it."""

    @workflow.run
    async def run(self, request: AutomationInput) -> AutomationResult:
        await workflow.wait_condition(lambda: bool(self.signals.queue or self.signals.stopped))
        if not self.signals.queue:
            return AutomationResult(stopped=self.signals.stopped)
        start = self.signals.queue.popleft()
        result = AutomationResult()
        for step in range(len(request.delays_seconds) + 1):
            if step:
                delay = timedelta(seconds=request.delays_seconds[step - 1])
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(lambda: bool(self.signals.stopped), timeout=delay)
            if self.signals.stopped:
                result.stopped = self.signals.stopped
                return result
            sent = await _email(request, f"win_back_{min(step + 1, 3)}",
                                f"win_back/{request.subscriber_id}/{start.transition_id}/{step}",
                                start.transition_id)
            if sent.reason == "unsubscribed":
                result.stopped = "unsubscribed"
                return result
            result.emails += int(sent.sent)
            workflow.set_current_details(f"{result.emails} email(s) sent, step {step + 1}")
        return result


@workflow.defn(name="AutomationNotify")
class NotifyWorkflow(_AutomationWorkflow):
    """One email per transition (thank-you, team alert); waits a while for more."""

    @workflow.run
    async def run(self, request: AutomationInput) -> AutomationResult:
        result = AutomationResult()
        while True:
            try:
                await workflow.wait_condition(
                    lambda: bool(self.signals.queue),
                    timeout=timedelta(seconds=request.idle_seconds),
                )
            except TimeoutError:
                return result
            signal = self.signals.queue.popleft()
            # Thank-you: once per threshold, ever; a team alert: once per transition.
            scope = signal.key if request.automation != TEAM_ALERT else signal.transition_id
            key = f"{request.automation}/{request.subscriber_id}/{scope}"
            sent = await _email(request, request.automation, key, signal.transition_id)
            result.emails += int(sent.sent)


@workflow.defn(name="RevenueRule")
class RevenueRuleWorkflow(_AutomationWorkflow):
    """A workspace rule for one subscriber: each start runs the rule's action (one email,
    or a sequence's steps with their delays); a stop ends the run in progress. Each step
    is one activity that reads the rule afresh, checks its condition (at the first) or
    stop condition (later ones), and says how long to wait for the next. A timer trigger
    (trial ends in N days) first answers how long to wait, then fires armed."""

    @workflow.run
    async def run(self, request: RuleInput) -> AutomationResult:
        result = AutomationResult()
        while True:
            try:
                await workflow.wait_condition(
                    lambda: bool(self.signals.queue),
                    timeout=timedelta(seconds=request.idle_seconds))
            except TimeoutError:
                return result
            start = self.signals.queue.popleft()
            self.signals.stopped = ""  # a stop before this start does not apply to it
            step, armed = 0, False
            while True:
                done = await self._step(request, start.transition_id, step, armed)
                result.emails += int(done.sent)
                workflow.set_current_details(f"{result.emails} email(s); step {step + 1}: "
                                             f"{done.reason}")
                if done.next_after_seconds is None:
                    break
                if done.next_after_seconds > 0:
                    with contextlib.suppress(TimeoutError):
                        await workflow.wait_condition(
                            lambda: bool(self.signals.stopped),
                            timeout=timedelta(seconds=done.next_after_seconds))
                if self.signals.stopped:
                    result.stopped = self.signals.stopped
                    break
                if done.arming:  # the timer ran out: step 0 again, armed
                    armed = True
                else:
                    step += 1

    async def _step(self, request: RuleInput, transition_id: int, step: int, armed: bool
                    ) -> RuleStepResult:
        try:
            result: RuleStepResult = await workflow.execute_activity(
                "revsync.run_rule_step",
                RuleStepInput(request.workspace_id, request.rule_id, request.subscriber_id,
                              transition_id, step, armed),
                result_type=RuleStepResult,
                **rule_step(EMAIL_TIMEOUT),
            )
        except ActivityError as failed:  # every attempt failed: give this run up
            cause = str(failed.cause or failed)
            return RuleStepResult(False, f"given up: {cause}")
        return result
