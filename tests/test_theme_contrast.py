"""Issue 12 item 14: every theme keeps its text readable (WCAG contrast >= 4.5:1, 7:1 in
``high-contrast``).

Unfocused pane titles were dark grey on black in ``war-room`` and ``high-contrast`` (the title
took the border's colour) and white on near-white in ``daylight``. Two checks:

- from the theme files: every text/background pair the cockpit draws
  (:data:`~sre_cockpit.ui.theme_contrast.TEXT_ON`: titles focused and not, footer, header
  badges, source line, filter bar, table cursor, muted and dimmed text, severity, SLO and log
  colours), resolved as Textual paints them;
- on a real terminal: the real cockpit on the simulator, in each truecolour theme, through a
  session that shows all of those (a filter, a stale source, each pane focused, the log and
  table cursors, the moment banner, a command-line error); every character cell on the screen
  is measured from the colours the cockpit wrote.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sim_helpers import set_fault
from war_room_helpers import every_pane_has_data, sim_cockpit

from sre_cockpit.core.contrast import AA, AAA, contrast_ratio, hex_rgb
from sre_cockpit.ui.theme_contrast import TEXT_ON, contrast_report, measure
from sre_cockpit.ui.themes import load_themes, parse_theme

THEMES = load_themes()[0]


def minimum(theme: str) -> float:
    return AAA if theme == "high-contrast" else AA


@pytest.mark.parametrize("name", sorted(THEMES))
def test_every_text_and_background_pair_of_the_theme_file_is_readable(name: str) -> None:
    report = contrast_report(THEMES[name].theme)
    low = [f"{m.ratio:.2f}:1 {m.pair.element}: {m.pair.text} {m.text} on {m.pair.background} "
           f"{m.background}" for m in report if m.ratio < minimum(name)]
    assert not low, f"{name}: below {minimum(name)}:1:\n" + "\n".join(low)
    assert len(report) == len(TEXT_ON)


def test_the_pairs_cover_what_the_issue_names() -> None:
    elements = " | ".join(pair.element for pair in TEXT_ON)
    for needed in ("pane title (pane not focused)", "pane title (focused pane)", "footer key",
                   "footer description", "header badge ok", "header badge error",
                   "header badge stale", "header badge waiting", "source ok", "source stale",
                   "source error", "filter bar", "table cursor",
                   "table cursor (table not focused)", "muted text"):
        assert needed in elements


def test_a_title_in_the_border_colour_would_fail() -> None:
    """The measurement catches the original bug: war-room's unfocused border colour as text."""
    theme = THEMES["war-room"].theme
    from sre_cockpit.ui.theme_contrast import TextOn

    ratio = measure(theme, TextOn("old title", "panel-lighten-2", "background")).ratio
    assert ratio < 2.5  # dark grey on black


def test_a_user_theme_with_unreadable_text_is_measured_too() -> None:
    import yaml

    from sre_cockpit.ui.themes import themes_dir

    raw = yaml.safe_load((themes_dir() / "daylight.yaml").read_text("utf-8"))
    raw["colors"]["warning"] = "#ffd23f"  # yellow on near-white
    theme = parse_theme(raw, source="t.yaml").theme
    low = {m.pair.element for m in contrast_report(theme) if m.ratio < AA}
    assert {"filter bar", "source stale", "header badge stale"} <= low


# ----------------------------------------------------------------------------- real terminal

NOT_TEXT = [(0x2500, 0x259F), (0x2800, 0x28FF)]
"""Box drawing, block elements (borders, scrollbars, budget bars) and braille: not text."""


def unreadable_cells(screen: object, need: float) -> list[str]:
    """Every character cell whose colours contrast less than ``need``, as
    ``row:col 'c' fg on bg ratio``; cells without explicit colours are reported too."""
    found: list[str] = []
    for y in range(screen.lines):  # type: ignore[attr-defined]
        row = screen.buffer[y]  # type: ignore[attr-defined]
        for x in range(screen.columns):  # type: ignore[attr-defined]
            cell = row[x]
            char = cell.data
            if not char.strip() or any(lo <= ord(char[0]) <= hi for lo, hi in NOT_TEXT):
                continue
            fg, bg = (cell.bg, cell.fg) if cell.reverse else (cell.fg, cell.bg)
            if len(fg) != 6 or len(bg) != 6:
                found.append(f"{y}:{x} {char!r} {fg} on {bg} (no explicit colour)")
                continue
            ratio = contrast_ratio(hex_rgb(fg), hex_rgb(bg))
            if ratio < need:
                line = "".join(c.data for c in row.values())
                found.append(f"{y}:{x} {char!r} #{fg} on #{bg} {ratio:.2f}:1 in {line.strip()!r}")
    return found


@pytest.mark.slow
@pytest.mark.parametrize("theme", ["war-room", "daylight", "high-contrast"])
def test_every_character_on_a_real_screen_is_readable(tmp_path: Path, theme: str) -> None:
    need = minimum(theme)
    problems: dict[str, list[str]] = {}
    with sim_cockpit(tmp_path, cols=120, rows=40, args=["--theme", theme],
                     env={"COLORTERM": "truecolor"}) as (app, sim):

        def check(state: str) -> None:
            app.pump(0.6)
            found = unreadable_cells(app.screen, need)
            if found:
                problems[state] = found[:12]

        app.wait_for(every_pane_has_data, 30)
        set_fault(sim.url, "alertmanager", "error500")  # a stale source: warning colours
        app.write(b"1/check\r")
        app.wait_for(lambda text: "▲ alerts" in text.splitlines()[0]
                     and "hidden · esc clears" in text, 30)
        check("incidents focused, filtered, alerts stale")
        app.write(b"2")
        app.pump(0.3)
        app.write(b"\x1b[A\x1b[A")  # up: the log cursor on a line
        check("logs focused with a line selected")
        app.write(b"4")
        app.pump(0.3)
        app.write(b"\x1b[A")
        check("timeline focused")
        app.write(b"\r")
        app.wait_for("moment", 10)
        check("moment banner")
        app.write(b".:theme nosuch\r")
        app.wait_for("unknown theme 'nosuch'", 10)
        check("command line error")
    assert not problems, f"{theme}: text below {need}:1\n" + "\n".join(
        f"{state}:\n  " + "\n  ".join(cells) for state, cells in problems.items())
