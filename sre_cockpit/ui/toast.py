"""The one way the cockpit shows a toast: text from a backend is never parsed as markup.

``app.notify`` parses its message as Textual markup by default, so a Loki error body reading
``[/]`` crashed the cockpit and ``[@click=app.quit]`` became a live action. :func:`toast` takes
plain text (sanitised to terminal-safe lines) or a :class:`~textual.content.Content` built from
plain strings and styled with spans (a link), whose markup Textual escapes itself.
"""

from __future__ import annotations

from typing import Literal

from textual.app import App
from textual.content import Content
from textual.dom import DOMNode

from sre_cockpit.core.sanitize import sanitize_line

Severity = Literal["information", "warning", "error"]


def toast(where: App[object] | DOMNode, message: str | Content, *, title: str = "",
          severity: Severity = "information", timeout: float | None = None) -> None:
    """Show a toast. ``message`` is plain text (every line sanitised) or styled ``Content``."""
    app = where if isinstance(where, App) else where.app
    if isinstance(message, Content):
        app.notify(message.markup, title=sanitize_line(title), severity=severity,
                   timeout=timeout, markup=True)
        return
    text = "\n".join(sanitize_line(line) for line in str(message).splitlines()) or ""
    app.notify(text, title=sanitize_line(title), severity=severity, timeout=timeout,
               markup=False)


def link(prefix: str, url: str) -> Content:
    """``prefix`` then ``url`` as a clickable link (``url`` must already be a safe link)."""
    from textual.style import Style

    return Content(sanitize_line(prefix)) + Content(url).stylize(Style(link=url))
