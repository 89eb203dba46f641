"""Checks of the config that look outside the schema: ``ui.theme`` against the installed themes,
``keys:`` against the cockpit's bindings and Textual's key names, ``journal_dir`` against the
file system. Called by :func:`sre_cockpit.config.model.load_config` after the schema validated; each
problem goes to ``at(loc, message, key=...)``, which positions it in the file. No Textual.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping
from pathlib import Path

from sre_cockpit.config.files import Loc
from sre_cockpit.core.keyids import BINDING_IDS, binding_clashes, key_string_problem
from sre_cockpit.core.regularfile import describe_mode
from sre_cockpit.core.themenames import DEFAULT_THEME, builtin_theme_problem, theme_names


def check_ui_and_keys(theme: str | None, keymap: Mapping[str, str],
                      at: Callable[..., None]) -> None:
    """``ui.theme`` (``theme``; None when the config does not set it) names a cockpit theme
    (shipped, or the user's own under ``themes/``; not one of Textual's built-in themes);
    ``keys:`` (``keymap``) remaps known binding ids to key strings Textual can produce, without
    clashing with another binding of the same scope (all checked without Textual)."""
    from sre_cockpit.core.suggest import suggest

    if theme is not None:
        names = theme_names()
        available = ", ".join(names) or "none (no theme files installed)"
        builtin = builtin_theme_problem(theme)
        if theme not in names and builtin is not None:
            at(("ui", "theme"), f"{builtin}; available: {available}")
        elif theme not in names:
            guess = suggest(theme, names)
            if guess is None and DEFAULT_THEME in names:
                guess = DEFAULT_THEME
            hint = f" (did you mean {guess!r}?)" if guess else ""
            at(("ui", "theme"), f"unknown theme {theme!r}{hint}; available: {available}")
    ids = sorted(BINDING_IDS)
    for binding_id, keys in keymap.items():
        loc: Loc = ("keys", binding_id)
        if binding_id not in BINDING_IDS:
            guess = suggest(binding_id, ids)
            if guess is not None:
                more = f" (did you mean {guess!r}?)"
            else:
                group = binding_id.split(".", 1)[0]
                same = [i for i in ids if i.split(".", 1)[0] == group]
                groups = sorted({i.split(".", 1)[0] for i in ids})
                more = (f"; ids in {group!r}: {', '.join(same)}" if same else
                        f"; ids look like 'cockpit.quit' (groups: {', '.join(groups)}; "
                        "'?' in the cockpit lists them all)")
            at(loc, f"unknown binding id {binding_id!r}{more}", key=True)
            continue
        problem = key_string_problem(keys)
        if problem is not None:
            at(loc, problem)
    for clash in binding_clashes(keymap):
        at(("keys", clash.binding_id), clash.message())


def journal_dir_problem(value: str) -> str | None:
    """Why ``journal_dir`` cannot hold the notes journal, or None: it must be a writable
    directory, or a path whose nearest existing ancestor is a writable directory (the journal
    creates the rest). ``~`` is expanded; a relative path is taken from the working directory,
    as the journal does."""
    path = Path(os.path.expanduser(value))
    found: tuple[Path, os.stat_result] | None = None
    for candidate in (path, *path.parents):
        try:
            found = candidate, candidate.stat()
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as exc:
            return f"{path}: cannot check {candidate}: {exc.strerror or type(exc).__name__}"
        break
    if found is None:
        return None
    existing, st = found
    writable = os.access(existing, os.W_OK | os.X_OK)
    if existing == path:
        if not stat.S_ISDIR(st.st_mode):
            return (f"{path} is {describe_mode(st.st_mode)}, not a directory (journal_dir is "
                    "the directory the notes journal is kept in)")
        if not writable:
            return f"{path} is not writable, so notes could not be saved there"
        return None
    if not stat.S_ISDIR(st.st_mode):
        return (f"{path} cannot be created: {existing} is {describe_mode(st.st_mode)}, not a "
                "directory")
    if not writable:
        return f"{path} cannot be created: {existing} is not writable"
    return None
