"""Copying an incident's links and fields: OSC 52 (through tmux too) and an OSC 8 link.

A link is copied only when it is http(s) (a ``javascript:`` or ``file:`` runbook is refused with
the reason), sanitised first, percent-encoded so it cannot break out of the hyperlink sequence,
and shown in full in the toast as a clickable link where the terminal speaks OSC 8 (plain text
elsewhere, so the operator can still read it).
"""

from __future__ import annotations

from textual.dom import DOMNode

from sre_cockpit.core.models import Incident
from sre_cockpit.core.sanitize import sanitize, sanitize_line
from sre_cockpit.ui.clipboard import MAX_CLIPBOARD_BYTES, copy_text, safe_link
from sre_cockpit.ui.toast import link, toast


def copy_link(where: DOMNode, url: str | None, *, what: str, missing: str) -> bool:
    """Copy ``url`` and show it as a link; say why not when it cannot be.

    Args:
        where: any widget of the app.
        url: the link as the provider gave it (None: there is none).
        what: how the toast names it (``runbook``, ``URL``).
        missing: the toast when there is no link.

    Returns:
        Whether it was copied.
    """
    if not url:
        toast(where, missing, title=what, severity="warning")
        return False
    shown = sanitize_line(url, max_bytes=MAX_CLIPBOARD_BYTES * 2)
    safe = safe_link(shown)
    if safe is None:
        toast(where, f"not an http(s) link, not copied: {shown[:300]}", title=what,
              severity="warning")
        return False
    if len(safe.encode()) > MAX_CLIPBOARD_BYTES:
        toast(where, f"{what} longer than {MAX_CLIPBOARD_BYTES} bytes: not copied", title=what,
              severity="warning")
        return False
    copy_text(where.app, safe)
    toast(where, link(f"{what} copied: ", safe), title=what)
    return True


def copy_value(where: DOMNode, name: str, value: str) -> bool:
    """Copy a field's value (sanitised, so the clipboard never carries escape sequences).

    Returns:
        Whether it was copied (a value over the clipboard limit is refused, never cut).
    """
    text = sanitize(value, max_bytes=None)
    size = len(text.encode())
    if size > MAX_CLIPBOARD_BYTES:
        toast(where, f"{name}: {size:,} bytes, more than the {MAX_CLIPBOARD_BYTES:,} a terminal "
                     "clipboard takes: not copied", title="copy", severity="warning")
        return False
    copy_text(where.app, text)
    preview = sanitize_line(text, max_bytes=200)
    toast(where, f"copied {name}: {preview}", title="copy")
    return True


def copy_url(where: DOMNode, incident: Incident | None) -> bool:
    """``o``: the incident's own link (its page in the incident system)."""
    return copy_link(where, incident.url if incident is not None else None, what="URL",
                     missing="this incident has no URL" if incident is not None
                     else "no incident under the cursor")


def copy_runbook(where: DOMNode, incident: Incident | None) -> bool:
    """``b``: the incident's runbook link, or why there is none."""
    missing = ("no incident under the cursor" if incident is None else
               f"{sanitize_line(incident.title)[:80]} has no runbook link (Alertmanager: a "
               "runbook_url annotation)")
    return copy_link(where, incident.runbook_url if incident is not None else None,
                     what="runbook", missing=missing)
