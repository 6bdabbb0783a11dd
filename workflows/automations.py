"""The automation rule workflow, one per (workspace, rule, subscriber).

It is started or signalled with signal-with-start by the dispatch activity, so a
second transition for the same subscriber while it runs lands in the running workflow
instead of starting another. A run ends as soon as it has nothing left to do (no timer
keeps it waiting: a one-step rule costs its start and its step), and a later
transition starts the next run under the same id. A run ignores transition ids it has
seen; across runs, a re-dispatched transition finds its email's idempotency key used
or its webhook delivered, and sends nothing again.
"""

from __future__ import annotations

import contextlib
from collections import deque
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

from revsync.workflows.retries import rule_step

with workflow.unsafe.imports_passed_through():
    from revsync.activities.automations import AutomationActivities
    from revsync.automations.types import (
        RULE_WORKFLOW,
        SIGNAL,
        STOP,
        AutomationResult,
        AutomationSignal,
        RuleInput,
        RuleStepInput,
        RuleStepResult,
    )

STEP_TIMEOUT = timedelta(minutes=2)  # one step: an email, or a webhook POST


class _Signals:
    """Transitions received and not yet run, and why the run in progress must stop."""

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


@workflow.defn(name=RULE_WORKFLOW)
class AutomationRuleWorkflow:
    """A workspace rule for one subscriber: each start runs the rule's action (one email,
    or a sequence's steps with their delays); a stop ends the run in progress. Each step
    is one activity that reads the rule afresh, checks its condition (at the first) or
    stop condition (later ones), and says how long to wait for the next. A timer trigger
    (trial ends in N days) first answers how long to wait, then fires armed."""

    def __init__(self) -> None:
        self.signals = _Signals()

    @workflow.signal(name=SIGNAL)
    def transition(self, signal: AutomationSignal) -> None:
        self.signals.receive(signal)

    @workflow.run
    async def run(self, request: RuleInput) -> AutomationResult:
        result = AutomationResult()
        await workflow.wait_condition(lambda: bool(self.signals.queue))  # its start
        # Ends when no start is left: a later transition starts a new run under the same
        # id (a timer waiting for one would be a billed action per firing).
        while self.signals.queue:
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
        return result

    async def _step(self, request: RuleInput, transition_id: int, step: int, armed: bool
                    ) -> RuleStepResult:
        try:
            return await workflow.execute_activity_method(
                AutomationActivities.run_rule_step,
                RuleStepInput(request.workspace_id, request.rule_id, request.subscriber_id,
                              transition_id, step, armed),
                **rule_step(STEP_TIMEOUT),
            )
        except ActivityError as failed:  # every attempt failed: give this run up
            cause = str(failed.cause or failed)
            return RuleStepResult(False, f"given up: {cause}")
