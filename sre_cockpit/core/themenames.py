"""Theme names the cockpit accepts, known without importing Textual (for the config loader).

A theme is a shipped ``themes/NAME.yaml`` (found through :func:`sre_cockpit.core.resources.themes_dir`)
or one the user adds as ``NAME.yaml`` under :func:`user_themes_dir` (``~/.config/sre-cockpit/themes``
on Linux; a user theme of a shipped theme's name replaces it). Textual's built-in themes
(:data:`TEXTUAL_BUILTIN_THEMES`) are not offered: they lack the cockpit's severity, SLO and log
colours, so choosing one half-applied (``dracula`` kept the default severity colours).
``tests/test_config_keys_theme.py`` checks :data:`TEXTUAL_BUILTIN_THEMES` against Textual's own.
"""

from __future__ import annotations

from pathlib import Path

from sre_cockpit.core.resources import themes_dir

APP_NAME = "sre-cockpit"

DEFAULT_THEME = "war-room"
"""Theme used when the config names none (same as ``sre_cockpit.ui.themes.DEFAULT_THEME``)."""

TEXTUAL_BUILTIN_THEMES: frozenset[str] = frozenset({
    "ansi-dark", "ansi-light", "atom-one-dark", "atom-one-light", "catppuccin-frappe",
    "catppuccin-latte", "catppuccin-macchiato", "catppuccin-mocha", "dracula", "flexoki",
    "gruvbox", "monokai", "nord", "rose-pine", "rose-pine-dawn", "rose-pine-moon",
    "solarized-dark", "solarized-light", "textual-dark", "textual-light", "tokyo-night",
})
"""``textual.theme.BUILTIN_THEMES`` of the pinned Textual."""


def shipped_theme_names() -> list[str]:
    """Sorted names of the ``*.yaml`` files in the shipped themes directory."""
    return _stems(themes_dir())


def user_themes_dir() -> Path:
    """Where the user's own themes live: ``themes/`` in the platform config dir (next to the
    default ``config.yaml``; ``$XDG_CONFIG_HOME/sre-cockpit/themes`` on Linux)."""
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME)) / "themes"


def theme_names() -> list[str]:
    """Sorted names of every theme the cockpit offers: shipped and the user's own."""
    return sorted({*shipped_theme_names(), *_stems(user_themes_dir())})


def builtin_theme_problem(name: str) -> str | None:
    """Why ``name`` is refused when it is one of Textual's built-in themes, else None."""
    if name not in TEXTUAL_BUILTIN_THEMES:
        return None
    return (f"{name!r} is one of Textual's built-in themes, which lack the cockpit's severity, "
            f"SLO and log colours; add it as {user_themes_dir() / (name + '.yaml')} to use it")


def _stems(folder: Path) -> list[str]:
    try:
        return sorted(path.stem for path in folder.glob("*.yaml"))
    except OSError:
        return []
