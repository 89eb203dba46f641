"""Which text the cockpit draws on which background, and how readable it is in a theme.

:data:`TEXT_ON` lists every pair of text colour and background colour the cockpit's widgets use
(the CSS and the Rich spans take their colours from these theme variables and nowhere else):
pane titles focused and not, the footer, the header and its badges, the source line, the filter
bar, the tables and their cursor, muted and dimmed text, and the severity, SLO and log colours.
:func:`contrast_report` resolves each pair from a theme file as Textual paints it (derived
colours, ``auto 87%`` text, blended ``#rrggbb 30%`` backgrounds, ``dim``) and gives its WCAG
contrast ratio; ``tests/test_theme_contrast.py`` requires at least 4.5:1 (7:1 in
``high-contrast``).

An ANSI theme hands its colours to the terminal's palette, which only the terminal knows; it is
measured with xterm's default palette on a dark background (:data:`ANSI_REFERENCE`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from textual.color import Color
from textual.theme import Theme

from sre_cockpit.core.contrast import contrast_ratio
from sre_cockpit.ui.themes import ALPHA_VALUE, VARIABLE_DEFAULTS, paint_colour

DIM_FACTOR = 0.66
"""How Textual draws ``dim`` text: 66% of the way from the background to the colour
(``textual.constants.DIM_FACTOR``)."""

SIGNAL_COLOURS: tuple[str, ...] = (
    "sev-critical", "sev-high", "sev-warning", "sev-info", "sev-unknown",
    "slo-ok", "slo-warning", "slo-critical", "slo-nodata", "slo-burning",
    "log-error", "log-warn", "log-info", "log-debug", "stale",
)
"""Colours of severities, SLO states, log levels and stale marks (text in the panes)."""


@dataclass(frozen=True, slots=True)
class TextOn:
    """Text in one theme variable drawn on a background in another."""

    element: str
    """What a person sees there ("pane title (pane not focused)")."""
    text: str
    background: str
    base: str = "background"
    """What the background is painted over when it is translucent (a table's cursor over the
    table's ``surface``)."""
    dim: bool = False
    """The text is drawn ``dim`` (Textual blends it towards the background)."""


TEXT_ON: tuple[TextOn, ...] = (
    TextOn("pane title (pane not focused)", "text-muted", "background"),
    TextOn("pane title (focused pane)", "accent", "background"),
    TextOn("footer key", "footer-key-foreground", "footer-background"),
    TextOn("footer description", "footer-description-foreground", "footer-background"),
    TextOn("footer key not available now", "text-muted", "footer-background"),
    TextOn("header clock", "foreground", "panel"),
    TextOn("header '? help'", "text-muted", "panel"),
    TextOn("header badge ok", "success", "panel"),
    TextOn("header badge stale", "warning", "panel"),
    TextOn("header badge error", "error", "panel"),
    TextOn("header badge waiting", "text-muted", "panel"),
    TextOn("context badge", "text", "context-normal"),
    TextOn("production context badge", "context-danger-text", "context-danger"),
    TextOn("read-only badge", "read-only-text", "read-only"),
    TextOn("source line", "text-muted", "background"),
    TextOn("source ok", "success", "background"),
    TextOn("source stale", "warning", "background"),
    TextOn("source error", "error", "background"),
    TextOn("filter bar", "warning", "background"),
    TextOn("moment banner", "moment-text", "warning"),
    TextOn("command line prompt", "accent", "panel"),
    TextOn("command line error", "text-error", "panel"),
    TextOn("error in a dialog", "error", "surface"),
    TextOn("warning in a dialog", "warning", "surface"),
    TextOn("text", "foreground", "background"),
    TextOn("muted text", "text-muted", "background"),
    TextOn("dim text", "foreground", "background", dim=True),
    TextOn("table text", "foreground", "surface"),
    TextOn("table text (focused table)", "foreground", "surface-focused"),
    TextOn("dim table text", "foreground", "surface", dim=True),
    TextOn("muted table text", "text-muted", "surface-focused"),
    TextOn("table header", "foreground", "panel"),
    TextOn("table cursor", "block-cursor-foreground", "block-cursor-background", "surface"),
    TextOn("dim text on the table cursor", "block-cursor-foreground", "block-cursor-background",
           "surface", dim=True),
    TextOn("table cursor (table not focused)", "block-cursor-blurred-foreground",
           "block-cursor-blurred-background", "surface"),
    TextOn("dim text on the table cursor (table not focused)", "block-cursor-blurred-foreground",
           "block-cursor-blurred-background", "surface", dim=True),
    *(TextOn(f"{name} in a table or the log pane", name, "surface") for name in SIGNAL_COLOURS),
    *(TextOn(f"{name} in a focused table or log pane", name, "surface-focused")
      for name in SIGNAL_COLOURS),
    *(TextOn(f"{name} on the pane background", name, "background") for name in SIGNAL_COLOURS),
)
"""Every text/background pair the cockpit draws (see the module docstring)."""

ANSI_REFERENCE: dict[str, str] = {
    "ansi_black": "#000000", "ansi_red": "#cd0000", "ansi_green": "#00cd00",
    "ansi_yellow": "#cdcd00", "ansi_blue": "#0000ee", "ansi_magenta": "#cd00cd",
    "ansi_cyan": "#00cdcd", "ansi_white": "#e5e5e5", "ansi_bright_black": "#7f7f7f",
    "ansi_bright_red": "#ff0000", "ansi_bright_green": "#00ff00",
    "ansi_bright_yellow": "#ffff00", "ansi_bright_blue": "#5c5cff",
    "ansi_bright_magenta": "#ff00ff", "ansi_bright_cyan": "#00ffff",
    "ansi_bright_white": "#ffffff",
}
"""xterm's default 16 colours: how an ANSI theme is measured (a terminal may differ)."""
ANSI_DEFAULT_TEXT = "#e5e5e5"
ANSI_DEFAULT_BACKGROUND = "#000000"


@dataclass(frozen=True, slots=True)
class Measured:
    """One pair resolved in one theme."""

    pair: TextOn
    text: str
    background: str
    ratio: float


def theme_variables(theme: Theme) -> dict[str, str]:
    """Every variable the app has under ``theme``, as ``App.get_css_variables`` builds them:
    the cockpit's defaults, Textual's derived colours, the theme's own variables; and
    ``surface-focused``, a focused table's background (Textual tints it with 5% of the
    foreground)."""
    variables = {**VARIABLE_DEFAULTS, **theme.to_color_system().generate(), **theme.variables}
    surface = paint_colour(variables["surface"], paint_colour(variables["background"]))
    tinted = paint_colour(f"{variables['foreground']} 5%", surface) if surface else None
    variables["surface-focused"] = tinted.hex if tinted is not None else variables["surface"]
    return variables


def _ansi(value: str, *, text: bool) -> Color:
    name = value.strip()
    match = ALPHA_VALUE.match(name)
    if match:
        name = match.group("color").strip()
    if name in ANSI_REFERENCE:
        return Color.parse(ANSI_REFERENCE[name])
    return Color.parse(ANSI_DEFAULT_TEXT if text else ANSI_DEFAULT_BACKGROUND)


def _resolve(variables: Mapping[str, str], name: str, over: Color, *, text: bool,
             ansi: bool) -> Color:
    value = variables.get(name, name)
    if ansi:
        return _ansi(value, text=text)
    painted = paint_colour(value, over)
    return painted if painted is not None else over


def measure(theme: Theme, pair: TextOn) -> Measured:
    """``pair`` resolved in ``theme`` and its contrast ratio."""
    variables = theme_variables(theme)
    ansi = bool(theme.ansi)
    screen = _resolve(variables, "background", Color(0, 0, 0), text=False, ansi=ansi)
    base = _resolve(variables, pair.base, screen, text=False, ansi=ansi)
    background = _resolve(variables, pair.background, base, text=False, ansi=ansi)
    text = _resolve(variables, pair.text, background, text=True, ansi=ansi)
    if pair.dim:
        text = background.blend(text, DIM_FACTOR)
    ratio = contrast_ratio(text.rgb, background.rgb)
    return Measured(pair, text.hex.lower(), background.hex.lower(), ratio)


def contrast_report(theme: Theme) -> list[Measured]:
    """Every pair of :data:`TEXT_ON` measured in ``theme``."""
    return [measure(theme, pair) for pair in TEXT_ON]
