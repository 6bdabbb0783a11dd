"""Start, signal or stop automation workflows (dispatch activity, unsubscribe)."""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from revsync.automations.definitions import rule_automation, rule_id_of
from revsync.automations.types import (
    RULE_WORKFLOW,
    SIGNAL,
    STOP,
    AutomationSignal,
    Command,
    RuleInput,
    automation_workflow_id,
)


async def send(client: Client, task_queue: str, workspace_id: int, workspace_name: str,
               command: Command) -> bool:
    """Signal-with-start for a rule's start, so a second transition lands in the running
    workflow; a plain signal for a stop (it never starts one)."""
    workflow_id = automation_workflow_id(workspace_name, command.automation,
                                         command.subscriber_id)
    signal = AutomationSignal(command.transition_id, command.action, command.key)
    if command.action == STOP:
        return await stop(client, workflow_id, signal)
    rule_id = rule_id_of(command.automation)
    start = RuleInput(workspace_id=workspace_id, rule_id=rule_id,
                      subscriber_id=command.subscriber_id)
    # By type name: the workflow module imports the activities, which import this one.
    await client.start_workflow(RULE_WORKFLOW, start, id=workflow_id, task_queue=task_queue,
                                start_signal=SIGNAL, start_signal_args=[signal],
                                static_summary=f"rule {rule_id} for subscriber "
                                               f"{command.subscriber_id}")
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
    """Stop the runs of these sequence rules where they run (the caller marked the row);
    True when any was running."""
    signal = AutomationSignal(transition_id=-subscriber_id, action=STOP, key="unsubscribed")
    names = [rule_automation(rule_id) for rule_id in sequence_rules]
    stopped = [await stop(client, automation_workflow_id(workspace_name, name, subscriber_id),
                          signal) for name in names]
    return any(stopped)
