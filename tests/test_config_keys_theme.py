"""Issue 2 holes: ``ui.theme`` and ``keys:`` are validated at load (without Textual), and an
explicit empty ``--config`` is a usage error."""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
from config_helpers import error_of, write

from sre_cockpit.config.model import ConfigError, load_config, resolve_config_path
from sre_cockpit.core.keyids import BINDING_IDS, key_name_of, key_string_problem
from sre_cockpit.core.themenames import (
    TEXTUAL_BUILTIN_THEMES,
    shipped_theme_names,
    theme_names,
    user_themes_dir,
)

BASE = """\
contexts:
  prod: {}
"""


def _config(tmp_path: Path, extra: str) -> Path:
    return write(tmp_path, BASE + extra)


# ----------------------------------------------------------------------------- ui.theme


def test_unknown_theme_is_refused_at_load_with_a_suggestion_and_the_list(tmp_path: Path) -> None:
    path = _config(tmp_path, "ui:\n  theme: nosuch\n")
    assert error_of(path) == (
        f"{path}:4:10: ui.theme: unknown theme 'nosuch' (did you mean 'war-room'?); "
        "available: ansi-16, daylight, high-contrast, war-room")


def test_a_misspelt_theme_gets_the_closest_name(tmp_path: Path) -> None:
    path = _config(tmp_path, "ui: {theme: daylite}\n")
    assert error_of(path) == (
        f"{path}:3:13: ui.theme: unknown theme 'daylite' (did you mean 'daylight'?); "
        "available: ansi-16, daylight, high-contrast, war-room")


@pytest.mark.parametrize("theme", ["war-room", "ansi-16", "daylight", "high-contrast"])
def test_shipped_themes_load(tmp_path: Path, theme: str) -> None:
    config = load_config(_config(tmp_path, f"ui: {{theme: {theme}}}\n"))
    assert config.ui.theme == theme


@pytest.mark.parametrize("theme", ["dracula", "nord", "textual-dark"])
def test_textual_builtin_themes_are_refused_with_the_reason(tmp_path: Path, theme: str) -> None:
    path = _config(tmp_path, f"ui: {{theme: {theme}}}\n")
    assert error_of(path) == (
        f"{path}:3:13: ui.theme: {theme!r} is one of Textual's built-in themes, which lack the "
        f"cockpit's severity, SLO and log colours; add it as "
        f"{user_themes_dir() / (theme + '.yaml')} to use it; "
        "available: ansi-16, daylight, high-contrast, war-room")


def test_a_user_theme_under_the_config_dir_is_accepted(tmp_path: Path) -> None:
    from sre_cockpit.core.resources import themes_dir

    user_themes_dir().mkdir(parents=True)
    (user_themes_dir() / "night-shift.yaml").write_text(
        (themes_dir() / "war-room.yaml").read_text("utf-8").replace("name: war-room",
                                                                    "name: night-shift"))
    config = load_config(_config(tmp_path, "ui: {theme: night-shift}\n"))
    assert config.ui.theme == "night-shift"
    assert theme_names() == ["ansi-16", "daylight", "high-contrast", "night-shift", "war-room"]


def test_shipped_theme_names_are_the_theme_files() -> None:
    from sre_cockpit.core.resources import themes_dir

    assert shipped_theme_names() == sorted(p.stem for p in themes_dir().glob("*.yaml"))
    assert "war-room" in shipped_theme_names()


def test_builtin_theme_list_equals_textuals_own() -> None:
    from textual.app import App
    from textual.theme import BUILTIN_THEMES

    assert frozenset(BUILTIN_THEMES) == TEXTUAL_BUILTIN_THEMES
    # the names the TUI accepts are exactly what the loader accepts: the cockpit's own
    from shell_helpers import shell_app

    assert set(App().available_themes) >= TEXTUAL_BUILTIN_THEMES  # a plain Textual app
    assert set(shell_app().available_themes) == set(shipped_theme_names())


# ----------------------------------------------------------------------------- keys


def test_unknown_binding_id_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    path = _config(tmp_path, "keys: {cockpit.quitt: ctrl+q}\n")
    assert error_of(path) == (
        f"{path}:3:8: keys.cockpit.quitt: unknown binding id 'cockpit.quitt' "
        "(did you mean 'cockpit.quit'?)")


def test_unknown_binding_id_without_a_close_match_lists_its_group(tmp_path: Path) -> None:
    path = _config(tmp_path, "keys:\n  slos.zzzzzzzz: f5\n")
    assert error_of(path) == (
        f"{path}:4:3: keys.slos.zzzzzzzz: unknown binding id 'slos.zzzzzzzz'; ids in 'slos': "
        "slos.detail, slos.detail_close")
    path = _config(tmp_path, "keys:\n  frobnicate: f5\n")
    message = error_of(path)
    assert message.startswith(f"{path}:4:3: keys.frobnicate: unknown binding id 'frobnicate'; "
                              "ids look like 'cockpit.quit' (groups: cockpit, describe, dialog, help,")


