"""Issue 16 item 2: no markup from backends, fuzzed through every UI sink.

Textual parses a ``str`` as markup almost everywhere, so a Loki 500 body ``[/]`` crashed the
cockpit (``MarkupError``, a Rich traceback, exit 1) and ``[@click=app.quit]…[/]`` in an error
body became a clickable action. Every place where text from a backend, the config, a log line,
a note or an error body reaches the screen now goes through :mod:`sre_cockpit.ui.plain`:

=================================  ====================================================
sink                               route
=================================  ====================================================
toasts (any ``notify``)            ``toast()`` / ``CockpitApp.notify``: ``plain_str``;
                                   a link only as round-trip-checked ``TrustedMarkup``
border titles / subtitles          constants, or ``plain_content`` (SLO detail)
``Static`` / ``Label`` updates     ``plain`` (empty states, filter bar, moment banner,
                                   timeline status, SLO cursor error, dialogs, notes
                                   editor, quit screen, ``:`` errors)
``DataTable`` cells                ``Text`` from sanitised strings (incidents, SLOs,
                                   timeline), ``plain`` (help)
footer / binding descriptions      the cockpit's own constants (``keys:`` only remaps)
header badges, source lines        ``Text`` from sanitised context/provider names, errors
command palette                    ``plain_content``, ``plain_highlight`` (Textual's
                                   ``Matcher.highlight`` parses the candidate)
inputs                             LogQL editor value and ``:`` completions: ``plain_str``
text areas                         silence matchers: names and values ``\\u``-escaped
log view, SLO detail, confirm      ``scan``/``sanitize`` into ``Text`` (never markup)
=================================  ====================================================

Fuzz: :mod:`hostile_backends` serves a Prometheus, a Loki, an Alertmanager and a PagerDuty that
put markup and escapes in every field and error body, and a config whose context, provider,
SLO names, queries and user are hostile. The pilot tests open each sink with the markup parsers
recorded (:func:`markup_helpers.record_markup`); the pty tests drive the real ``sre-cockpit``
through every view and read the raw bytes.
"""

from __future__ import annotations

import ast
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from hostile_backends import (
    CLICK_BODY,
    INCIDENT_URL,
    MARKUP,
    HostileBackends,
    hostile,
    hostile_backends,
    hostile_config,
    short_hostile,
    shown,
)
from markup_helpers import (
    assert_clean_svg,
    check_terminal_bytes,
    find_on_screen,
    mouse_click,
    record_markup,
    screen_of,
    wait_screen,
)
from notes_helpers import Cockpit
from rich.text import Text
from textual.content import Content
from textual.fuzzy import Matcher
from textual.markup import MarkupError

from sre_cockpit.ui.clipboard import safe_link
from sre_cockpit.ui.commandline import CommandSuggester
from sre_cockpit.ui.dialogs import format_matchers, parse_matchers
from sre_cockpit.ui.pane import SourceLine
from sre_cockpit.ui.plain import (
    TrustedMarkup,
    plain,
    plain_content,
    plain_highlight,
    plain_str,
    trusted_markup,
)
from sre_cockpit.ui.toast import link

UI = Path(__file__).resolve().parents[1] / "sre_cockpit" / "ui"
SHOWN_PROVIDER = "ND[/][b]␛]0;pwned␇⟨9B⟩6n⟨U+202E⟩"


# ------------------------------------------------------------------------------ the helper

def test_plain_shows_markup_and_escapes_as_text() -> None:
    text = plain(hostile("T1"), "bold")
    assert isinstance(text, Text) and text.plain.startswith(shown("T1"))
    assert "\x1b" not in text.plain and "\x9b" not in text.plain and "\u202e" not in text.plain
    assert "␛]52;c;cHduZWQ=␇" in text.plain and "…+" in text.plain  # capped, said so
    assert [str(s.style) for s in text.spans] == [] and str(text.style) == "bold"
    content = plain_content("[/] $variable\x07", "italic")
    assert isinstance(content, Content) and content.plain == "[/] $variable␇"
    assert plain_str("a\nb") == "a␤b" and plain_str("a\nb", multiline=True) == "a\nb"
    assert plain_str(None) == "" and plain_str(42) == "42"


@pytest.mark.parametrize("prefix", ["copied ", "[/ ", "a\\", "x [b]", "[@click=app.quit]q[/]"])
def test_a_link_toast_is_markup_only_when_it_parses_back_exactly(prefix: str) -> None:
    content = link(prefix, "https://pd.example/i/P%5B1%5D?a=1&b='2'")
    markup = trusted_markup(content)
    if markup is not None:
        assert isinstance(markup, TrustedMarkup)
        assert Content.from_markup(markup).plain == content.plain
    else:  # Textual's escaping cannot express it: the toast falls back to the plain text
        assert prefix in ("[/ ", "a\\")


