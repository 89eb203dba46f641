"""Cockpit themes: ``themes/*.yaml`` loaded and validated into Textual's theme system.

A theme file looks like::

    name: war-room            # must match the file name
    dark: true
    ansi: false               # true: use the terminal's own 16-colour palette (ansi_* names only)
    colors: {primary: "#5fb3ff", background: "#0d1014", ...}   # Textual's base colours
    variables: {sev-critical: "#ff3b3b", ...}                  # every REQUIRED_VARIABLES name

Severity, SLO and log colours are theme variables, so panes use ``$sev-critical`` in CSS and
``app.theme_variables["sev-critical"]`` for Rich spans (the app exposes those values in a form
Rich can parse too, see ``rich_color``).
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from textual.app import App
from textual.color import Color, ColorParseError
from textual.theme import Theme

from sre_cockpit.core.sanitize import sanitize_line
from sre_cockpit.core.suggest import did_you_mean

DEFAULT_THEME = "war-room"
"""Theme used when the config names none."""

REQUIRED_VARIABLES: tuple[str, ...] = (
    "sev-critical", "sev-high", "sev-warning", "sev-info", "sev-unknown",
    "slo-ok", "slo-warning", "slo-critical", "slo-nodata", "slo-burning",
    "log-error", "log-warn", "log-info", "log-debug",
    "stale",
    "context-danger", "context-danger-text", "context-normal", "read-only", "read-only-text",
)
"""Variables every cockpit theme must define (panes rely on them in CSS and Rich spans)."""

VARIABLE_DEFAULTS: dict[str, str] = {
    "sev-critical": "#ff3b3b", "sev-high": "#ff8c1a", "sev-warning": "#ffd23f",
    "sev-info": "#5fb3ff", "sev-unknown": "#8a93a3",
    "slo-ok": "#3fcf6f", "slo-warning": "#ffd23f", "slo-critical": "#ff3b3b",
    "slo-nodata": "#8a93a3", "slo-burning": "#ff8c1a",
    "log-error": "#ff6b6b", "log-warn": "#ffd23f", "log-info": "#d8dee9", "log-debug": "#7a8494",
    "stale": "#c9a227",
    "context-danger": "#c40000", "context-danger-text": "#ffffff", "context-normal": "#2b5f8f",
    "read-only": "#b36b00", "read-only-text": "#000000",
    "moment-text": "#000000",
}
"""Fallbacks so CSS using the cockpit variables parses under any theme (e.g. Textual's own);
``moment-text`` (the text of the moment banner on ``$warning``) is optional in a theme file."""

ANSI_THEME_VARIABLES: tuple[str, ...] = ("ansi-background", "ansi-foreground")
"""Textual's own CSS uses these under ANSI themes (its non-ANSI themes derive them)."""

BASE_COLORS: tuple[str, ...] = ("primary", "secondary", "warning", "error", "success", "accent",
                                "foreground", "background", "surface", "panel", "boost")
REQUIRED_COLORS: tuple[str, ...] = ("primary", "secondary", "warning", "error", "success",
                                    "accent", "foreground", "background", "surface", "panel")

ANSI_16: frozenset[str] = frozenset(
    f"ansi_{bright}{name}"
    for bright in ("", "bright_")
    for name in ("black", "red", "green", "yellow", "blue", "magenta", "cyan", "white")
)
"""The sixteen ANSI colour names Textual understands."""
ANSI_ALLOWED: frozenset[str] = ANSI_16 | {"ansi_default"}
"""``ansi_default`` is the terminal's own default colour (no colour set at all)."""

_STYLE_WORDS = frozenset({"bold", "dim", "italic", "underline", "reverse", "strike", "blink",
                          "none", "not", "b", "i", "u", "s"})
_TOP_KEYS = frozenset({"name", "dark", "ansi", "colors", "variables", "description",
                       "luminosity_spread", "text_alpha"})
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CACHE: dict[tuple[str, tuple[tuple[str, int], ...]], tuple[dict[str, ThemeFile], list[str]]] = {}
"""Theme files read once per process (``--theme`` check and app start share them)."""
ALPHA_VALUE = re.compile(r"^(?P<color>.+?)\s+(?P<alpha>\d{1,3})%$")
"""A colour with an opacity, as Textual writes it: ``#4f9cf0 30%``, ``auto 87%``."""


class ThemeError(ValueError):
    """A theme file is invalid; ``str()`` is one line ``FILE: what is wrong``."""


@dataclass(frozen=True, slots=True)
class ThemeFile:
    """A validated theme and where it came from."""

    theme: Theme
    path: Path
    description: str = ""


def themes_dir() -> Path:
    """Directory holding the shipped ``*.yaml`` themes (works editable and installed)."""
    try:
        resources = importlib.import_module("sre_cockpit.core.resources")
        return Path(resources.themes_dir())
    except (ImportError, AttributeError):  # the resources helper is not there yet
        return Path(__file__).resolve().parent.parent.parent / "themes"


def _check_color(value: Any, where: str, *, ansi_only: bool) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ThemeError(f"{where}: expected a colour string, got {value!r}")
    text = value.strip()
    base = text
    match = ALPHA_VALUE.match(text)
    if match:
        if ansi_only:
            raise ThemeError(f"{where}: {text!r}: an ANSI theme cannot blend colours (no '%')")
        base = match.group("color")
        if not 0 <= int(match.group("alpha")) <= 100:
            raise ThemeError(f"{where}: {text!r}: alpha must be 0-100%")
    if ansi_only and base not in ANSI_ALLOWED:
        raise ThemeError(f"{where}: {text!r} is not one of the 16 ANSI colours "
                         f"(ansi_black … ansi_bright_white, or ansi_default)")
    try:
        Color.parse(base)
    except ColorParseError as exc:
        raise ThemeError(f"{where}: {text!r} is not a colour ({exc})") from None
    return text


def _check_style(value: Any, where: str) -> str:
    words = str(value).split()
    if not words or any(word not in _STYLE_WORDS for word in words):
        raise ThemeError(f"{where}: {value!r} is not a text style (e.g. 'bold', 'reverse', 'none')")
    return str(value)


def parse_theme(data: Any, *, source: str, expected_name: str | None = None) -> ThemeFile:
    """Validate one theme document and build the Textual ``Theme``.

    Args:
        data: the parsed YAML document.
        source: file name used in error messages.
        expected_name: the theme name must equal this (the file stem) when given.

    Returns:
        The validated theme.

    Raises:
        ThemeError: anything missing or malformed, as one line.
    """
    if not isinstance(data, dict):
        raise ThemeError(f"{source}: a theme is a mapping with name, dark, colors, variables")
    unknown = sorted(set(map(str, data)) - _TOP_KEYS)
    if unknown:
        raise ThemeError(f"{source}: unknown key {unknown[0]!r} "
                         f"(allowed: {', '.join(sorted(_TOP_KEYS))})")
    name = data.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name):
        raise ThemeError(f"{source}: name: expected lower-case letters, digits and '-', "
                         f"got {name!r}")
    if expected_name is not None and name != expected_name:
        raise ThemeError(f"{source}: name {name!r} does not match the file name {expected_name!r}")
    dark = data.get("dark", True)
    ansi = data.get("ansi", False)
    if not isinstance(dark, bool) or not isinstance(ansi, bool):
        raise ThemeError(f"{source}: dark and ansi are true or false")
    colors = data.get("colors")
    if not isinstance(colors, dict):
        raise ThemeError(f"{source}: colors: expected a mapping of {', '.join(REQUIRED_COLORS)}")
    for key in colors:
        if key not in BASE_COLORS:
            raise ThemeError(f"{source}: colors.{key}: unknown colour "
                             f"(allowed: {', '.join(BASE_COLORS)})")
    for key in REQUIRED_COLORS:
        if key not in colors:
            raise ThemeError(f"{source}: colors.{key}: missing")
    base = {key: _check_color(value, f"{source}: colors.{key}", ansi_only=ansi)
            for key, value in colors.items()}
    variables_raw = data.get("variables")
    if not isinstance(variables_raw, dict):
        raise ThemeError(f"{source}: variables: expected a mapping with "
                         f"{', '.join(REQUIRED_VARIABLES)}")
    variables: dict[str, str] = {}
    for key, value in variables_raw.items():
        where = f"{source}: variables.{key}"
        if str(key).endswith("text-style") or str(key).endswith("-style"):
            variables[str(key)] = _check_style(value, where)
        else:
            variables[str(key)] = _check_color(value, where, ansi_only=ansi)
    required = REQUIRED_VARIABLES + (ANSI_THEME_VARIABLES if ansi else ())
    missing = [key for key in required if key not in variables]
    if missing:
        raise ThemeError(f"{source}: variables: missing {', '.join(missing)}")
    description = data.get("description", "")
    theme = Theme(name=name, dark=dark, ansi=ansi, variables=variables,
                  luminosity_spread=float(data.get("luminosity_spread", 0.15)),
                  text_alpha=float(data.get("text_alpha", 0.95)), **base)
    try:
        theme.to_color_system().generate()
    except Exception as exc:  # Textual's own derivation must succeed too
        raise ThemeError(f"{source}: Textual cannot build this theme: {exc}") from None
    return ThemeFile(theme=theme, path=Path(source), description=str(description))


