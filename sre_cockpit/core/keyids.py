"""Every remappable binding of the cockpit by scope, and the checks of ``keys:`` remaps.

The config loader (and the TUI's fast start) validate ``keys:`` here without importing Textual:
binding ids against :data:`BINDING_SCOPES`, key strings against the key names Textual 8.2.8
actually produces (:func:`key_string_problem`), and remaps against the other bindings of the
same scope (:func:`binding_clashes`). ``tests/test_config_keys_theme.py`` compares the scopes
and default keys with every ``Binding`` of the app and the widgets, and the key names with
Textual's own tables, so a change on either side fails the tests.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from sre_cockpit.core.suggest import did_you_mean, suggest

BINDING_SCOPES: dict[str, dict[str, str]] = {
    "CockpitApp": {
        "cockpit.pane_incidents": "1", "cockpit.pane_logs": "2", "cockpit.pane_slos": "3",
        "cockpit.pane_timeline": "4", "cockpit.zoom": "z", "cockpit.filter": "slash",
        "cockpit.command": "colon", "cockpit.help": "question_mark", "cockpit.live": "full_stop",
        "cockpit.quit": "q", "cockpit.quit_anywhere": "ctrl+q", "cockpit.palette": "ctrl+p",
        "cockpit.help_quit": "ctrl+c", "cockpit.suspend": "ctrl+z"},
    "MainScreen": {"cockpit.next_pane": "tab", "cockpit.previous_pane": "shift+tab"},
    "PromptInput": {"prompt.cancel": "escape", "prompt.history_previous": "up",
                    "prompt.history_next": "down", "prompt.complete": "tab"},
    "ConfirmActionDialog": {"dialog.confirm": "y", "dialog.cancel": "n,escape",
                            "dialog.down": "down,j", "dialog.up": "up,k",
                            "dialog.page_down": "pagedown", "dialog.page_up": "pageup"},
    "SilenceDialog": {"dialog.cancel": "escape", "dialog.submit": "ctrl+s"},
    "HelpScreen": {"help.close": "escape,question_mark,q"},
    "IncidentsPane": {
        "incidents.ack": "a", "incidents.resolve": "r", "incidents.note": "n",
        "incidents.describe": "d", "incidents.silence": "s", "incidents.expire_silence": "S,X",
        "incidents.reassign": "A", "incidents.escalate": "E", "incidents.snooze": "Z",
        "incidents.status_update": "U", "incidents.runbook": "b", "incidents.open_url": "o",
        "incidents.select": "x,space", "incidents.focus": "enter", "incidents.sort": "t",
        "incidents.sort_reverse": "T", "incidents.group": "v", "incidents.collapse_all": "V",
        "incidents.mine": "m"},
    "IncidentTable": {
        "incidents.up": "up", "incidents.down": "down", "incidents.page_up": "pageup",
        "incidents.page_down": "pagedown", "table.down": "j", "table.up": "k",
        "table.first": "home,g", "table.last": "end,G"},
    "DescribeScreen": {
        "describe.close": "escape,q", "describe.copy": "c", "describe.copy_all": "C",
        "describe.runbook": "b", "describe.focus": "f"},
    "ReassignDialog": {"dialog.cancel": "escape", "dialog.choices": "down"},
    "EscalateDialog": {"dialog.cancel": "escape"},
    "SnoozeDialog": {"dialog.cancel": "escape"},
    "StatusUpdateDialog": {"dialog.cancel": "escape", "dialog.submit": "ctrl+s"},
    "Pane": {"pane.escape": "escape"},
    "PaneTable": {"table.down": "j", "table.up": "k", "table.first": "home,g",
                  "table.last": "end,G"},
    "LogView": {
        "logs.follow": "space", "logs.wrap": "w", "logs.timestamps": "t", "logs.utc": "u",
        "logs.labels": "L", "logs.next_error": "e", "logs.previous_error": "E",
        "logs.query": "l", "logs.explain": "i", "logs.copy": "c", "logs.pin": "p",
        "logs.search": "slash", "logs.search_next": "n", "logs.search_previous": "N",
        "logs.filter": "f", "logs.structured": "s",
        "logs.volume": "v", "logs.patterns": "a", "logs.label_browser": "b",
        "logs.up": "up,k", "logs.down": "down,j", "logs.page_up": "pageup",
        "logs.page_down": "pagedown", "logs.home": "home,g", "logs.left": "left",
        "logs.right": "right", "logs.end": "end,G"},
    "LogPane": {"logs.fields": "F", "logs.detail": "enter"},
    "QueryEditor": {"logs.query_older": "up", "logs.query_newer": "down"},
    "LogVolume": {"volume.earlier": "left", "volume.later": "right", "volume.choose": "enter",
                  "volume.back": "escape", "volume.hide": "v"},
    "LineDetail": {"logdetail.close": "escape,q,enter", "logdetail.copy": "c",
                   "logdetail.copy_all": "C"},
    "FieldPicker": {"logs.fields_close": "escape", "logs.fields_apply": "enter"},
    "NoteEditor": {"notes.submit": "ctrl+s", "notes.close": "escape"},
    "LabelBrowser": {"labels.close": "escape"},
    "QuitScreen": {"quit.confirm": "y", "quit.cancel": "n,escape"},
    "SloDetailScreen": {"slos.detail_close": "escape,q,enter"},
    "SloPane": {"slos.detail": "enter"},
    "TimelinePane": {
        "timeline.previous": "left_square_bracket", "timeline.next": "right_square_bracket",
        "timeline.live": "full_stop", "timeline.kinds": "K", "timeline.note": "n",
        "timeline.retry": "r"},
}
"""Class that declares the bindings (one Textual binding scope) → binding id → default keys."""

SCOPE_NAMES: dict[str, str] = {
    "CockpitApp": "the cockpit's global keys", "MainScreen": "the main screen",
    "PromptInput": "the command and filter prompt", "ConfirmActionDialog": "the confirm dialog",
    "SilenceDialog": "the silence dialog", "HelpScreen": "the help screen",
    "IncidentsPane": "the incidents pane", "IncidentTable": "the incidents table",
    "DescribeScreen": "the describe view", "ReassignDialog": "the reassign dialog",
    "EscalateDialog": "the escalate dialog", "SnoozeDialog": "the snooze dialog",
    "StatusUpdateDialog": "the status update dialog",
    "LogView": "the logs pane", "Pane": "every pane",
    "PaneTable": "the tables of the SLO and timeline panes",
    "NoteEditor": "the note editor", "LabelBrowser": "the label browser",
    "LogPane": "the logs pane", "QueryEditor": "the LogQL editor",
    "LogVolume": "the log volume strip", "LineDetail": "the log line detail",
    "FieldPicker": "the field picker",
    "QuitScreen": "the quit dialog",
    "SloDetailScreen": "the SLO detail", "SloPane": "the SLO pane",
    "TimelinePane": "the timeline pane",
}
"""How a scope is named in messages."""

PRIORITY_IDS: frozenset[str] = frozenset({"cockpit.quit_anywhere", "cockpit.palette",
                                          "cockpit.help_quit"})
"""App bindings with ``priority=True``: they answer first on every screen and pane."""

SAME_ACTION: tuple[frozenset[str], ...] = (
    frozenset({"cockpit.quit", "cockpit.quit_anywhere"}),)
"""Bindings of one scope that run the same action: one key on both of them is no clash (e.g.
``cockpit.quit: ctrl+q`` makes ctrl+q quit either way)."""

BINDING_IDS: frozenset[str] = frozenset(i for ids in BINDING_SCOPES.values() for i in ids)
"""Ids accepted under ``keys:`` (``Binding(..., id=...)`` anywhere in ``ui/``)."""

MODIFIERS: tuple[str, ...] = ("alt", "ctrl", "hyper", "meta", "shift", "super")
"""The modifiers in a Textual key name, in the order Textual writes them (it sorts them:
``alt+ctrl+x``). ``hyper``, ``meta`` and ``super`` come only from terminals that speak the kitty
keyboard protocol, which Textual turns on."""

_MODIFIER_ALIASES = {"control": "ctrl", "ctl": "ctrl", "cmd": "super", "command": "super",
                     "win": "super", "windows": "super", "option": "alt", "opt": "alt"}

NAMED_KEYS: frozenset[str] = frozenset({
    "escape", "enter", "return", "tab", "space", "backspace", "insert", "delete", "home", "end",
    "pageup", "pagedown", "up", "down", "left", "right",
    *(f"f{n}" for n in range(1, 36)),
    "caps_lock", "scroll_lock", "num_lock", "print_screen", "pause", "menu", "kp_begin",
    "add", "subtract", "multiply", "divide", "decimal", "separator", "equal",
    "iso_level3_shift", "iso_level5_shift",
    *(f"{side}_{mod}" for side in ("left", "right")
      for mod in ("alt", "control", "hyper", "meta", "shift", "super")),
    "media_fast_forward", "media_pause", "media_play", "media_play_pause", "media_record",
    "media_reverse", "media_rewind", "media_stop", "media_track_next", "media_track_previous",
    "lower_volume", "raise_volume", "mute_volume",
})
"""Keys Textual names by a word (``textual.keys.Keys`` and the kitty protocol's functional
keys), besides characters (``a``, ``5``) and punctuation names (``question_mark``)."""

KEY_ALIASES: dict[str, str] = {"ctrl+i": "tab", "ctrl+m": "enter",
                               "ctrl+left_square_brace": "escape", "ctrl+space": "ctrl+at",
                               "newline": "ctrl+j"}
"""Keys Textual treats as another key (``textual.keys.KEY_ALIASES``, reversed)."""

_NAME_REPLACEMENTS = {"solidus": "slash", "reverse_solidus": "backslash",
                      "commercial_at": "at", "hyphen_minus": "minus", "plus_sign": "plus",
                      "low_line": "underscore"}
"""Textual's spelling of some punctuation keys (``textual.keys.KEY_NAME_REPLACEMENTS``)."""
_REPLACED = {short: long for long, short in _NAME_REPLACEMENTS.items()}


