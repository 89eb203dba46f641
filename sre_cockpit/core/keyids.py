"""Every remappable binding id of the cockpit, and a check of ``keys:`` key strings.

The config loader validates ``keys:`` against :data:`BINDING_IDS` without importing Textual.
``tests/test_config_keys_theme.py`` compares this set with the ids of every ``Binding`` in the
app and the widgets, so adding a binding without listing its id here fails the tests.
"""

from __future__ import annotations

import unicodedata

BINDING_IDS: frozenset[str] = frozenset({
    # the shell (sre_cockpit/ui/app.py: CockpitApp, MainScreen)
    "cockpit.command", "cockpit.filter", "cockpit.help", "cockpit.help_quit", "cockpit.live",
    "cockpit.next_pane", "cockpit.palette", "cockpit.pane_incidents", "cockpit.pane_logs",
    "cockpit.pane_slos", "cockpit.pane_timeline", "cockpit.previous_pane", "cockpit.quit",
    "cockpit.quit_anywhere", "cockpit.zoom",
    # dialogs, help, quit, note editor, command line
    "dialog.cancel", "dialog.confirm", "dialog.submit",
    "help.close",
    "quit.cancel", "quit.confirm",
    "notes.close", "notes.submit",
    "prompt.cancel", "prompt.history_next", "prompt.history_previous",
    # panes
    "incidents.ack", "incidents.expire_silence", "incidents.focus", "incidents.note",
    "incidents.open_url", "incidents.resolve", "incidents.select", "incidents.silence",
    "incidents.unfocus",
    "logs.copy", "logs.down", "logs.end", "logs.follow", "logs.home", "logs.labels", "logs.left",
    "logs.next_error", "logs.page_down", "logs.page_up", "logs.pin", "logs.previous_error",
    "logs.query", "logs.right", "logs.timestamps", "logs.up", "logs.utc", "logs.wrap",
    "slos.detail", "slos.detail_close",
    "timeline.kinds", "timeline.live", "timeline.next", "timeline.note", "timeline.previous",
    "timeline.retry",
})
"""Ids accepted under ``keys:`` (``Binding(..., id=...)`` in ``app.py`` and ``widgets/*.py``)."""

_NAME_REPLACEMENTS = {"solidus": "slash", "reverse_solidus": "backslash",
                      "commercial_at": "at", "hyphen_minus": "minus", "plus_sign": "plus",
                      "low_line": "underscore"}
"""Textual's spelling of some punctuation keys (``textual.keys.KEY_NAME_REPLACEMENTS``)."""


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


def key_string_problem(keys: str) -> str | None:
    """What is wrong with a ``keys:`` value such as ``ctrl+q`` or ``ctrl+q,f10``, or None.

    Textual applies remapped keys verbatim: names are comma-separated with no spaces, and a
    punctuation key is written by its name (``question_mark``, not ``?``).
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
    return None
