"""Every shipped theme loads, defines every cockpit variable with parseable colours, and works in
the running app (CSS and Rich spans); ansi-16 uses only the terminal's 16 colours."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from rich.style import Style
from shell_helpers import shell_app
from textual.color import Color

from sre_cockpit.ui.themes import (
    REQUIRED_COLORS,
    REQUIRED_VARIABLES,
    ThemeError,
    load_theme_file,
    load_themes,
    parse_theme,
    rich_color,
    themes_dir,
)

SHIPPED = ("war-room", "daylight", "high-contrast", "ansi-16")
ANSI_NAMES = {f"ansi_{b}{c}" for b in ("", "bright_")
              for c in ("black", "red", "green", "yellow", "blue", "magenta", "cyan", "white")}


def _files() -> list[Path]:
    return sorted(themes_dir().glob("*.yaml"))


def test_the_four_themes_are_shipped_and_all_files_are_valid() -> None:
    names = {p.stem for p in _files()}
    assert set(SHIPPED) <= names
    themes, errors = load_themes()
    assert errors == []
    assert set(themes) == names


@pytest.mark.parametrize("path", _files(), ids=lambda p: p.stem)
def test_theme_file_defines_every_variable_with_real_colours(path: Path) -> None:
    raw = yaml.safe_load(path.read_text("utf-8"))
    loaded = load_theme_file(path)
    assert loaded.theme.name == path.stem
    for key in REQUIRED_COLORS:
        Color.parse(raw["colors"][key])  # raises if not a colour
    for key in REQUIRED_VARIABLES:
        value = raw["variables"][key]
        Color.parse(value.split()[0])
        Style.parse(rich_color(value))  # usable in a Rich span as well
    generated = {**loaded.theme.to_color_system().generate(), **loaded.theme.variables}
    for key in REQUIRED_VARIABLES:
        assert key in generated


def test_ansi_16_uses_only_the_sixteen_ansi_colours() -> None:
    raw = yaml.safe_load((themes_dir() / "ansi-16.yaml").read_text("utf-8"))
    assert raw["ansi"] is True
    values = [*raw["colors"].values(),
              *(v for k, v in raw["variables"].items() if not k.endswith("style"))]
    for value in values:
        assert value in ANSI_NAMES or value == "ansi_default", value
        assert Color.parse(value).ansi is not None


def test_war_room_is_dark_and_daylight_light() -> None:
    themes, _ = load_themes()
    assert themes["war-room"].theme.dark and not themes["daylight"].theme.dark


def _doc(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load((themes_dir() / "war-room.yaml").read_text("utf-8"))
    raw.update(changes)
    return raw


@pytest.mark.parametrize(("doc", "message"), [
    (_doc(colors={"primary": "#fff"}), "colors.secondary: missing"),
    (_doc(variables={"sev-critical": "#ff0000"}), "variables: missing sev-high"),
    (_doc(colour="x"), "unknown key 'colour'"),
    (_doc(name="War Room"), "name: expected lower-case"),
    (_doc(name="other"), "does not match the file name"),
    (_doc(dark="yes"), "dark and ansi are true or false"),
])
def test_bad_theme_documents_are_refused(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(ThemeError) as caught:
        parse_theme(doc, source="t.yaml", expected_name="war-room")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_bad_colour_and_non_ansi_colour_in_an_ansi_theme_are_refused() -> None:
    doc = _doc()
    doc["variables"] = dict(doc["variables"], **{"sev-critical": "#zz0000"})
    with pytest.raises(ThemeError, match=r"variables\.sev-critical: '#zz0000' is not a colour"):
        parse_theme(doc, source="t.yaml")
    ansi = yaml.safe_load((themes_dir() / "ansi-16.yaml").read_text("utf-8"))
    ansi["variables"]["sev-high"] = "#ff8800"
    with pytest.raises(ThemeError, match="is not one of the 16 ANSI colours"):
        parse_theme(ansi, source="ansi-16.yaml")
    del ansi["variables"]["sev-high"], ansi["variables"]["ansi-background"]
    ansi["variables"]["sev-high"] = "ansi_red"
    with pytest.raises(ThemeError, match="variables: missing ansi-background"):
        parse_theme(ansi, source="ansi-16.yaml")


def test_a_broken_theme_file_is_reported_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(
        (themes_dir() / "war-room.yaml").read_text("utf-8").replace("name: war-room", "name: good"))
    (tmp_path / "bad.yaml").write_text("name: bad\ncolors: [\n")
    themes, errors = load_themes(tmp_path)
    assert list(themes) == ["good"]
    assert len(errors) == 1 and errors[0].startswith(f"{tmp_path / 'bad.yaml'}:")


def test_rich_color_maps_textual_ansi_names() -> None:
    assert rich_color("ansi_bright_red") == "bright_red"
    assert rich_color("ansi_default") == "default"
    assert rich_color("#ff3b3b") == "#ff3b3b"


async def test_every_theme_applies_in_the_app_and_variables_work_in_rich_spans() -> None:
    app = shell_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.theme == "war-room"  # the default
        for name in SHIPPED:
            app.theme = name
            await pilot.pause()
            assert app.current_theme.name == name
            for key in REQUIRED_VARIABLES:
                Style.parse(app.theme_variables[key])
        assert sorted(app.cockpit_theme_names()) == sorted(p.stem for p in _files())


async def test_ansi_16_hands_colours_to_the_terminal_palette() -> None:
    app = shell_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert not app.native_ansi_color  # truecolour themes are converted, as usual
        app.theme = "ansi-16"
        await pilot.pause()
        assert app.native_ansi_color  # ANSI colours reach the terminal as ANSI, not RGB
        assert app.theme_variables["sev-critical"] == "bright_red"  # Rich-safe name for spans