def load_theme_file(path: Path) -> ThemeFile:
    """Read and validate one ``NAME.yaml`` theme file.

    Raises:
        ThemeError: unreadable, not YAML, or invalid.
    """
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except OSError as exc:
        raise ThemeError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        reason = getattr(exc, "problem", None) or "not valid YAML"
        raise ThemeError(f"{where}: {reason}") from None
    result = parse_theme(data, source=str(path), expected_name=path.stem)
    return ThemeFile(theme=result.theme, path=path, description=result.description)


def load_themes(directory: Path | None = None) -> tuple[dict[str, ThemeFile], list[str]]:
    """Every valid theme in ``directory`` (default: the shipped themes).

    Returns:
        Themes by name, and one error line per invalid file (a bad file never stops the UI).
    """
    folder = directory or themes_dir()
    paths = sorted(folder.glob("*.yaml"))
    key = (str(folder), tuple((p.name, _mtime(p)) for p in paths))
    cached = _CACHE.get(key)
    if cached is None:
        cached = _CACHE[key] = _load_all(paths)
    themes, errors = cached
    return dict(themes), list(errors)


def load_cockpit_themes() -> tuple[dict[str, ThemeFile], list[str]]:
    """The themes the cockpit offers: the shipped ones, then the user's own from
    :func:`~sre_cockpit.core.themenames.user_themes_dir` (a user theme replaces a shipped one of
    the same name). Returns them by name and one error line per invalid file."""
    from sre_cockpit.core.themenames import user_themes_dir

    themes, errors = load_themes(themes_dir())
    user = user_themes_dir()
    if user.is_dir():
        mine, more = load_themes(user)
        themes.update(mine)
        errors.extend(more)
    return themes, errors


