"""Modal dialogs for incident actions: confirm (what exactly is sent where) and silence.

Every piece of provider data shown here is sanitised and built as ``Text``; nothing is parsed
as markup.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Static, TextArea

from sre_cockpit.core.actions import ACTION_TITLES, ActionPreview, SilenceRequest
from sre_cockpit.core.durations import format_duration, parse_duration
from sre_cockpit.core.models import Incident
from sre_cockpit.core.sanitize import sanitize, sanitize_line
from sre_cockpit.ui.plain import plain, plain_str

MAX_PAYLOAD_CHARS = 20_000
BOX_SHARE = 0.95
"""A dialog box's height at most, of the screen's (its CSS ``max-height: 95%``)."""


def bound_body(screen: ModalScreen[Any], body: Widget) -> None:
    """Keep a dialog's scrolling ``body`` short enough for its docked title and buttons to stay
    on screen: a ``height: auto`` scroll inside a ``max-height`` box grows to its whole content
    and is cut by the box, buttons and all, with nothing left to scroll (seen at 80×24)."""
    box = body.parent
    if not isinstance(box, Widget) or not screen.size.height:
        return
    chrome = box.styles.gutter.height + sum(
        child.outer_size.height for child in box.children
        if child is not body and child.display and child.styles.dock != "none")
    room = max(3, int(screen.size.height * BOX_SHARE) - chrome)
    if body.styles.max_height is None or body.styles.max_height.value != room:
        body.styles.max_height = room


def pretty_json(value: Any, indent: int = 0, width: int = 100) -> str:
    """JSON indented by two spaces, but any value that fits in ``width`` on one line stays on
    one line (a silence matcher per line instead of six)."""
    flat = json.dumps(value, ensure_ascii=False, default=str)
    if len(flat) + indent <= width or not isinstance(value, dict | list) or not value:
        return flat
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        items = [f"{pad}{json.dumps(str(k), ensure_ascii=False)}: {pretty_json(v, indent + 2, width)}"
                 for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    items = [pad + pretty_json(v, indent + 2, width) for v in value]
    return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"


def describe_preview(previews: Sequence[ActionPreview], targets: Sequence[Incident] = (),
                     skipped: Sequence[str] = ()) -> Text:
    """The confirm dialog body: the incidents it goes to (titles, not only ids), what is skipped
    and why, then for each provider the method, endpoint and JSON payload."""
    text = Text()
    if targets:
        text.append("incidents\n", style="bold")
        for incident in targets:
            text.append(f"  {sanitize_line(incident.provider)}:{sanitize_line(incident.id)}  ")
            text.append(sanitize_line(incident.title) + "\n")
    if skipped:
        text.append(f"skipped ({len(skipped)})\n", style="bold")
        for line in skipped:
            text.append("  " + sanitize_line(line) + "\n")
    if targets or skipped:
        text.append("\n")
    for n, preview in enumerate(previews):
        if n:
            text.append("\n\n")
        text.append("provider  ", style="bold")
        text.append(sanitize_line(preview.provider))
        text.append("\naction    ", style="bold")
        text.append(sanitize_line(ACTION_TITLES.get(preview.action, preview.action)))
        text.append("\nrequest   ", style="bold")
        text.append(sanitize_line(preview.method), style="bold")
        text.append(" ")
        text.append(sanitize_line(preview.endpoint))
        text.append("\npayload\n", style="bold")
        if preview.payload is None:
            text.append("(no body)", style="italic")
        else:
            body = pretty_json(preview.payload)
            if len(body) > MAX_PAYLOAD_CHARS:
                body = body[:MAX_PAYLOAD_CHARS] + f"\n… ({len(body) - MAX_PAYLOAD_CHARS} more characters)"
            text.append(sanitize(body, max_bytes=None))
    return text


class ConfirmActionDialog(ModalScreen[bool]):
    """Shows exactly what will be sent to which API; ``y``/enter confirms, ``n``/esc cancels."""

    DEFAULT_CSS = """
    ConfirmActionDialog { align: center middle; }
    ConfirmActionDialog > Vertical {
        width: 90%; max-width: 110; height: auto; max-height: 95%;
        border: thick $warning; background: $surface; padding: 0 1;
    }
    ConfirmActionDialog .dialog-title { text-style: bold; width: 1fr; dock: top; }
    ConfirmActionDialog .dialog-warning { dock: top; offset-y: 1; color: $warning; }
    ConfirmActionDialog VerticalScroll { height: auto; }
    ConfirmActionDialog .dialog-buttons { height: 3; align-horizontal: right; dock: bottom; }
    ConfirmActionDialog Button { margin-left: 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "confirm", "Send", id="dialog.confirm"),
        Binding("n,escape", "cancel", "Cancel", id="dialog.cancel"),
        Binding("down,j", "scroll_body(1)", "scroll down", show=False, id="dialog.down"),
        Binding("up,k", "scroll_body(-1)", "scroll up", show=False, id="dialog.up"),
        Binding("pagedown", "scroll_body(0, 1)", "page down", show=False,
                id="dialog.page_down"),
        Binding("pageup", "scroll_body(0, -1)", "page up", show=False, id="dialog.page_up"),
    ]

    def __init__(self, previews: Sequence[ActionPreview], *, title: str,
                 warning: str | None = None, targets: Sequence[Incident] = (),
                 skipped: Sequence[str] = ()) -> None:
        super().__init__()
        self.previews = tuple(previews)
        self.dialog_title = title
        self.warning = warning
        self.targets = tuple(targets)
        self.skipped = tuple(skipped)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain(self.dialog_title), classes="dialog-title")
            if self.warning:
                yield Static(plain(self.warning, "bold"), classes="dialog-warning")
            with VerticalScroll():
                yield Static(describe_preview(self.previews, self.targets, self.skipped),
                             classes="dialog-body")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Send (y)", variant="warning", id="confirm")
                yield Button("Cancel (n)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#confirm", Button).focus()
        self.call_after_refresh(self._fit)

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit)

    def _fit(self) -> None:
        bound_body(self, self.query_one(VerticalScroll))

    def action_scroll_body(self, lines: int, pages: int = 0) -> None:
        """Scroll what will be sent (``startsAt``, ``endsAt``, ``createdBy``, ``comment`` of a
        silence lie below the matchers at 80×24) while the focus stays on Send."""
        body = self.query_one(VerticalScroll)
        step = lines + pages * max(1, body.scrollable_content_region.height - 1)
        body.scroll_to(y=body.scroll_y + step, animate=False)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm")

    def action_confirm(self) -> None:
        """Send."""
        self.dismiss(True)

    def action_cancel(self) -> None:
        """Do nothing."""
        self.dismiss(False)