@pytest.mark.parametrize(("value", "message"), [
    ('""', "no key given; write one or more key names, e.g. 'ctrl+q' or several as "
           "'ctrl+q,f10'"),
    ('"ctrl+q, f10"', "key names cannot contain spaces: 'ctrl+q, f10'; separate several keys "
                      "with ',' only, e.g. 'ctrl+q,f10'"),
    ('"ctrl+q,,f10"', "empty key name in 'ctrl+q,,f10'; e.g. 'ctrl+q' or several as "
                      "'ctrl+q,f10'"),
    ('"ctrl+"', "incomplete key 'ctrl+' (a modifier needs a key after '+', e.g. 'ctrl+q')"),
    ('"?"', "write '?' as 'question_mark' (punctuation keys are given by name)"),
])
def test_bad_key_strings_are_refused(tmp_path: Path, value: str, message: str) -> None:
    path = _config(tmp_path, f"keys:\n  cockpit.quit: {value}\n")
    assert error_of(path) == f"{path}:4:17: keys.cockpit.quit: {message}"


def test_good_keys_load(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path, "keys: {cockpit.quit: 'ctrl+q,f10', logs.pin: P,"
                                           " cockpit.help: question_mark}\n"))
    assert config.keys == {"cockpit.quit": "ctrl+q,f10", "logs.pin": "P",
                           "cockpit.help": "question_mark"}


def test_key_string_check_accepts_textual_key_names() -> None:
    for keys in ("q", "Q", "f1", "ctrl+shift+up", "question_mark", "full_stop,escape", "ctrl+plus"):
        assert key_string_problem(keys) is None, keys


def test_punctuation_key_names_match_textuals() -> None:
    import string

    from textual.keys import _character_to_key

    for char in string.printable:
        assert key_name_of(char) == _character_to_key(char), repr(char)


def _declared_ids() -> set[str]:
    from textual.binding import Binding

    import sre_cockpit.ui

    modules = [m.name for m in pkgutil.walk_packages(sre_cockpit.ui.__path__, "sre_cockpit.ui.")
               if not m.ispkg]
    ids: set[str] = set()
    for name in modules:
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != name:
                continue
            for binding in Binding.make_bindings(cls.__dict__.get("BINDINGS", [])):
                assert binding.id, f"{name}.{cls.__name__}: binding {binding.key} has no id"
                ids.add(binding.id)
    return ids


async def test_binding_ids_list_equals_every_binding_in_the_app_and_widgets() -> None:
    from shell_helpers import shell_app

    declared = _declared_ids()
    assert declared == BINDING_IDS, (f"missing from keyids: {sorted(declared - BINDING_IDS)}; "
                                     f"no longer bound: {sorted(BINDING_IDS - declared)}")
    app = shell_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        shown = {row.id for row in app.help_rows() if row.id != "—"}
    assert shown == BINDING_IDS


# ----------------------------------------------------------------------------- --config ''


def test_explicit_empty_config_is_a_usage_error(monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    good = _config(tmp_path, "")
    monkeypatch.setenv("SRE_COCKPIT_CONFIG", str(good))
    with pytest.raises(ConfigError) as info:
        resolve_config_path("")
    assert str(info.value).startswith("sre-cockpit: --config: an empty value names no file; "
                                      "give a path, or leave --config out to use "
                                      "$SRE_COCKPIT_CONFIG or the default ")
    with pytest.raises(ConfigError):
        load_config("")
    assert resolve_config_path(None) == good


def _cli(*args: str, env_config: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SRE_COCKPIT_CONFIG"}
    if env_config is not None:
        env["SRE_COCKPIT_CONFIG"] = env_config
    return subprocess.run([sys.executable, "-m", "sre_cockpit", *args], capture_output=True,
                          text=True, timeout=60, check=False, env=env)


def test_check_exits_2_with_one_line_for_theme_key_and_empty_config(tmp_path: Path) -> None:
    path = _config(tmp_path, "ui: {theme: nosuch}\nkeys: {cockpit.quitt: ctrl+q}\n")
    result = _cli("check", "--config", str(path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0] == (f"{path}:3:13: ui.theme: unknown theme 'nosuch' (did you mean "
                        "'war-room'?); available: ansi-16, daylight, high-contrast, war-room")
    assert "Traceback" not in result.stderr
    empty = _cli("check", "--config", "", env_config=str(path))
    assert empty.returncode == 2
    assert empty.stderr.startswith("sre-cockpit: --config: an empty value names no file")
    assert len(empty.stderr.strip().splitlines()) == 1
