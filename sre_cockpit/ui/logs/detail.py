"""The detail of one log line (``enter`` in the log pane): every parsed field, the labels, raw.

The sections come from :func:`~sre_cockpit.core.logdetail.detail_sections`: the line's time in
full, the stream's labels (and Loki's structured metadata), the fields — a JSON line
pretty-printed with nested objects indented, a logfmt line one ``key = value`` a row — and the
raw line. Everything is sanitised there and put in ``Text`` as plain text here (a field name or
value is never markup). The body scrolls (``up``/``down``, page keys, the wheel), so it is usable
at 80×24; ``c`` copies the raw line and ``C`` the whole detail (OSC 52 through
:mod:`sre_cockpit.ui.clipboard`); ``esc``/``q``/``enter`` close it.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Static

from sre_cockpit.core.logdetail import detail_sections, detail_text
from sre_cockpit.core.loglines import Row
from sre_cockpit.ui.clipboard import copy_text
from sre_cockpit.ui.toast import toast

__all__ = ["LineDetail", "detail_body", "show_line_detail"]


def detail_body(sections: list[tuple[str, list[str]]]) -> Text:
    """The sections as one ``Text`` (headings bold, lines indented; plain text only)."""
    text = Text()
    for index, (title, lines) in enumerate(sections):
        if index:
            text.append("\n")
        text.append(f"{title}\n", style="bold")
        for line in lines:
            text.append(f"  {line}\n")
    text.rstrip()
    return text


class LineDetail(ModalScreen[None]):
    """One line's time, labels, fields and raw text, scrollable and copyable."""

    DEFAULT_CSS = """
    LineDetail { align: center middle; }
    LineDetail > Vertical { width: 100%; max-width: 120; height: 100%; max-height: 40;
                            border: round $primary; background: $surface; padding: 0 1; }
    LineDetail #detail-title { height: 1; }
    LineDetail VerticalScroll { height: 1fr; }
    LineDetail #detail-body { width: 1fr; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,enter", "close", "close", id="logdetail.close"),
        Binding("c", "copy_raw", "copy line", id="logdetail.copy"),
        Binding("C", "copy_all", "copy all", id="logdetail.copy_all"),
    ]

    def __init__(self, sections: list[tuple[str, list[str]]], raw: str) -> None:
        """Args:
            sections: from :func:`~sre_cockpit.core.logdetail.detail_sections`.
            raw: the line as shown in the pane (sanitised), copied by ``c``.
        """
        super().__init__()
        self.sections = sections
        self.raw = raw

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("log line · ↑↓ scroll · c copy line · C copy all · esc close",
                              style="dim"), id="detail-title")
            with VerticalScroll(id="detail-scroll"):
                yield Static(detail_body(self.sections), id="detail-body")

    def on_mount(self) -> None:
        self.query_one("#detail-scroll", VerticalScroll).focus()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_copy_raw(self) -> None:
        """``c``: the raw line (as shown: sanitised) to the clipboard."""
        copy_text(self.app, self.raw)
        toast(self, "line copied to the clipboard (OSC 52)", timeout=2)

    def action_copy_all(self) -> None:
        """``C``: the whole detail as text to the clipboard."""
        copy_text(self.app, detail_text(self.sections))
        toast(self, "line detail copied to the clipboard (OSC 52)", timeout=2)


def show_line_detail(owner: Widget, row: Row | None, *, utc: bool) -> None:
    """Open the detail of ``row`` (a toast says so when there is no line)."""
    if row is None:
        toast(owner, "no line to show", timeout=2)
        return
    sections = detail_sections(row.ts_ns, row.labels, row.raw, metadata=row.metadata, utc=utc)
    owner.app.push_screen(LineDetail(sections, row.text))