def offer_only_cockpit_themes(app: App[Any]) -> None:
    """Unregister Textual's built-in themes, so the palette, ``:theme`` and Textual's own
    theme picker offer the cockpit's themes only (the running theme is kept, so an app with no
    theme file at all still has one)."""
    from textual.theme import BUILTIN_THEMES

    for name in BUILTIN_THEMES:
        if name != app.theme:
            app.unregister_theme(name)


def install_cockpit_themes(app: App[Any], wanted: str | None) -> tuple[list[str], list[str]]:
    """Register the cockpit's themes on ``app``, switch to ``wanted`` (``ui.theme``; the
    default theme when it is unknown) and offer only the cockpit's themes from then on.

    Returns:
        The cockpit's theme names, and the warnings (broken theme files, an unknown theme).
    """
    themes, errors = load_cockpit_themes()
    names: list[str] = []
    for loaded in themes.values():
        app.register_theme(loaded.theme)
        names.append(loaded.theme.name)
    warnings = [f"theme: {error}" for error in errors]
    wanted = wanted or DEFAULT_THEME
    if wanted in names:
        app.theme = wanted
    else:
        warnings.append(f"ui.theme: unknown theme {wanted!r}; using {DEFAULT_THEME}")
        if DEFAULT_THEME in app.available_themes:
            app.theme = DEFAULT_THEME
    offer_only_cockpit_themes(app)
    return names, warnings


