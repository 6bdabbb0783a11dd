"""Start, signal or stop automation workflows (dispatch activity, unsubscribe)."""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from revsync.automations.definitions import rule_automation
from revsync.automations.rules import Command, Rule
from revsync.automations.types import (
    SIGNAL,
    STOP,
    WIN_BACK,
    AutomationInput,
    AutomationSignal,
    RuleInput,
    automation_workflow_id,
)

WORKFLOWS = {WIN_BACK: "WinBackSequence"}
NOTIFY_WORKFLOW = "AutomationNotify"
RULE_WORKFLOW = "RevenueRule"
DAY = 86_400


async def send_command(
    client: Client, task_queue: str, workspace_id: int, workspace_name: str, command: Command,
    rule: Rule,
) -> bool:
    """A built-in automation's start or stop (see `_deliver`)."""
    delays = [int(float(d) * DAY) for d in rule.config.get("delays_days", [])]
    start = AutomationInput(workspace_id=workspace_id, automation=command.automation,
                            subscriber_id=command.subscriber_id, delays_seconds=delays)
    return await _deliver(client, task_queue, workspace_name, command,
                          WORKFLOWS.get(command.automation, NOTIFY_WORKFLOW), start,
                          f"{command.automation} for subscriber {command.subscriber_id}")


async def send_rule_command(client: Client, task_queue: str, workspace_id: int,
                            workspace_name: str, command: Command, rule_id: int) -> bool:
    """A workspace rule's start or stop (see `_deliver`)."""
    start = RuleInput(workspace_id=workspace_id, rule_id=rule_id,
                      subscriber_id=command.subscriber_id)
    return await _deliver(client, task_queue, workspace_name, command, RULE_WORKFLOW, start,
                          f"rule {rule_id} for subscriber {command.subscriber_id}")


async def _deliver(client: Client, task_queue: str, workspace_name: str, command: Command,
                   workflow: str, start: object, summary: str) -> bool:
    """Signal-with-start for a start, so a second transition lands in the running
    workflow; a plain signal for a stop (it never starts one)."""
    workflow_id = automation_workflow_id(workspace_name, command.automation,
                                         command.subscriber_id)
    signal = AutomationSignal(command.transition_id, command.action, command.key)
    if command.action == STOP:
        return await stop(client, workflow_id, signal)
    await client.start_workflow(workflow, start, id=workflow_id, task_queue=task_queue,
                                start_signal=SIGNAL, start_signal_args=[signal],
                                static_summary=summary)
    return True


async def stop(client: Client, workflow_id: str, signal: AutomationSignal) -> bool:
    """Signal a running sequence to stop; False when none runs."""
    try:
        await client.get_workflow_handle(workflow_id).signal(SIGNAL, signal)
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
        return False
    return True


async def unsubscribe(client: Client, workspace_name: str, subscriber_id: int,
                      sequence_rules: Sequence[int] = ()) -> bool:
    """Stop the subscriber's win-back sequence and the runs of these sequence rules, where
    they run (the caller marked the row); True when any was running."""
    signal = AutomationSignal(transition_id=-subscriber_id, action=STOP, key="unsubscribed")
    names = [WIN_BACK, *(rule_automation(rule_id) for rule_id in sequence_rules)]
    stopped = [await stop(client, automation_workflow_id(workspace_name, name, subscriber_id),
                          signal) for name in names]
    return any(stopped)