def key_name_of(character: str) -> str:
    """Textual's name for the key that types ``character`` (``?`` → ``question_mark``)."""
    if character.isalnum():
        return character
    if character == "\t":
        return "tab"
    try:
        name = unicodedata.name(character).lower().replace("-", "_").replace(" ", "_")
    except ValueError:
        return character
    return _NAME_REPLACEMENTS.get(name, name)


def is_key_name(name: str) -> bool:
    """Whether Textual can produce ``name`` as the key part of a key (``a``, ``f5``,
    ``question_mark``, ``euro_sign``), modifiers aside."""
    if len(name) == 1:
        return name.isalnum()
    if name in NAMED_KEYS or name in _REPLACED:
        return True
    try:
        character = unicodedata.lookup(name.replace("_", " ").upper())
    except KeyError:
        return False
    return not character.isalnum() and key_name_of(character) == name


def key_string_problem(keys: str) -> str | None:
    """What is wrong with a ``keys:`` value such as ``ctrl+q`` or ``ctrl+q,f10``, or None.

    Textual matches remapped keys verbatim against the names it gives key presses: names are
    comma-separated with no spaces, a punctuation key is written by its name
    (``question_mark``, not ``?``), modifiers come in Textual's order (``alt+ctrl+x``), and a
    shifted character is the character itself (``A``, not ``shift+a``). A key that Textual
    never produces would silently do nothing, so it is refused.
    """
    example = "e.g. 'ctrl+q' or several as 'ctrl+q,f10'"
    if not keys.strip():
        return f"no key given; write one or more key names, {example}"
    if any(ch.isspace() for ch in keys):
        fixed = ",".join(part for part in "".join(keys.split()).split(",") if part)
        return (f"key names cannot contain spaces: {keys!r}; separate several keys with ',' "
                f"only, e.g. {fixed!r}")
    for part in keys.split(","):
        if not part:
            return f"empty key name in {keys!r}; {example}"
        problem = _key_problem(part)
        if problem is not None:
            return problem
    return None


