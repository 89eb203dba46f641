"""Issue 12 item 13: only the cockpit's themes (and the user's own) are offered.

The palette offered Textual's 20+ built-in themes and ``dracula`` half-applied: the built-in
themes lack the cockpit's severity, SLO and log colours. Now the palette, ``:theme``,
``--theme`` and ``ui.theme`` take the shipped themes and the ones the user adds as
``~/.config/sre-cockpit/themes/NAME.yaml`` (``$XDG_CONFIG_HOME/sre-cockpit/themes``), nothing else.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from notes_helpers import Cockpit
from shell_helpers import shell_app

from sre_cockpit.core.themenames import TEXTUAL_BUILTIN_THEMES, shipped_theme_names
from sre_cockpit.ui.themes import themes_dir

SHIPPED = ["ansi-16", "daylight", "high-contrast", "war-room"]
CONFIG = "default_context: prod\ncontexts:\n  prod: {}\n"


def user_theme(xdg: Path, name: str = "night-shift", background: str = "#102030") -> Path:
    """A user theme (war-room with another name and background) under ``xdg``."""
    folder = xdg / "sre-cockpit" / "themes"
    folder.mkdir(parents=True, exist_ok=True)
    text = (themes_dir() / "war-room.yaml").read_text("utf-8")
    text = text.replace("name: war-room", f"name: {name}")
    text = text.replace('background: "#0d1014"', f'background: "{background}"')
    path = folder / f"{name}.yaml"
    path.write_text(text)
    return path


def config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG + extra)
    path.chmod(0o600)
    return path


async def test_the_app_knows_only_the_cockpit_themes_and_the_palette_has_no_textual_picker(
        ) -> None:
    app = shell_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert sorted(app.available_themes) == shipped_theme_names()
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Theme" not in titles and "Quit" in titles  # only Textual's picker is gone
        assert app.set_theme("dracula") is not None and app.theme == "war-room"


def test_user_themes_are_loaded_and_may_replace_a_shipped_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    xdg = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    user_theme(xdg)
    user_theme(xdg, "daylight", "#fafafa")
    app = shell_app()
    assert sorted(app.available_themes) == sorted([*SHIPPED, "night-shift"])
    assert app.get_theme("daylight").background == "#fafafa"  # type: ignore[union-attr]


# ----------------------------------------------------------------------------- real terminal


@pytest.mark.slow
def test_palette_offers_the_cockpit_and_user_themes_and_applies_a_user_theme(
        tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    user_theme(xdg)
    app = Cockpit(config(tmp_path), tmp_path / "data", cols=100, rows=30,
                  extra_env={"XDG_CONFIG_HOME": str(xdg), "COLORTERM": "truecolor"})
    try:
        app.wait_for("? help")
        app.pump(0.5)
        app.write(b"\x10")  # ctrl+p
        app.wait_for("🔎")
        app.write(b"theme")
        screen = app.wait_for("Theme: night-shift", 10)
        for name in SHIPPED:
            assert f"Theme: {name}" in screen
        assert "Change the current theme" not in screen  # Textual's own theme picker
        app.write(b"\x1b")
        app.wait_for(lambda text: "🔎" not in text, 5)
        app.write(b"\x10")
        app.wait_for("🔎")
        app.write(b"dracula")
        screen = app.wait_for("No matches found", 10)
        assert "Theme" not in screen
        app.write(b"\x1b")
        app.wait_for(lambda text: "🔎" not in text, 5)
        app.write(b"\x10")
        app.wait_for("🔎")
        app.write(b"night-shift")
        app.wait_for("Theme: night-shift", 10)
        app.write(b"\r")
        app.wait_for(lambda text: "🔎" not in text, 5)
        app.pump(1.0)
        assert app.screen.buffer[10][50].bg == "102030"  # the user theme's background
    finally:
        app.stop()


@pytest.mark.slow
def test_colon_theme_refuses_a_textual_builtin_theme(tmp_path: Path) -> None:
    app = Cockpit(config(tmp_path), tmp_path / "data", cols=120, rows=30,
                  extra_env={"COLORTERM": "truecolor"})
    try:
        app.wait_for("? help")
        app.pump(0.5)
        background = app.screen.buffer[10][50].bg
        app.write(b":theme dracula\r")
        screen = app.wait_for("unknown theme 'dracula'", 10)
        assert "themes: ansi-16, daylight, high-contrast, war-room" in screen
        app.pump(0.5)
        assert app.screen.buffer[10][50].bg == background  # nothing half-applied
    finally:
        app.stop()


def _run(argv: list[str], xdg: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CONFIG_HOME": str(xdg)}
    return subprocess.run([sys.executable, "-m", "sre_cockpit", *argv], capture_output=True,
                          text=True, env=env, timeout=60, stdin=subprocess.DEVNULL)


@pytest.mark.slow
@pytest.mark.parametrize("theme", [*sorted(TEXTUAL_BUILTIN_THEMES)[:3], "dracula"])
def test_theme_flag_refuses_textual_builtin_themes_in_one_line(tmp_path: Path,
                                                               theme: str) -> None:
    result = _run(["--config", str(config(tmp_path)), "--theme", theme], tmp_path / "xdg")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert f"--theme: {theme!r} is one of Textual's built-in themes" in result.stderr
    assert "themes: ansi-16, daylight, high-contrast, war-room" in result.stderr


@pytest.mark.slow
def test_ui_theme_in_the_config_refuses_dracula_and_takes_a_user_theme(tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    path = config(tmp_path, "ui: {theme: dracula}\n")
    result = _run(["--config", str(path), "check"], xdg)
    assert result.returncode == 2
    assert result.stderr.startswith(f"{path}:4:13: ui.theme: 'dracula' is one of Textual's")
    user_theme(xdg)
    path = config(tmp_path, "ui: {theme: night-shift}\n")
    result = _run(["--config", str(path), "check"], xdg)
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
def test_a_broken_user_theme_is_named_with_its_problem(tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    broken = user_theme(xdg, "neon")
    broken.write_text(broken.read_text("utf-8").replace('primary: "#4f9cf0"', 'primary: "#4f9cz0"'))
    result = _run(["--config", str(config(tmp_path)), "--theme", "neon"], xdg)
    assert result.returncode == 2
    assert result.stderr == (
        f"sre-cockpit: --theme: theme 'neon' cannot be used: {broken}: colors.primary: "
        "'#4f9cz0' is not a colour (failed to parse '#4f9cz0' as a color)\n")
