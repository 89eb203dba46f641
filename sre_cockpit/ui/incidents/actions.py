"""An incident action from the key to the toasts: plan, silence form, confirm, send.

The feed plans (which provider takes which incident, what is skipped and why), previews the
exact requests and performs them; this module only runs the dialogs in between.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import App

from sre_cockpit.core.actions import ACTION_TITLES, SilenceRequest
from sre_cockpit.core.models import Incident
from sre_cockpit.feeds.incidents import ActionError, IncidentFeed
from sre_cockpit.ui.dialogs import ConfirmActionDialog, SilenceDialog
from sre_cockpit.ui.toast import toast


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
    try:
        previews = feed.previews(plan, silences)
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
    for result in await feed.perform(plan, silences):
        toast(app, result.message, title=title,
              severity="information" if result.ok else "error")
    return True