def switch_theme(app: App[Any], name: str, names: list[str]) -> str | None:
    """Switch ``app`` to theme ``name``; an error line (with a suggestion among ``names``, the
    cockpit's themes) when there is no such theme, else None."""
    if name not in app.available_themes:
        did = did_you_mean(name, names)
        return (f"unknown theme {sanitize_line(name)!r}{sanitize_line(did)} "
                f"(themes: {', '.join(names)})")
    app.theme = name
    return None


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return -1


def _load_all(paths: list[Path]) -> tuple[dict[str, ThemeFile], list[str]]:
    themes: dict[str, ThemeFile] = {}
    errors: list[str] = []
    for path in paths:
        try:
            loaded = load_theme_file(path)
        except ThemeError as exc:
            errors.append(str(exc))
            continue
        themes[loaded.theme.name] = loaded
    return themes, errors


def rich_color(value: str) -> str:
    """A Textual colour value in a form Rich's style parser also accepts.

    Textual names the ANSI colours ``ansi_bright_red`` / ``ansi_default``; Rich calls them
    ``bright_red`` / ``default``. Hex and ``rgb()`` values are returned unchanged.
    """
    text = value.strip()
    if text in ANSI_ALLOWED:
        return "default" if text == "ansi_default" else text[len("ansi_"):]
    return value


def paint_colour(value: str, background: str | Color | None = None) -> Color | None:
    """The colour Textual paints for a theme value over ``background``: ``#rrggbb``,
    ``#rrggbb 60%`` (blended over the background), ``auto 87%`` (black or white, whichever
    contrasts more with the background, blended). None for the terminal's own colours (ANSI
    names, ``ansi_default``, ``transparent``): only the terminal knows those."""
    text = value.strip()
    match = ALPHA_VALUE.match(text)
    base, alpha = (match.group("color"), int(match.group("alpha")) / 100) if match else (text, 1.0)
    base = base.strip()
    if base in ANSI_ALLOWED or f"ansi_{base}" in ANSI_ALLOWED or base in ("transparent",
                                                                          "default"):
        return None
    back = (background if isinstance(background, Color) or background is None
            else paint_colour(background))
    if base == "auto":
        if back is None:
            return None
        return back + back.get_contrast_text(alpha)
    try:
        colour = Color.parse(base)
    except ColorParseError:
        return None
    if colour.ansi is not None:
        return None
    if alpha < 1.0 or colour.a < 1.0:
        if back is None:
            return colour.with_alpha(1.0)
        return back + colour.with_alpha(alpha * colour.a)
    return colour


def rich_colour_of(value: str, background: str | None = None) -> str:
    """A theme value as a colour Rich can parse: ANSI names as Rich names (``bright_red``),
    blended and ``auto`` values resolved over ``background`` to ``#rrggbb``, ``default`` for
    anything only the terminal knows."""
    text = value.strip()
    match = ALPHA_VALUE.match(text)
    base = match.group("color").strip() if match else text
    if base in ANSI_ALLOWED:
        return rich_color(base)
    if f"ansi_{base}" in ANSI_ALLOWED:  # already a Rich name (app.theme_variables)
        return base
    painted = paint_colour(text, background)
    if painted is not None:
        return painted.hex
    return "default"


def theme_colour(app: object, name: str) -> str:
    """A colour variable (``sev-critical``, ``slo-ok``, ``text-muted``…) of the running theme,
    as a Rich colour painted over the theme's background; the defaults above when the app has
    no such variable (the one colour table)."""
    variables = getattr(app, "theme_variables", None) or {}
    value = variables.get(name) if isinstance(variables, dict) else None
    background = variables.get("background") if isinstance(variables, dict) else None
    return rich_colour_of(str(value or VARIABLE_DEFAULTS.get(name, "default")),
                          str(background) if background else None)
