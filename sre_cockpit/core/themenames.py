"""Theme names the cockpit accepts, known without importing Textual (for the config loader).

A theme is a shipped ``themes/NAME.yaml`` (found through :func:`sre_cockpit.core.resources.themes_dir`)
or one of Textual's built-in themes, which the TUI also accepts (``App.available_themes``).
``tests/test_config_keys_theme.py`` checks :data:`TEXTUAL_BUILTIN_THEMES` against Textual's own.
"""

from __future__ import annotations

from sre_cockpit.core.resources import themes_dir

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
    try:
        return sorted(path.stem for path in themes_dir().glob("*.yaml"))
    except OSError:
        return []