_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_MATCHER = re.compile(r'^\s*([a-zA-Z_][a-zA-Z0-9_]*|"(?:[^"\\]|\\.)*")\s*(=~|!~|!=|=)\s*(.*?)\s*$')


def format_matchers(matchers: Sequence[tuple[str, str, bool, bool]]) -> str:
    """One matcher per line in PromQL style: ``name="value"``, ``name=~"re"``, ``name!="v"``;
    a name that is not a plain label name is quoted like a value (``"a b"="v"``)."""
    lines = []
    for name, value, is_regex, is_equal in matchers:
        op = ("=~" if is_regex else "=") if is_equal else ("!~" if is_regex else "!=")
        # Names and values with controls, bidi or invisible characters are shown \u-escaped
        # (the editor draws its text as it is): the round trip through parse_matchers is
        # exact and nothing hostile reaches the screen.
        shown_name = name if _NAME.fullmatch(name) else json.dumps(name, ensure_ascii=True)
        safe = sanitize_line(value) == value
        lines.append(f"{shown_name}{op}{json.dumps(value, ensure_ascii=not safe)}")
    return "\n".join(lines)


def parse_matchers(text: str) -> tuple[tuple[str, str, bool, bool], ...]:
    """Parse :func:`format_matchers` output back (quotes optional).

    Raises:
        ValueError: naming the line that is not a matcher.
    """
    out: list[tuple[str, str, bool, bool]] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        match = _MATCHER.match(line)
        if not match:
            raise ValueError(f"line {n}: expected name=\"value\" (or =~, !=, !~)")
        name, op, raw = match.groups()
        if name.startswith('"'):
            try:
                name = json.loads(name)
            except ValueError as exc:
                raise ValueError(f"line {n}: bad quoted name") from exc
        value: Any = raw
        if raw.startswith('"'):
            try:
                value = json.loads(raw)
            except ValueError as exc:
                raise ValueError(f"line {n}: bad quoted value") from exc
        if not isinstance(value, str):
            raise ValueError(f"line {n}: the value must be a string")
        is_regex = op in ("=~", "!~")
        if is_regex:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"line {n}: bad regular expression: {exc}") from exc
        out.append((name, value, is_regex, op in ("=", "=~")))
    if not out:
        raise ValueError("a silence needs at least one matcher")
    if all((not eq) or (rx and re.fullmatch(v, "")) for _, v, rx, eq in out):
        raise ValueError("at least one matcher must not match the empty string")
    return tuple(out)


