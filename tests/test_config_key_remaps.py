"""``keys:`` remaps: key strings are checked against the key names Textual 8.2.8 really produces,
and a remap onto a key another binding of the same scope answers is an error naming both ids.

The tables in ``sre_cockpit/core/keyids.py`` are compared here with Textual's own (its parser, its key
enums, its bindings and keymap logic), so the loader's verdict matches what the cockpit would do.
Through the real process: ``tests/test_config_edges_commands.py``.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest
from config_helpers import error_of, write

from sre_cockpit.config.model import load_config
from sre_cockpit.core.keyids import (
    BINDING_SCOPES,
    KEY_ALIASES,
    MODIFIERS,
    NAMED_KEYS,
    PRIORITY_IDS,
    SAME_ACTION,
    SCOPE_NAMES,
    binding_clashes,
    is_key_name,
    key_string_problem,
)

# ------------------------------------------------------------------ against Textual itself


def _parsed(sequence: str) -> list[str]:
    from textual._xterm_parser import XTermParser

    parser = XTermParser()
    return [event.key for event in [*parser.feed(sequence), *parser.feed("")]
            if hasattr(event, "key")]


@pytest.mark.parametrize(("sequence", "key"), [
    ("\x1b[97;17u", "hyper+a"), ("\x1b[97;9u", "super+a"), ("\x1b[97;33u", "meta+a"),
    ("\x1b[97;7u", "alt+ctrl+a"), ("\x1b[122;31u", "alt+ctrl+hyper+super+z"),
    ("\x1b[1;6A", "ctrl+shift+up"), ("\x1b[97;6u", "ctrl+shift+a"), ("\x1b[97;2;65u", "A"),
    ("\x1b[49;2;33u", "exclamation_mark"), ("\x1b[57376u", "f13"), ("\x1b[57399u", "0"),
])
def test_textual_key_names_are_accepted_and_match_the_parser(sequence: str, key: str) -> None:
    """Textual's kitty-protocol parser (the protocol is on in Textual 8.2.8) names keys with
    sorted modifiers, hyper/super/meta included: each name it produces is a valid remap."""
    assert _parsed(sequence) == [key]
    assert key_string_problem(key) is None
    modifiers = key.split("+")[:-1]
    assert set(modifiers) <= set(MODIFIERS) and modifiers == sorted(modifiers)


def test_modifiers_are_the_ones_textuals_parser_writes() -> None:
    seen: set[str] = set()
    for bits in range(1, 64):  # every combination of shift, alt, ctrl, super, hyper, meta
        for key in _parsed(f"\x1b[97;{bits + 1}u"):
            seen.update(key.split("+")[:-1])
    assert seen == set(MODIFIERS)


def test_named_keys_are_textuals() -> None:
    from textual._keyboard_protocol import FUNCTIONAL_KEYS
    from textual.keys import Keys

    textual: set[str] = set()
    for value in [k.value for k in Keys] + list(FUNCTIONAL_KEYS.values()):
        last = value.rsplit("+", 1)[-1]
        if len(last) > 1 and not last.startswith("<") and last != "ctrl-at":
            textual.add(last)
    punctuation = {name for name in textual if name not in NAMED_KEYS}
    assert textual >= NAMED_KEYS
    # what is left are the names of characters (ctrl+backslash ...), valid by the character rule
    assert punctuation == {"backslash", "circumflex_accent", "right_square_bracket", "underscore"}
    assert all(is_key_name(name) for name in textual)


def test_key_aliases_are_textuals() -> None:
    from textual.keys import KEY_ALIASES as TEXTUAL_ALIASES

    assert {alias: key for key, aliases in TEXTUAL_ALIASES.items()
            for alias in aliases} == KEY_ALIASES


def _declared() -> dict[str, list[object]]:
    from textual.binding import Binding

    import sre_cockpit.ui

    modules = [m.name for m in pkgutil.walk_packages(sre_cockpit.ui.__path__, "sre_cockpit.ui.")
               if not m.ispkg]
    scopes: dict[str, list[object]] = {}
    for name in modules:
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == name and cls.__dict__.get("BINDINGS"):
                scopes[cls.__name__] = list(Binding.make_bindings(cls.__dict__["BINDINGS"]))
    return scopes


def test_scopes_defaults_and_priorities_are_the_real_bindings() -> None:
    declared = _declared()
    real: dict[str, dict[str, str]] = {}
    for scope, bindings in declared.items():
        keys: dict[str, list[str]] = {}
        for binding in bindings:
            keys.setdefault(binding.id, []).append(binding.key)  # type: ignore[attr-defined]
        real[scope] = {i: ",".join(k) for i, k in keys.items()}
    assert real == BINDING_SCOPES
    assert set(SCOPE_NAMES) == set(BINDING_SCOPES)
    priority = {b.id for b in declared["CockpitApp"] if b.priority}  # type: ignore[attr-defined]
    assert priority == PRIORITY_IDS
    actions: dict[tuple[str, str], set[str]] = {}
    for scope, bindings in declared.items():
        for b in bindings:
            actions.setdefault((scope, b.action), set()).add(b.id)  # type: ignore[attr-defined]
    assert {frozenset(ids) for ids in actions.values() if len(ids) > 1} == set(SAME_ACTION)


@pytest.mark.parametrize("keymap", [{"cockpit.quit": "1"}, {"logs.copy": "t"},
                                    {"quit.confirm": "escape"}])
def test_a_reported_clash_is_a_key_textual_would_take_silently(keymap: dict[str, str]) -> None:
    """What Textual does with the same keymap (``BindingsMap.apply_keymap``, as the cockpit's
    ``set_keymap`` runs it): the key goes to the remapped binding and the other binding loses it
    without a word (Textual 8.2.8 reports no clash for bindings that have an id)."""
    from textual.binding import Binding, BindingsMap

    (clash,) = binding_clashes(keymap)
    scope = _declared()[clash.scope]
    bindings = BindingsMap(Binding.make_bindings(scope))  # type: ignore[arg-type]
    before = {key for key, found in bindings.key_to_bindings.items()
              if any(b.id == clash.other_id for b in found)}
    result = bindings.apply_keymap(keymap)
    after = {key for key, found in bindings.key_to_bindings.items()
             if any(b.id == clash.other_id for b in found)}
    assert result.clashed_bindings == set()
    assert before - after == {clash.key}
    assert [b.id for b in bindings.key_to_bindings[clash.key]] == [clash.binding_id]


def test_the_default_keys_clash_nowhere() -> None:
    for scope, ids in BINDING_SCOPES.items():
        for binding_id, default in ids.items():
            assert binding_clashes({binding_id: default}) == [], (scope, binding_id)


# ------------------------------------------------------------------------- key strings


@pytest.mark.parametrize("keys", [
    "q", "Q", "5", "f1", "f35", "ctrl+shift+up", "question_mark", "full_stop,escape",
    "ctrl+plus", "hyper+a", "alt+ctrl+hyper+meta+shift+super+x", "euro_sign", "slash",
    "ctrl+at", "pageup", "media_play_pause", "é",
])
def test_good_key_strings(keys: str) -> None:
    assert key_string_problem(keys) is None


@pytest.mark.parametrize(("keys", "message"), [
    ("ctrl+alt+shift+hyper+zzz",
     "unknown key 'zzz' in 'ctrl+alt+shift+hyper+zzz'; a key is a letter or digit (a, Q, 5), a "
     "punctuation name (question_mark, full_stop) or a key name such as enter, escape, space, "
     "tab, up, pageup, home, f1"),
    ("ctrl+alt+shift+hyper+z",
     "write 'ctrl+alt+shift+hyper+z' as 'alt+ctrl+hyper+shift+z': Textual names modifiers in "
     "the order alt, ctrl, hyper, meta, shift, super, so 'ctrl+alt+shift+hyper+z' would never "
     "match a key press"),
    ("ctrl+pgup", "unknown key 'pgup' in 'ctrl+pgup' (did you mean 'pageup'?); a key is a "
                  "letter or digit (a, Q, 5), a punctuation name (question_mark, full_stop) or a "
                  "key name such as enter, escape, space, tab, up, pageup, home, f1"),
    ("f36", "unknown key 'f36' in 'f36' (did you mean 'f16'?); a key is a letter or digit (a, Q, "
            "5), a punctuation name (question_mark, full_stop) or a key name such as enter, "
            "escape, space, tab, up, pageup, home, f1"),
    ("control+q", "unknown modifier 'control' in 'control+q' (did you mean 'ctrl'?); Textual's "
                  "modifiers are alt, ctrl, hyper, meta, shift, super"),
    ("cmd+k", "unknown modifier 'cmd' in 'cmd+k' (did you mean 'super'?); Textual's modifiers "
              "are alt, ctrl, hyper, meta, shift, super"),
    ("ctrl+ctrl+x", "a modifier is repeated in 'ctrl+ctrl+x'"),
    ("ctrl+Q", "write 'ctrl+Q' as 'ctrl+shift+q' (with a modifier held, Textual names the "
               "letter in lower case and adds shift)"),
    ("shift+a", "write 'shift+a' as 'A' (terminals send a shifted letter as the capital it "
                "types)"),
    ("shift+1", "'shift+1': terminals send a shifted key as the character it types; write that "
                "character's name instead (e.g. 'exclamation_mark' for shift+1 on a US "
                "keyboard)"),
    ("f1,zz", "unknown key 'zz' in 'zz'; a key is a letter or digit (a, Q, 5), a punctuation "
              "name (question_mark, full_stop) or a key name such as enter, escape, space, tab, "
              "up, pageup, home, f1"),
])
def test_bad_key_strings(keys: str, message: str) -> None:
    assert key_string_problem(keys) == message


# ------------------------------------------------------------------------------ clashes

BASE = "contexts:\n  prod: {}\n"


def test_a_remap_onto_a_pane_key_names_both_bindings(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + "keys:\n  cockpit.quit: '1'\n")
    assert error_of(path) == (
        f"{path}:4:17: keys.cockpit.quit: '1' clashes with cockpit.pane_incidents, which has "
        "that key in the cockpit's global keys; choose another key, or remap "
        "cockpit.pane_incidents too")


def test_moving_the_other_binding_away_resolves_the_clash(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + "keys:\n  cockpit.quit: '1'\n  cockpit.pane_incidents: '5'\n")
    assert load_config(path).keys == {"cockpit.quit": "1", "cockpit.pane_incidents": "5"}


def test_two_remaps_onto_one_key_are_reported_once_at_the_later(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + "keys:\n  logs.wrap: f5\n  logs.pin: f5\n")
    assert error_of(path) == (
        f"{path}:5:13: keys.logs.pin: 'f5' clashes with logs.wrap, which has that key in the "
        "logs pane; choose another key, or remap logs.wrap too")


def test_aliases_of_a_key_clash_like_the_key(tmp_path: Path) -> None:
    """A terminal sends the same byte for ctrl+i and tab, and Textual names it tab."""
    assert _parsed("\t") == ["tab"]
    path = write(tmp_path, BASE + "keys:\n  cockpit.previous_pane: ctrl+i\n")
    assert error_of(path) == (
        f"{path}:4:26: keys.cockpit.previous_pane: 'tab' clashes with cockpit.next_pane, which "
        "has that key in the main screen; choose another key, or remap cockpit.next_pane too")


def test_a_key_of_a_priority_binding_clashes_in_every_scope(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + "keys:\n  logs.copy: ctrl+p\n")
    assert error_of(path) == (
        f"{path}:4:14: keys.logs.copy: 'ctrl+p' clashes with cockpit.palette, which has that "
        "key too; cockpit.palette answers it first on every screen, so logs.copy would never run")
    path = write(tmp_path, BASE + "keys:\n  cockpit.palette: l\n")
    assert error_of(path) == (
        f"{path}:4:20: keys.cockpit.palette: 'l' clashes with logs.query, which has that key "
        "too; cockpit.palette answers it first on every screen, so logs.query would never run")


def test_same_key_in_different_scopes_or_for_the_same_action_is_fine(tmp_path: Path) -> None:
    # r is the incidents pane's resolve, not a key of the log view
    path = write(tmp_path, BASE + "keys:\n  logs.copy: r\n  cockpit.quit: ctrl+q\n"
                                  "  timeline.note: 'n,f2'\n")
    assert load_config(path).keys == {"logs.copy": "r", "cockpit.quit": "ctrl+q",
                                      "timeline.note": "n,f2"}
