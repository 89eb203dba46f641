"""Checks for the markup-safety tests: what was parsed as markup, what reached the terminal.

- :func:`record_markup` wraps every markup parser Textual and Rich have (``Content.from_markup``,
  ``Text.from_markup``, ``rich.markup.render``, the console's ``render_markup``) and records each
  string that carries hostile text (``[/][b]`` or ``CLICK``, see :mod:`hostile_backends`). A
  sink that hands backend text to Textual as a ``str`` shows up here even when it happens not to
  crash. :class:`~sre_cockpit.ui.plain.TrustedMarkup` is not recorded (checked by its maker).
- :func:`screen_of` exports a pilot app's screen (Textual's SVG screenshot keeps ESC, C1 and
  bidi characters as they would be written) and its text.
- :func:`check_terminal_bytes` reads the raw bytes a real cockpit wrote to its pty.
"""

from __future__ import annotations

import base64
import html
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hostile_backends import RAW_FORBIDDEN
from rich.cells import cell_len

from sre_cockpit.core.sanitize import is_terminal_safe
from sre_cockpit.ui.plain import TrustedMarkup

HOSTILE_MARKERS = ("[/][b]", "CLICK")


@contextmanager
def record_markup(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Record every hostile string any markup parser sees while the block runs."""
    import rich.console
    import rich.markup
    from rich.text import Text
    from textual.content import Content

    seen: list[str] = []

    def note(markup: object) -> None:
        if (isinstance(markup, str) and not isinstance(markup, TrustedMarkup)
                and any(marker in markup for marker in HOSTILE_MARKERS)):
            seen.append(markup)

    content_from_markup = Content.from_markup.__func__  # type: ignore[attr-defined]
    text_from_markup = Text.from_markup.__func__  # type: ignore[attr-defined]
    render = rich.markup.render
    console_render = rich.console.render_markup

    def content_wrapper(cls: type[Content], markup: Any, **variables: Any) -> Content:
        note(markup)
        result: Content = content_from_markup(cls, markup, **variables)
        return result

    def text_wrapper(cls: type[Text], text: str, *args: Any, **kwargs: Any) -> Text:
        note(text)
        result: Text = text_from_markup(cls, text, *args, **kwargs)
        return result

    def render_wrapper(markup: str, *args: Any, **kwargs: Any) -> Any:
        note(markup)
        return render(markup, *args, **kwargs)

    def console_wrapper(markup: str, *args: Any, **kwargs: Any) -> Any:
        note(markup)
        return console_render(markup, *args, **kwargs)

    monkeypatch.setattr(Content, "from_markup", classmethod(content_wrapper))
    monkeypatch.setattr(Text, "from_markup", classmethod(text_wrapper))
    monkeypatch.setattr(rich.markup, "render", render_wrapper)
    monkeypatch.setattr(rich.console, "render_markup", console_wrapper)
    yield seen


_SVG_TEXT = re.compile(r'<text class="[^"]*-r\d+" x="([\d.]+)" y="[\d.]+" textLength="[\d.]+" '
                       r'clip-path="url\(#[^)]*-line-(\d+)\)">(.*?)</text>', re.S)
CELL_PX = 12.2
"""Width of one terminal cell in Rich's SVG export."""


def screen_of(app: Any) -> tuple[str, str]:
    """(the raw SVG screenshot, the screen's text: one line per row, cells in place)."""
    svg: str = app.export_screenshot()
    rows: dict[int, list[tuple[int, str]]] = {}
    for x, line, body in _SVG_TEXT.findall(svg):
        text = html.unescape(body).replace("\xa0", " ").replace("\n", "")
        rows.setdefault(int(line), []).append((round(float(x) / CELL_PX), text))
    lines = []
    for number in range(max(rows, default=-1) + 1):
        out = ""
        for column, text in sorted(rows.get(number, [])):
            out += " " * max(0, column - cell_len(out)) + text
        lines.append(out)
    return svg, "\n".join(lines)


def assert_clean_svg(svg: str) -> None:
    """No hostile escape, C1 control or bidi override would be written for this screen."""
    for piece in RAW_FORBIDDEN:
        assert piece not in svg, f"{piece!r} would reach the terminal"
    assert not re.search("[\x80-\x9f\u202a-\u202e\u2066-\u2069]", svg), \
        "a C1 control or bidi override would reach the terminal"


async def wait_screen(pilot: Any, predicate: Callable[[str], bool], within: float = 15.0) -> str:
    """Pause the pilot until the screen text satisfies ``predicate``; return that text."""
    deadline = time.monotonic() + within
    while True:
        _svg, text = screen_of(pilot.app)
        if predicate(text):
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"screen never matched; it reads:\n{text[-4000:]}")
        await pilot.pause(0.2)