def _key_problem(part: str) -> str | None:
    if part == "+" or part.endswith("++"):
        named = part[:-1] + "plus"
        return f"write {part!r} as {named!r} (punctuation keys are given by name)"
    *modifiers, last = part.split("+")
    if not last or any(not m for m in modifiers):
        return f"incomplete key {part!r} (a modifier needs a key after '+', e.g. 'ctrl+q')"
    if len(last) == 1 and not last.isalnum():
        named = "+".join([*modifiers, key_name_of(last)])
        if named != part:
            return f"write {part!r} as {named!r} (punctuation keys are given by name)"
    if not is_key_name(last):
        candidates = sorted(NAMED_KEYS | set(_REPLACED))
        hint = did_you_mean(last.lower(), candidates)
        return (f"unknown key {last!r} in {part!r}{hint}; a key is a letter or digit (a, Q, 5), "
                "a punctuation name (question_mark, full_stop) or a key name such as enter, "
                "escape, space, tab, up, pageup, home, f1")
    for modifier in modifiers:
        if modifier not in MODIFIERS:
            guess = _MODIFIER_ALIASES.get(modifier.lower())
            if guess is None:
                guess = suggest(modifier.lower(), list(MODIFIERS))
            hint = f" (did you mean {guess!r}?)" if guess else ""
            return (f"unknown modifier {modifier!r} in {part!r}{hint}; Textual's modifiers are "
                    f"{', '.join(MODIFIERS)}")
    if len(set(modifiers)) != len(modifiers):
        return f"a modifier is repeated in {part!r}"
    if len(last) == 1 and last.isalpha() and last != last.lower() and modifiers:
        fixed = "+".join([*sorted({*modifiers, "shift"}), last.lower()])
        return (f"write {part!r} as {fixed!r} (with a modifier held, Textual names the letter "
                "in lower case and adds shift)")
    if modifiers == ["shift"] and len(last) == 1:  # only some kitty-protocol terminals
        if last.isalpha():
            return (f"write {part!r} as {last.upper()!r} (terminals send a shifted letter as "
                    "the capital it types)")
        return (f"{part!r}: terminals send a shifted key as the character it types; write "
                "that character's name instead (e.g. 'exclamation_mark' for shift+1 on a US "
                "keyboard)")
    if modifiers != sorted(modifiers):
        fixed = "+".join([*sorted(modifiers), last])
        return (f"write {part!r} as {fixed!r}: Textual names modifiers in the order "
                f"{', '.join(MODIFIERS)}, so {part!r} would never match a key press")
    return None