async def test_cockpit_notify_is_plain_whoever_calls_and_caps_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from shell_helpers import shell_app
    from textual.app import App

    from sre_cockpit.ui.toast import toast

    sent: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(App, "notify", lambda self, message, **kw: sent.append((message, kw)))
    app = shell_app()
    async with app.run_test(size=(80, 24)):
        app.notify("[/] \x1b]0;t\x07", title="[b]\x9b")  # Textual's default: markup=True
        app.screen.notify("[@click=app.quit]q[/]")  # Widget.notify passes markup=True
        toast(app, "x" * 20_000)
        toast(app, link("copied ", "https://e.example/a"))
        toast(app, link("[/ ", "https://e.example/a"))  # cannot round-trip: plain
    assert [(m, kw["markup"]) for m, kw in sent[:2]] == [
        ("[/] ␛]0;t␇", False), ("[@click=app.quit]q[/]", False)]
    assert sent[0][1]["title"] == "[b]⟨9B⟩"
    assert sent[2][0].endswith("x…+15904 bytes")  # capped once, counted right
    assert isinstance(sent[3][0], TrustedMarkup) and sent[3][1]["markup"] is True
    assert sent[4][0] == "[/ https://e.example/a" and sent[4][1]["markup"] is False


def test_palette_highlight_never_parses_the_candidate() -> None:
    name = f"Context: {hostile('CX')}"
    highlighted = plain_highlight(Matcher("cx"), name)
    assert highlighted.plain == plain_str(name)
    assert highlighted.spans, "the fuzzy match is still highlighted"
    with pytest.raises(MarkupError):  # what Textual's own highlight does with it
        Matcher("cx").highlight(name)


def test_silence_matchers_quote_hostile_names_and_round_trip() -> None:
    matchers = ((short_hostile("AK"), hostile("AL"), False, True),
                ("alertname", "x\x1b]0;t\x07", False, True), ('a"b', "c", True, False))
    text = format_matchers(matchers)
    assert "\x1b" not in text and "\x9b" not in text and "\u202e" not in text
    assert text.splitlines()[0].startswith('"AK[/][b]\\u001b]0;pwned')
    assert parse_matchers(text) == matchers


async def test_command_completion_never_offers_a_name_with_escapes() -> None:
    names = {"ctx": [hostile("CX"), "staging"]}
    suggester = CommandSuggester(lambda verb: names.get(verb, []))
    assert await suggester.get_suggestion("ctx CX") is None
    assert await suggester.get_suggestion("ctx st") == "ctx staging"


# ------------------------------------------------------------------------------ the rule

MARKUP_APIS = {"from_markup", "render_str", "render_markup"}


def _violations(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    rel = path.relative_to(UI.parent)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in MARKUP_APIS and path.name != "plain.py":
            yield f"{rel}:{node.lineno}: {node.attr} parses markup"
        if not isinstance(node, ast.Call):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if (isinstance(target, ast.Attribute)
                            and target.attr in ("border_title", "border_subtitle")
                            and not isinstance(node.value, ast.Constant | ast.Call)
                            and not (isinstance(node.value, ast.Attribute)
                                     and node.value.attr.isupper())):  # a class constant
                        yield f"{rel}:{node.lineno}: {target.attr} set from a str expression"
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        for keyword in node.keywords:
            if (keyword.arg == "markup" and isinstance(keyword.value, ast.Constant)
                    and keyword.value.value is True and path.name != "toast.py"):
                yield f"{rel}:{node.lineno}: markup=True"
        upward = (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call)
                  and getattr(func.value.func, "id", "") == "super")  # the app's own notify
        if name == "notify" and path.name != "toast.py" and not upward:
            yield f"{rel}:{node.lineno}: notify() instead of toast()"
        if name in ("Static", "Label", "update", "add_row", "add_column", "update_cell", "Hit",
                    "DiscoveryHit", "Option"):
            for arg in node.args:
                if isinstance(arg, ast.JoinedStr | ast.BinOp):
                    yield f"{rel}:{node.lineno}: {name}() of a built str (parsed as markup)"


def test_ui_code_hands_no_built_string_to_a_markup_sink() -> None:
    found = [v for path in sorted(UI.rglob("*.py")) for v in _violations(path)]
    assert not found, "\n".join(found)


# ------------------------------------------------------------------------------ pilot

