"""The one way the cockpit shows a toast: text from a backend is never parsed as markup.

``app.notify`` parses its message as Textual markup by default, so a Loki error body reading
``[/]`` crashed the cockpit and ``[@click=app.quit]`` became a live action. :func:`toast` takes
plain text (every line made terminal-safe by :func:`~sre_cockpit.ui.plain.plain_str`) or a
:class:`~textual.content.Content` built from plain strings and styled with spans (a link): that
one goes as :class:`~sre_cockpit.ui.plain.TrustedMarkup` when its markup parses back to exactly
the same content, else as its plain text. The cockpit's ``notify`` shows anything else as plain
text, whoever calls it.

A toast that is gone must leave nothing behind: :func:`repaint_when_gone` (called for every
notification by the app) repaints the screen once the toast's time is up. Textual 8.2.8 removes
an expired toast and repaints the area its compositor map says the toast covered; but after a
scroll-only layout (``reflow_visible``: the log stream, a table moving its cursor) that map is
marked stale, and the removal itself (its mouse-over check) rebuilds it without the toast, so
the next layout finds nothing to repaint. Rows no widget repaints by itself — a pane's bottom
border, its detail line — kept the toast's ``▌`` edge and text for as long as the cockpit ran
(seen at 80x24, where the toast overlaps them).
"""

from __future__ import annotations

import contextlib
from typing import Any, Literal

from textual.app import App
from textual.content import Content
from textual.dom import DOMNode

from sre_cockpit.ui.plain import plain_content, plain_str, trusted_markup

Severity = Literal["information", "warning", "error"]

REPAINT_AFTER_S = 0.5
"""How long after a toast's timeout the screen is repainted (Textual removes it at its timeout,
measured from when the toast is mounted: a moment after ``notify``)."""


def toast(where: App[object] | DOMNode, message: str | Content, *, title: str = "",
          severity: Severity = "information", timeout: float | None = None) -> None:
    """Show a toast. ``message`` is plain text (every line sanitised) or styled ``Content``."""
    app = where if isinstance(where, App) else where.app
    if isinstance(message, Content):
        markup = trusted_markup(message)
        if markup is not None:
            app.notify(markup, title=plain_str(title), severity=severity, timeout=timeout,
                       markup=True)
            return
        message = message.plain
    app.notify(plain_str(message, multiline=True), title=plain_str(title), severity=severity,
               timeout=timeout, markup=False)


def repaint_when_gone(app: App[Any], timeout: float | None) -> None:
    """Repaint the whole screen once a toast shown now (``timeout`` as given to ``notify``;
    None: Textual's default) has been removed, so it leaves no trace (see the module
    docstring). One full repaint per toast."""
    seconds = (app.NOTIFICATION_TIMEOUT if timeout is None else timeout) + REPAINT_AFTER_S
    app.set_timer(seconds, lambda: _repaint(app), name="toast-repaint")


def _repaint(app: App[Any]) -> None:
    with contextlib.suppress(Exception):  # no screen any more: nothing to repaint
        app.screen.refresh()


def link(prefix: str, url: str) -> Content:
    """``prefix`` then ``url`` as a clickable link (``url`` must already be a safe link)."""
    from textual.style import Style

    return plain_content(prefix) + Content(url).stylize(Style(link=url))
