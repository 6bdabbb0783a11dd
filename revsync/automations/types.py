"""What crosses the boundary of automation workflows: ids, keys and counts only.

Plain dataclasses, importable inside the workflow sandbox.
"""

from __future__ import annotations

from dataclasses import dataclass

# The keys of the default rules (`AutomationRule.default_key`, `automations.defaults`).
WIN_BACK = "win_back"
THANK_YOU = "thank_you"
TEAM_ALERT = "team_alert"
KINDS = (WIN_BACK, THANK_YOU, TEAM_ALERT)
START, STOP = "start", "stop"
SIGNAL = "transition"
RULE_WORKFLOW = "AutomationRule"  # the workflow type of `AutomationRuleWorkflow`


def automation_workflow_id(workspace_name: str, automation: str, subscriber_id: int) -> str:
    """One workflow per (workspace, automation, subscriber): duplicates collapse into it.

    Keyed by the workspace's name, like the sync and event workflows: a numeric id would
    repeat between two databases that share a Temporal namespace.
    """
    return f"automation/{workspace_name}/{automation}/{subscriber_id}"


@dataclass(frozen=True)
class Command:
    """What a transition asks of one automation: start (or continue) it, or stop it."""

    automation: str  # rule-<id>
    action: str
    subscriber_id: int
    transition_id: int
    key: str = ""  # `once` for a once-per-subscriber start; a stop's reason


@dataclass(frozen=True)
class AutomationSignal:
    """A transition handed to an automation: start (or continue) it, or stop it."""

    transition_id: int
    action: str = START
    key: str = ""  # e.g. the thank-you threshold crossed


@dataclass
class RuleInput:
    """One workspace rule for one subscriber (ids only: the rule is read at each step)."""

    workspace_id: int
    rule_id: int
    subscriber_id: int


@dataclass
class RuleStepInput:
    workspace_id: int
    rule_id: int
    subscriber_id: int
    transition_id: int
    step: int  # 0: the rule fired (its condition is checked); then each later step
    armed: bool = False  # a timer trigger's wait is over: fire now if it still applies


@dataclass
class RuleStepResult:
    sent: bool
    reason: str = ""  # sent | queued | condition false | stop condition | unsubscribed ...
    next_after_seconds: int | None = None  # None: the run is over
    arming: bool = False  # a timer trigger: wait next_after_seconds, then step 0 armed


@dataclass
class AutomationResult:
    emails: int = 0
    stopped: str = ""  # why a sequence ended early: reactivated | unsubscribed


@dataclass
class EmailResult:
    sent: bool  # False: the key was used before
    reason: str = ""


@dataclass
class DispatchInput:
    workspace_id: int
    source_id: str  # the event id, or the sync run key, whose transitions to hand over


@dataclass
class DispatchResult:
    transitions: int = 0
    signals: int = 0