# --------------------------------------------------------------------------- raw pty bytes

_OSC = re.compile(rb"\x1b\](\d+);(.*?)(?:\x07|\x1b\\)", re.S)


def check_terminal_bytes(out: bytes) -> list[str]:
    """Assert that nothing a backend sent drove the terminal; return the clipboard payloads
    the cockpit wrote itself (OSC 52, decoded).

    Textual writes its own CSI sequences, OSC 8 links, OSC 22 pointer shapes and OSC 52
    copies; everything else of the hostile text must be missing: the sequences of :data:`hostile_backends.RAW_FORBIDDEN`,
    any 8-bit C1 control (UTF-8 ``C2 80``–``C2 9F``), bidi overrides, DCS/SOS/PM/APC strings,
    any OSC other than 8, 22 and 52, and any BEL that does not end one of those.
    """
    text = out.decode("utf-8", "surrogateescape")
    for piece in (*RAW_FORBIDDEN, "\x07\x1b[2J", "\u2066", "\u2067"):
        assert piece not in text, f"{piece!r} reached the terminal"
    assert not re.search(rb"\xc2[\x80-\x9f]", out), "an 8-bit C1 control reached the terminal"
    for introducer in (b"\x1bP", b"\x1bX", b"\x1b^", b"\x1b_"):
        assert introducer not in out, f"{introducer!r} string reached the terminal"
    copied: list[str] = []
    for match in _OSC.finditer(out):
        number, body = match.group(1), match.group(2)
        assert number in (b"8", b"22", b"52"), \
            f"OSC {number!r} reached the terminal: {match.group(0)!r}"
        if number == b"22":  # Textual's mouse pointer shape
            assert re.fullmatch(rb"[a-z-]+", body), f"pointer shape {body!r}"
        elif number == b"52":
            payload = base64.b64decode(body.split(b";", 1)[1]).decode("utf-8", "replace")
            assert is_terminal_safe(payload), f"unsafe clipboard payload {payload!r}"
            copied.append(payload)
        else:
            link = body.split(b";", 1)[-1].decode("utf-8", "replace")
            assert link == "" or re.match(r"https?://[\x21-\x7e]+$", link), \
                f"hyperlink to {link!r}"
    assert b"\x07" not in _OSC.sub(b"", out), "a BEL outside an OSC reached the terminal"
    assert b"Traceback" not in out, out[-3000:].decode("utf-8", "replace")
    return copied


def find_on_screen(lines: list[str], word: str) -> list[tuple[int, int]]:
    """(column, row) of every occurrence of ``word`` on the screen, 0-based."""
    return [(x, y) for y, line in enumerate(lines) for x in
            (m.start() for m in re.finditer(re.escape(word), line))]


def mouse_click(column: int, row: int) -> bytes:
    """An SGR mouse press and release of the left button at a 0-based cell."""
    return (f"\x1b[<0;{column + 1};{row + 1}M".encode()
            + f"\x1b[<0;{column + 1};{row + 1}m".encode())
