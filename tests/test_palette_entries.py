"""The command palette's cockpit entries (ui/commandline.py ``CockpitCommands``): the cockpit
app is a ``PaletteHost`` (a typed protocol, not ``getattr`` on names), so the palette offers a
"Show" entry per pane, every context and theme, and export; an app that is not one gets only
zoom and the key list. The real palette in a pty is tested in tests/test_markup_safety.py
(``Context: …``) and tests/test_palette_themes.py (``Theme: …``)."""

from __future__ import annotations

from typing import ClassVar

from shell_helpers import shell_app
from textual.app import App

from sre_cockpit.ui.commandline import CockpitCommands, PaletteHost


def titles(app: App[object]) -> list[str]:
    return [name for name, _run, _help in CockpitCommands(app.screen)._entries()]


async def test_the_cockpit_app_offers_panes_contexts_themes_and_export() -> None:
    app = shell_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app, PaletteHost)
        offered = titles(app)
        panes = [f"Show {title}" for title in app.PANE_TITLES.values()]
        contexts = [f"Context: {name}" for name in app.context_names()]
        themes = [f"Theme: {name}" for name in app.cockpit_theme_names()]
        assert len(panes) >= 4 and len(contexts) >= 2 and "Theme: war-room" in themes
        assert offered == [*panes, "Zoom the focused pane", "Keys: list every binding",
                           *contexts, *themes, "Export post-mortem timeline"]


class BareApp(App[None]):
    """An app listing the cockpit's palette entries without being the cockpit."""

    COMMANDS: ClassVar = App.COMMANDS | {CockpitCommands}


async def test_an_app_that_is_not_a_palette_host_gets_zoom_and_keys_only() -> None:
    app = BareApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert not isinstance(app, PaletteHost)
        assert titles(app) == ["Zoom the focused pane", "Keys: list every binding"]