@pytest.fixture(scope="module")
def backends() -> Iterator[HostileBackends]:
    with hostile_backends() as server:
        yield server


@asynccontextmanager
async def cockpit(backends: HostileBackends, tmp_path: Path, **config: Any) -> AsyncIterator[Any]:
    """The real app on the hostile backends, run by a pilot, once every pane has data."""
    from sre_cockpit.config.model import load_config
    from sre_cockpit.ui.app import make_app

    path = tmp_path / "hostile.yaml"
    path.write_text(hostile_config(backends.url, **config))
    path.chmod(0o600)
    app = make_app(load_config(path))
    async with app.run_test(size=(160, 50), notifications=True) as pilot:
        await wait_screen(pilot, lambda t: all(s in t for s in (
            shown("T1"), shown("AT"), shown("LL")[:12], "SN[/][b]", "PT[/][b]")), 30)
        yield pilot


async def expect(pilot: Any, *keys: str, want: str | tuple[str, ...] = (),
                 within: float = 15.0) -> str:
    """Press ``keys``, wait until the screen shows every ``want``, check that the screen
    would write no hostile escape, and return its text."""
    wanted = (want,) if isinstance(want, str) else want
    if keys:
        await pilot.press(*keys)
    await pilot.pause(0.3)
    try:
        await wait_screen(pilot, lambda t: all(w in t for w in wanted), within)
    except AssertionError as exc:
        missing = [w for w in wanted if w not in screen_of(pilot.app)[1]]
        raise AssertionError(f"not on screen: {missing!r}\n{exc}") from None
    svg, text = screen_of(pilot.app)
    assert_clean_svg(svg)
    return text