class SilenceDialog(ModalScreen["SilenceRequest | None"]):
    """Choose the duration, matchers (defaulting to the alert's identifying labels) and
    comment of a silence. Returns a :class:`SilenceRequest` or None when cancelled."""

    DEFAULT_CSS = """
    SilenceDialog { align: center middle; }
    SilenceDialog > Vertical {
        width: 90%; max-width: 100; height: auto; max-height: 95%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    SilenceDialog .dialog-title { text-style: bold; dock: top; }
    SilenceDialog VerticalScroll { height: auto; }
    SilenceDialog TextArea { height: 8; }
    SilenceDialog Input { width: 1fr; }
    SilenceDialog .dialog-foot { height: auto; dock: bottom; }
    SilenceDialog .dialog-error { color: $error; height: auto; }
    SilenceDialog .dialog-buttons { height: 3; align-horizontal: right; }
    SilenceDialog Button { margin-left: 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
        Binding("ctrl+s", "submit", "Continue", id="dialog.submit"),
    ]

    def __init__(self, incidents: Sequence[Incident], default: SilenceRequest) -> None:
        super().__init__()
        self.incidents = tuple(incidents)
        self.default = default

    def compose(self) -> ComposeResult:
        count = len(self.incidents)
        title = self.incidents[0].title if count == 1 else f"{count} alerts"
        with Vertical():
            yield Static(plain(f"Silence {title}"), classes="dialog-title")
            with Vertical(classes="dialog-foot"):  # docked: visible at 80×24 too
                yield Static("", classes="dialog-error")
                with Horizontal(classes="dialog-buttons"):
                    yield Button("Continue (ctrl+s)", variant="primary", id="submit")
                    yield Button("Cancel (esc)", id="cancel")
            with VerticalScroll():  # the fields scroll between the title and the buttons
                yield Label("Duration (e.g. 30m, 2h, 1d)")
                yield Input(format_duration(self.default.duration_s), id="silence-duration")
                yield Label("Matchers, one per line (name=\"value\", =~ regex, != and !~ "
                            "negate)")
                yield TextArea(format_matchers(self.default.matchers), id="silence-matchers",
                               soft_wrap=False, show_line_numbers=False)
                yield Label("Comment")
                yield Input(plain_str(self.default.comment), id="silence-comment",
                            placeholder="why (shown to others)")

    def on_mount(self) -> None:
        self.query_one("#silence-duration", Input).focus()
        self.call_after_refresh(self._fit)

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit)

    def _fit(self) -> None:
        bound_body(self, self.query_one(VerticalScroll))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "submit":
            self.action_submit()
        else:
            self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def build_request(self) -> SilenceRequest:
        """The request the fields describe.

        Raises:
            ValueError: with a message for the error line.
        """
        duration = parse_duration(self.query_one("#silence-duration", Input).value)
        if duration <= 0:
            raise ValueError("the duration must be longer than 0s")
        matchers = parse_matchers(self.query_one("#silence-matchers", TextArea).text)
        comment = self.query_one("#silence-comment", Input).value.strip()
        return SilenceRequest(matchers=matchers, duration_s=duration, comment=comment,
                              created_by=self.default.created_by)

    def action_submit(self) -> None:
        """Validate and return the request."""
        try:
            request = self.build_request()
        except ValueError as exc:
            self.query_one(".dialog-error", Static).update(plain(exc))
            return
        self.dismiss(request)

    def action_cancel(self) -> None:
        """Return None."""
        self.dismiss(None)
