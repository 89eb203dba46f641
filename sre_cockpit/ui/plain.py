"""The one way text from outside the cockpit reaches a widget: plain, never markup.

Text from a backend, a config file, a log line, a note or an error body is shown through
:func:`plain` (a Rich :class:`~rich.text.Text`), :func:`plain_content` (a Textual
:class:`~textual.content.Content`) or :func:`plain_str` (a string for the few widgets that take
one: an ``Input`` value, a toast message sent with ``markup=False``). All three sanitise first
(:func:`~sre_cockpit.core.sanitize.sanitize_line`: escape sequences, C1 controls, BEL, CR, bidi
overrides and invisible characters become visible markers, a long text is capped) and never
parse markup, so a Loki error body reading ``[/]`` is shown as ``[/]`` instead of crashing the
cockpit, and ``[@click=app.quit]…[/]`` in an incident title is text, not an action.

Textual parses a plain ``str`` as markup almost everywhere: ``Static``/``Label`` content and
``update()``, ``border_title``/``border_subtitle``, ``DataTable`` cells and column labels,
command-palette hits (their help, and ``Matcher.highlight`` of a prompt: :func:`plain_highlight`),
``notify()`` (``Widget.notify`` passes ``markup=True``). Hand those a
``Text`` or ``Content`` built here, or a constant string.

One toast is styled: a link (``o`` copies an incident's URL). Textual's toasts take markup only,
and ``Content.markup`` does not round-trip every text (``[/`` comes back as a broken closing
tag). :func:`trusted_markup` renders such a ``Content`` to markup and checks that parsing it
gives back exactly the same text and spans; the result is a :class:`TrustedMarkup`, the only
markup the cockpit's ``notify`` accepts.
"""

from __future__ import annotations

from rich.style import Style as RichStyle
from rich.text import Text
from textual.content import Content
from textual.fuzzy import Matcher
from textual.style import Style

from sre_cockpit.core.sanitize import DEFAULT_MAX_BYTES, sanitize, sanitize_line

__all__ = ["TrustedMarkup", "plain", "plain_content", "plain_highlight", "plain_str",
           "trusted_markup"]


class TrustedMarkup(str):
    """Markup produced by :func:`trusted_markup` from a ``Content`` (checked to parse back to
    the same text and styles); any other string given to the cockpit's ``notify`` is shown as
    plain text."""

    __slots__ = ()


def plain_str(text: object, *, multiline: bool = False,
              max_bytes: int | None = DEFAULT_MAX_BYTES) -> str:
    """``text`` made terminal-safe: one line (newlines shown as ``␤``), or with
    ``multiline`` one safe line per line. ``None`` is the empty string."""
    if text is None:
        return ""
    raw = text if isinstance(text, str) else str(text)
    if multiline:
        return sanitize(raw, max_bytes=max_bytes)
    return sanitize_line(raw, max_bytes=max_bytes)


def plain(text: object, style: str | RichStyle = "", *, multiline: bool = False,
          no_wrap: bool | None = None, overflow: str | None = None,
          max_bytes: int | None = DEFAULT_MAX_BYTES) -> Text:
    """``text`` as a Rich ``Text`` in ``style``: sanitised (see :func:`plain_str`), never
    parsed as markup. ``no_wrap`` and ``overflow`` are ``Text``'s own (``"ellipsis"``,
    ``"fold"`` …)."""
    return Text(plain_str(text, multiline=multiline, max_bytes=max_bytes), style=style,
                no_wrap=no_wrap, overflow=overflow)  # type: ignore[arg-type]


def plain_content(text: object, style: str = "", *, multiline: bool = False,
                  max_bytes: int | None = DEFAULT_MAX_BYTES) -> Content:
    """``text`` as a Textual ``Content`` in ``style`` (sanitised, never markup): for border
    titles and other places that want ``Content``."""
    content = Content(plain_str(text, multiline=multiline, max_bytes=max_bytes))
    return content.stylize(style) if style else content


def plain_highlight(matcher: Matcher, text: object) -> Content:
    """``text`` as plain ``Content`` with the command palette's fuzzy match highlighted (what
    ``Matcher.highlight`` does, except that it parses the candidate as markup: a context named
    ``[/]`` broke the palette's search and ``[@click=…]`` in one became a live action)."""
    candidate = plain_str(text)
    content = Content(candidate)
    score, offsets = matcher.fuzzy_search.match(matcher.query, candidate)
    if not score:
        return content
    for offset in offsets:
        if not candidate[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


def trusted_markup(content: Content) -> TrustedMarkup | None:
    """Markup that Textual parses back into exactly ``content`` (same text, same spans), or
    None when ``Content.markup`` cannot express it (then show ``content.plain`` instead).
    ``content`` itself must have been built from plain strings (:func:`plain_content`)."""
    markup = TrustedMarkup(content.markup)  # a candidate until it has parsed back
    try:
        parsed = Content.from_markup(markup)
    except Exception:  # MarkupError and friends: Textual's escaping failed on this text
        return None
    if parsed.plain != content.plain or _spans(parsed) != _spans(content):
        return None
    return markup


def _spans(content: Content) -> list[tuple[int, int, str]]:
    """Spans as comparable values (a ``Style`` and the string it was parsed from compare
    unequal even when they mean the same)."""
    out = []
    for span in content.spans:
        style = span.style
        if isinstance(style, str):
            style = Style.parse(style)
        out.append((span.start, span.end, str(style)))
    return sorted(out)