async def test_pilot_panes_header_and_sources(backends: HostileBackends, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    with record_markup(monkeypatch) as parsed:
        async with cockpit(backends, tmp_path) as pilot:
            await expect(pilot, want=(
                *(shown(tag)[:12] for tag in ("T1", "T2", "AT", "AQ", "LL", "L1", "PT")),
                "ctx CX[/][b]$variable [@click=app.quit]CLICK[/]",  # header
                f"● {SHOWN_PROVIDER} ok",  # a source line
                "NG[/][b]␛]0;pwned␇⟨9B⟩6n⟨U+202E⟩: HTTP 500 from proxy",  # a failing one
                "note by PG[/][b]$variable", "silence created by SC[/]["))
            # who is on call ends the incidents' source line (cut at this width): its text
            source_line = pilot.app.query_one("#incidents").query_one(SourceLine)
            oncall = f"on call ({SHOWN_PROVIDER}): OU[/][b]$variable [@click=app.quit]CLICK[/]"
            for _ in range(50):
                if oncall in source_line.make_text().plain:
                    break
                await pilot.pause(0.2)
            assert oncall in source_line.make_text().plain
            assert "(L1 OP[/][b]$variable" in source_line.make_text().plain
            await expect(pilot, "1", "j", want="T1[/][b]$variable [@click=app.quit]CLICK[/]")
            await expect(pilot, "3", "g", want="SB[/][b]$varia")  # its error under the table
            await expect(pilot, "4", "G", want="deploy DS[/][b]")
            await expect(pilot, "2", "L", want="{app=LV[/][b]$variable")  # log labels
    assert parsed == []


async def test_pilot_toasts_from_every_caller_are_plain(backends: HostileBackends,
                                                        tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    with record_markup(monkeypatch) as parsed:
        async with cockpit(backends, tmp_path) as pilot:
            app = pilot.app
            app.notify(hostile("N1"))  # Textual's default would parse it
            app.query_one("#incidents").notify(hostile("N2"), title=short_hostile("NT"))
            await expect(pilot, want=(shown("N1"), shown("N2"), "NT[/][b]␛]0;pwned"))
            app.clear_notifications()
            # a URL with markup and escapes: a link toast, checked, percent-encoded
            await expect(pilot, "1", "j", "o",
                         want=("copied", "https://pd.example/incidents/PU%5B/%5D%5Bb%5D"))
            app.clear_notifications()
            await expect(pilot, "a", want="Acknowledge 1 incident?")
            await expect(pilot, "y", want=(f"{SHOWN_PROVIDER}: HTTP 500 for PUT",
                                           "/incidents: PE[/][b]$variable"))
    assert parsed == []


async def test_pilot_dialogs(backends: HostileBackends, tmp_path: Path,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    with record_markup(monkeypatch) as parsed:
        async with cockpit(backends, tmp_path) as pilot:
            await expect(pilot, "1", "j", "a", want=("Acknowledge 1 incident?", shown("T1")))
            await expect(pilot, "n", want="Acknowledge cancelled")
            await expect(pilot, "g", "s", want=(  # the silence form of the hostile alert
                "Silence " + shown("AT"),
                '"AK[/][b]\\u001b]0;pwned\\u0007\\u009b6n\\u202e"="AL[/][b]'))
            await expect(pilot, "ctrl+s", want=('"name": "AK[/][b]', "Silence 1 incident?"))
            await expect(pilot, "y", want="AE[/][b]$variable")
            await expect(pilot, "j", "n", want="Note for " + SHOWN_PROVIDER)
            await expect(pilot, *"hello", "ctrl+s", want="[pending] hello")
            await expect(pilot, "q", want="1 note is not delivered")  # the quit screen
            await pilot.press("n")
    assert parsed == []


async def test_pilot_slo_detail_help_and_palette(backends: HostileBackends, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    with record_markup(monkeypatch) as parsed:
        async with cockpit(backends, tmp_path) as pilot:
            await expect(pilot, "3", "G", "enter", want=(  # the evaluated SLO (sorted last)
                "SLO " + shown("SN"), shown("SD"), shown("SS"), "SQ[/][b]$variable"))
            await expect(pilot, "escape", "g", "enter", want="QE[/][b]$variable")  # rejected
            await expect(pilot, "escape", "question_mark", want="cockpit.pane_incidents")
            await expect(pilot, "escape", "ctrl+p", want="Context: " + shown("CX"))
            await expect(pilot, *"broken", want="Context: broken[/][b]$variable")  # a hit
            # switched: every provider of that context fails with a hostile body
            await expect(pilot, "enter", want=("ctx broken[/][b]$variable", "FD[/][b]$variable"))
    assert parsed == []


async def test_pilot_log_query_filter_and_command_errors(backends: HostileBackends,
                                                         tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    with record_markup(monkeypatch) as parsed:
        async with cockpit(backends, tmp_path) as pilot:
            # every fact about the stream (i): the query and the source, as text
            await expect(pilot, "2", "i", want=("query: {app=\"x\"} LQ[/][b]$variable",
                                               f"{SHOWN_PROVIDER.replace('ND', 'NL')}: ok"))
            pilot.app.clear_notifications()
            # the config's hostile query in the editor, its escapes made visible
            await expect(pilot, "l", want=("␛]52;c;cHduZWQ=␇", "⟨U+202E⟩RTL"))
            await expect(pilot, "ctrl+u", *"bad", "enter", want="LogQL error: QB[/][b]$variable")
            await expect(pilot, "4", "G", "enter", want="LE[/][b]$variable")  # moment: Loki 500
            await expect(pilot, "full_stop", "1", "slash", *"[/]", "enter",
                         want="/[/] — 4 of 4 incidents shown, 0 hidden")
            await expect(pilot, "escape", "colon", *"ctx [/]x", "enter",
                         want="unknown context '[/]x'")
    assert parsed == []


# ------------------------------------------------------------------------------ the real process

def start(backends: HostileBackends, tmp_path: Path, **config: Any) -> Cockpit:
    path = tmp_path / "hostile.yaml"
    path.write_text(hostile_config(backends.url, **config))
    path.chmod(0o600)
    app = Cockpit(path, tmp_path / "data", cols=160, rows=50)
    app.wait_for(lambda t: all(s in t for s in (shown("T1"), shown("AT"), "LL[/][b]",
                                                "SN[/][b]", "PT[/][b]")), 40)
    return app


def press(app: Cockpit, keys: bytes, want: str, timeout: float = 15.0) -> str:
    """Type ``keys`` and wait for ``want`` on the screen."""
    app.write(keys)
    return app.wait_for(want, timeout)


def escape(app: Cockpit, gone: str) -> None:
    """Press escape alone and wait until ``gone`` has left the screen: a key typed within
    Textual's escape delay would make ``alt+key`` of it, and a half-drawn frame could hide
    ``gone`` for a moment."""
    app.write(b"\x1b")
    app.pump(0.4)
    app.wait_for(lambda t: gone not in t)
    app.pump(0.2)
    app.wait_for(lambda t: gone not in t)


@pytest.mark.slow
def test_tui_every_view_shows_backend_text_literally(backends: HostileBackends,
                                                     tmp_path: Path) -> None:
    app = start(backends, tmp_path)
    try:
        screen = app.text()
        assert "ctx CX[/][b]$variable [@click=app.quit]CLICK[/]" in screen
        # the detail line under the table: the highlighted incident's whole title
        press(app, b"1", "AT[/][b]$variable [@click=app.quit]CLICK[/] [link=file")
        press(app, b"j", "T1[/][b]$variable [@click=app.quit]CLICK[/] [link=file")
        press(app, b"o", "https://pd.example/incidents/PU%5B/%5D%5Bb%5D")  # the link toast
        press(app, b"a", "Acknowledge 1 incident?")
        press(app, b"y", "PE[/][b]$variable")
        press(app, b"g", "a1AF")
        press(app, b"s", '"AK[/][b]\\u001b]0;pwned')
        press(app, b"\x13", "Silence 1 incident?")
        press(app, b"y", "AE[/][b]$variable")
        press(app, b"/", "(words in id")
        press(app, b"[/]\r", "/[/] — 4 of 4 incidents shown")
        press(app, b"3", "budget left")
        press(app, b"G", "SN[/][b]")
        press(app, b"\r", "SD[/][b]$variable")
        escape(app, "esc closes")
        press(app, b"2", "space follow/pause")
        press(app, b"L", "{app=LV[/][b]$variable")
        press(app, b"i", 'query: {app="x"} LQ[/][b]$variable')  # every fact of the stream
        app.write(b"l")  # the editor holds the config's query, scrolled to its (safe) end
        app.wait_for(lambda t: any("▊" in line and "␛]52;c;cHduZWQ=␇" in line
                                   for line in t.splitlines()))
        for keys in (b"\x15", b"bad", b"\r"):
            app.write(keys)
            app.pump(0.3)
        app.wait_for("LogQL error: QB[/][b]$variable")
        press(app, b"4", "alert_start")
        press(app, b"G", "deploy DS[/][b]")
        press(app, b"\r", "LE[/][b]$variable")  # the moment's Loki query failed
        app.write(b".")  # back to live
        app.wait_for(lambda t: "viewing" not in t)
        press(app, b"?", "cockpit.pane_incidents")
        escape(app, "cockpit.pane_incidents")
        press(app, b":", "ctx NAME")
        press(app, b"ctx [/]x\r", "unknown context '[/]x'")
        escape(app, "unknown context")
        press(app, b"\x10", "Search for commands")
        press(app, b"broken", "Context: broken[/][b]$variable")
        press(app, b"\r", "ctx broken[/][b]$variable")
        app.wait_for("FD[/][b]$variable")
        app.write(b"q")
        status = app.wait_exit(10)
        out = bytes(app.output)
    finally:
        app.stop()
    assert status == 0, out[-3000:]
    copied = check_terminal_bytes(out)
    # ``o`` copied the incident's URL: sanitised and percent-encoded, nothing raw
    assert copied == [safe_link(plain_str(INCIDENT_URL))]
    assert copied[0].isascii() and "[" not in copied[0] and "%E2%90%9B%5D52" in copied[0]
    assert "pwned" not in (app.screen.title or "")


@pytest.mark.slow
def test_tui_click_on_markup_in_an_error_runs_nothing(backends: HostileBackends,
                                                       tmp_path: Path) -> None:
    """Before: Loki's 400 body ``[@click=app.quit]CLICK-ME[/]`` became a link in the toast and
    clicking it quit the cockpit (exit 0)."""
    app = start(backends, tmp_path, loki_query='{app="x"}')
    try:
        press(app, b"2", "space follow/pause")
        press(app, b"l", '{app="x"}')
        for keys in (b"\x15", b"quitme", b"\r"):
            app.write(keys)
            app.pump(0.3)
        app.wait_for(CLICK_BODY.split(" balanced")[0])  # shown literally
        targets = find_on_screen(app.screen.display, "CLICK")
        in_toast = find_on_screen(app.screen.display, "CLICK-ME")
        assert len(in_toast) == 1 and len(targets) >= 5  # the toast, titles, lines, header
        for column, row in targets:
            app.write(mouse_click(column + 1, row))
            app.pump(0.2)
        app.pump(1.0)
        assert app.proc.poll() is None, "a click ran an action from backend text"
        out = bytes(app.output)
    finally:
        app.stop()
    check_terminal_bytes(out)


def test_every_hostile_field_carries_every_markup_form_and_escape() -> None:
    """The fuzz payload holds what the issue names, in every field."""
    text = hostile("XX")
    for form in ("[/]", "[b]", "[@click=app.quit]", "[link=file:///etc/passwd]", "$variable"):
        assert form in text
    assert MARKUP.rstrip().endswith("[")  # unbalanced
    for sequence in ("\x1b]52;", "\x1b]0;", "\x1b[2J", "\x9b", "\x9d", "\x9c", "\x07", "\r",
                     "\u202e"):
        assert sequence in text
    assert len(hostile("T1")) > 20_000  # a very long one
