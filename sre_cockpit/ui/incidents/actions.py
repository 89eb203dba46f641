"""An incident action from the key to the toasts: plan, forms, confirm, send.

The feed plans (which provider takes which incident, what is skipped and why), previews the
exact requests and performs them; this module only runs the dialogs in between: the silence
form, and the on-call forms (reassign: the provider's directory, searched through the feed;
escalate: the levels of the policy; snooze: a duration; status update: a message).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from textual.app import App

from sre_cockpit.core.actions import (
    ACTION_TITLES,
    ONCALL_ACTIONS,
    ActionArgs,
    Assignee,
    EscalationLevel,
    SilenceRequest,
)
from sre_cockpit.core.models import Incident
from sre_cockpit.feeds.incidents import ActionError, ActionPlan, IncidentFeed, PlannedGroup
from sre_cockpit.ui.dialogs import ConfirmActionDialog, SilenceDialog
from sre_cockpit.ui.oncall_dialogs import (
    EscalateDialog,
    ReassignDialog,
    SnoozeDialog,
    StatusUpdateDialog,
)
from sre_cockpit.ui.toast import toast


async def ask_args(app: App[object], feed: IncidentFeed,
                   plan: ActionPlan) -> dict[str, ActionArgs] | None:
    """The on-call action's parameters for each provider of the plan (None: cancelled).

    A snooze or a status update is asked once for every provider; reassign and escalate are
    asked per provider, since each has its own directory and policies.
    """
    action = plan.action
    everyone = [i for g in plan.groups for i in g.incidents]
    if action == "snooze":
        seconds = await app.push_screen_wait(SnoozeDialog(everyone))
        return None if seconds is None else {
            g.provider: ActionArgs(duration_s=seconds) for g in plan.groups}
    if action == "status_update":
        message = await app.push_screen_wait(StatusUpdateDialog(everyone))
        return None if message is None else {
            g.provider: ActionArgs(message=message) for g in plan.groups}
    chosen: dict[str, ActionArgs] = {}
    for group in plan.groups:
        args = await (_ask_reassign(app, feed, group) if action == "reassign"
                      else _ask_escalate(app, feed, group))
        if args is None:
            return None
        chosen[group.provider] = args
    return chosen


async def _ask_reassign(app: App[object], feed: IncidentFeed,
                        group: PlannedGroup) -> ActionArgs | None:
    search = (partial(feed.search_assignees, group.provider)
              if feed.can_search_assignees(group.provider) else None)
    assignee: Assignee | None = await app.push_screen_wait(
        ReassignDialog(group.provider, group.incidents, search))
    return None if assignee is None else ActionArgs(assignee=assignee)


async def _ask_escalate(app: App[object], feed: IncidentFeed,
                        group: PlannedGroup) -> ActionArgs | None:
    first = group.incidents[0]

    async def levels() -> list[EscalationLevel]:
        return await feed.escalation_levels(first)

    level = await app.push_screen_wait(EscalateDialog(group.incidents, levels))
    return None if level is None else ActionArgs(level=level)


async def run_action(app: App[object], feed: IncidentFeed, action: str,
                     targets: Sequence[Incident]) -> bool:
    """Run ``action`` on ``targets`` with the operator's confirmation. Returns True when it was
    sent (whatever the providers answered), False when nothing was sent."""
    title = ACTION_TITLES[action]
    plan = feed.plan(action, targets)
    skipped = [f"{s.incident.provider}:{s.incident.id} {s.incident.title!r}: {s.reason}"
               for s in plan.skipped]
    if not plan.groups:
        toast(app, "; ".join(skipped) or "nothing to do", title=f"{title}: skipped",
              severity="warning")
        return False
    silences: dict[str, SilenceRequest] = {}
    if action == "silence":
        for group in plan.groups:
            default = group.silence or SilenceRequest((), 7200, "", "")
            chosen = await app.push_screen_wait(SilenceDialog(list(group.incidents), default))
            if chosen is None:
                toast(app, "silence cancelled")
                return False
            silences[group.provider] = chosen
    args: dict[str, ActionArgs] | None = None
    if action in ONCALL_ACTIONS:
        args = await ask_args(app, feed, plan)
        if args is None:
            toast(app, f"{title} cancelled")
            return False
    try:
        previews = feed.previews(plan, silences, args)
    except ActionError as exc:
        toast(app, str(exc), title=title, severity="error")
        return False
    snapshot = feed.snapshot
    warning = f"context {snapshot.context} is production" if snapshot.production else None
    confirmed = await app.push_screen_wait(
        ConfirmActionDialog(previews, title=plan.title, warning=warning,
                            targets=[i for g in plan.groups for i in g.incidents],
                            skipped=skipped))
    if not confirmed:
        toast(app, f"{title} cancelled")
        return False
    for result in await feed.perform(plan, silences, args):
        toast(app, result.message, title=title,
              severity="information" if result.ok else "error")
    return True
