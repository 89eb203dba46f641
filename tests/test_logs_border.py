"""The log pane's border: the query shortened to fit, the time range (live or a moment's
window), plain text even when the query looks like markup."""

from __future__ import annotations

from datetime import UTC, datetime

from sre_cockpit.feeds.logs import LogsSnapshot
from sre_cockpit.ui.logs.status import border_texts, explain_text, shorten


def test_shorten_cuts_with_an_ellipsis_and_keeps_short_text() -> None:
    assert shorten("abc", 5) == "abc"
    assert shorten("abcdefgh", 5) == "abcd…"
    assert shorten("日本語のクエリ", 6) == "日本…"


def test_border_texts_live_moment_and_narrow() -> None:
    live = LogsSnapshot(query='{app="checkout"} |= "[bold]x[/]"', provider="loki")
    title, span = border_texts(live, "Logs", 120)
    assert title == 'Logs · {app="checkout"} |= "[bold]x[/]"' and span == "live, from 5m back"
    title, _ = border_texts(live, "Logs", 30)
    assert title.startswith("Logs · {app=") and title.endswith("…") and len(title) <= 30 - 7
    moment = LogsSnapshot(query="{a=\"b\"}", moment=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert border_texts(moment, "Logs", 120)[1] == "◆ 03:04:05 UTC ±15m"
    assert border_texts(LogsSnapshot(unconfigured="no provider"), "Logs", 120) == ("Logs", "")
    assert "range: live tail, from 5m back" in explain_text(live)
