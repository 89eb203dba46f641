"""Fitting the header's provider badges into the width there is, worst news last to go.

The header once laid the badges out in configuration order and let the edge cut them: at 80
columns ``● p`` was left of one badge and the timeline's was gone, and at 60 columns
``✖ loki error`` disappeared while ``● prom ok`` stayed. :func:`fit_badges` instead:

1. shortens before it hides: the badges in their full, evenly spaced form; then packed; then
   without the state word of healthy ones (``● prom``: the symbol and its colour say ``ok``);
   then with names cut to :data:`SHORT_NAME` cells;
2. hides best-first when even that does not fit: ``ok`` badges first, then ``waiting``, then
   ``stale``; ``error`` badges are the last to go;
3. always says what it hid, by state (``+2 ok``, ``+1 ok +1 stale``) or, when that does not
   fit, in all (``+3 more``, in the colour of the worst one hidden).

Pure functions of the badge values: no Textual, tested without a terminal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text

from sre_cockpit.core.models import HealthState
from sre_cockpit.core.sanitize import sanitize_line

SYMBOLS = {HealthState.OK: "●", HealthState.STALE: "▲", HealthState.ERROR: "✖",
           HealthState.PENDING: "○"}
HIDE_ORDER = (HealthState.OK, HealthState.PENDING, HealthState.STALE, HealthState.ERROR)
"""Which badges go first when there is no room (best news first, errors last)."""
HIDDEN_WORDS = {HealthState.OK: "ok", HealthState.PENDING: "waiting",
                HealthState.STALE: "stale", HealthState.ERROR: "error"}
SHORT_NAME = 5
"""Cells a provider's name keeps in the tightest form (``timeline`` → ``time…``)."""
PADDED_EXTRA = 8
"""The spaced-out form gives each badge its name plus this many cells (symbol, spaces and the
longest suffix, ``error`` or ``59m``), so badges keep their places as ages change."""


@dataclass(frozen=True, slots=True)
class Badge:
    """One provider as the header shows it."""

    name: str
    state: HealthState
    age: str | None = None
    """Coarse age of its oldest data once no longer fresh (``40s``, ``3m``), else None."""


StyleOf = Callable[[HealthState], str]
"""The Rich style of a state (from the running theme)."""


def _suffix(badge: Badge, level: int) -> tuple[str, bool]:
    """The text after the name and whether it takes the state's colour."""
    if badge.state is HealthState.PENDING:
        return ("" if level >= 2 else " …"), False
    if badge.age is not None:
        return f" {badge.age}", True
    if badge.state is HealthState.OK:
        return ("" if level >= 2 else " ok"), True
    if badge.state is HealthState.ERROR and level >= 3:
        return " err", True
    return f" {badge.state.value}", True


def _name(badge: Badge, level: int) -> str:
    name = sanitize_line(badge.name)
    if level >= 3 and cell_len(name) > SHORT_NAME:
        cut = ""
        for char in name:
            if cell_len(cut + char) > SHORT_NAME - 1:
                break
            cut += char
        return cut + "…"
    return name


def badge_text(badge: Badge, style_of: StyleOf, level: int = 1) -> Text:
    """One badge at an abbreviation ``level`` (0-1 full, 2 no ``ok``, 3 short names)."""
    style = style_of(badge.state)
    text = Text(no_wrap=True)
    text.append(SYMBOLS.get(badge.state, "?") + " ", style=style)
    text.append(_name(badge, level))
    suffix, coloured = _suffix(badge, level)
    if suffix:
        text.append(suffix, style=style if coloured else "dim")
    if level == 0:
        width = cell_len(sanitize_line(badge.name)) + PADDED_EXTRA
        text.pad_right(max(0, width - text.cell_len))
    return text


def hidden_text(hidden: Sequence[Badge], style_of: StyleOf, *, total: bool = False) -> Text:
    """``+2 ok +1 stale``: how many badges of each state are not shown (``total``: ``+3
    more``, coloured as the worst of them)."""
    text = Text(no_wrap=True)
    if total:
        worst = max((HIDE_ORDER.index(b.state) for b in hidden if b.state in HIDE_ORDER),
                    default=0)
        text.append(f"+{len(hidden)} more", style=style_of(HIDE_ORDER[worst]))
        return text
    for state in HIDE_ORDER:
        count = sum(1 for badge in hidden if badge.state is state)
        if count:
            if text:
                text.append(" ")
            text.append(f"+{count} {HIDDEN_WORDS[state]}", style=style_of(state))
    return text


def _line(shown: Sequence[Badge], hidden: Sequence[Badge], style_of: StyleOf,
          level: int, *, total: bool = False) -> Text:
    gap = "  " if level <= 2 else " "
    parts = [badge_text(badge, style_of, level) for badge in shown]
    if hidden:
        parts.append(hidden_text(hidden, style_of, total=total))
    line = Text(gap, no_wrap=True).join(parts)
    line.no_wrap = True
    line.overflow = "ellipsis"
    return line


def hide_order(badges: Sequence[Badge]) -> list[Badge]:
    """The badges in the order they are hidden: best state first; among equals, the one
    configured last first (the first-configured keep their place)."""
    rank = {state: n for n, state in enumerate(HIDE_ORDER)}
    indexed = list(enumerate(badges))
    indexed.sort(key=lambda item: (rank.get(item[1].state, 0), -item[0]))
    return [badge for _, badge in indexed]


def fit_badges(badges: Sequence[Badge], width: int | None, style_of: StyleOf) -> Text:
    """The badges as one line of at most ``width`` cells (None or 0: no limit, full form).

    The fewest badges are hidden; with that many hidden, the least shortened form that fits
    is used (the hidden counted by state before in all). When nothing but the count fits, it is
    ``+5 more``, then ``+5``.
    """
    if not badges:
        return Text(no_wrap=True)
    if not width or width <= 0:
        return _line(badges, (), style_of, 0)
    order = hide_order(badges)
    for hide in range(len(badges) + 1):
        hidden_ids = {id(badge) for badge in order[:hide]}
        shown = [badge for badge in badges if id(badge) not in hidden_ids]
        hidden = [badge for badge in badges if id(badge) in hidden_ids]
        for level in range(4):
            for total in (False, True) if len(hidden) > 1 else (False,):
                line = _line(shown, hidden, style_of, level, total=total)
                if line.cell_len <= width:
                    return line
    line = _line((), badges, style_of, 3, total=True)
    if line.cell_len > width:  # "+5 more" is too long: "+5"
        line = Text(f"+{len(badges)}", style=line.spans[0].style if line.spans else "",
                    no_wrap=True, overflow="ellipsis")
        line.truncate(width, overflow="ellipsis")
    return line