@dataclass(frozen=True, slots=True)
class Clash:
    """A remapped binding whose key another binding of the same scope already answers."""

    binding_id: str
    """The remapped id (its ``keys:`` entry is where the error is reported)."""
    key: str
    other_id: str
    scope: str
    """A :data:`SCOPE_NAMES` key, or ``everywhere`` for a priority binding."""

    def message(self) -> str:
        """One line naming both bindings."""
        if self.scope == "everywhere":
            first, second = ((self.other_id, self.binding_id) if self.other_id in PRIORITY_IDS
                             else (self.binding_id, self.other_id))
            return (f"{self.key!r} clashes with {self.other_id}, which has that key too; "
                    f"{first} answers it first on every screen, so {second} would never run")
        return (f"{self.key!r} clashes with {self.other_id}, which has that key in "
                f"{SCOPE_NAMES[self.scope]}; choose another key, or remap {self.other_id} too")


def _canonical(key: str) -> str:
    return KEY_ALIASES.get(key, key)


def binding_clashes(keymap: Mapping[str, str]) -> list[Clash]:
    """Every clash the remaps in ``keymap`` (binding id → keys, in file order) create: two
    bindings of one scope on one key (one of them remapped), or any binding on the key of a
    priority binding, unless both run the same action (:data:`SAME_ACTION`). Each pair is reported once, at the remap written later in the file.
    Unknown ids and malformed key strings are ignored (reported elsewhere)."""
    order = {binding_id: i for i, binding_id in enumerate(keymap)}

    def keys_of(binding_id: str, default: str) -> set[str]:
        value = keymap.get(binding_id, default)
        return {_canonical(k) for k in value.split(",") if k}

    clashes: list[Clash] = []
    seen: set[tuple[str, str, str]] = set()
    everywhere = {i: keys_of(i, BINDING_SCOPES["CockpitApp"][i]) for i in PRIORITY_IDS}
    for binding_id in keymap:
        if binding_id not in BINDING_IDS or key_string_problem(keymap[binding_id]) is not None:
            continue
        mine = keys_of(binding_id, "")
        candidates: list[tuple[str, str, set[str]]] = []
        for scope, ids in BINDING_SCOPES.items():
            if binding_id in ids or binding_id in PRIORITY_IDS:
                label = scope if binding_id in ids else "everywhere"
                candidates += [(label, other, keys_of(other, default))
                               for other, default in ids.items()]
        candidates += [("everywhere", other, keys) for other, keys in everywhere.items()]
        for scope, other, theirs in candidates:
            if other == binding_id or (other in order and order[other] > order[binding_id]):
                continue
            if any({binding_id, other} <= same for same in SAME_ACTION):
                continue
            for key in sorted(mine & theirs):
                pair = (min(binding_id, other), max(binding_id, other), key)
                if pair not in seen:
                    seen.add(pair)
                    clashes.append(Clash(binding_id, key, other, scope))
    return clashes
