"""A log line's detail view (``enter`` in the log pane): the time, the stream labels, every
parsed field — a JSON line pretty-printed with nested objects indented, logfmt one field a row —
and the raw line; hostile text shown as text; scrolls at 80×24; ``c``/``C`` copy."""

from __future__ import annotations

import json

from logs_helpers import running_pane, wait_for
from loki_helpers import loki_stub, make_runtime
from textual.containers import VerticalScroll
from textual.widgets import Static

from sre_cockpit.core.logdetail import detail_sections, detail_text
from sre_cockpit.core.logfields import MAX_JSON_NESTING
from sre_cockpit.ui.logs.detail import LineDetail

NESTED = json.dumps({"level": "error", "msg": "charge failed", "order": {"id": 7, "items": [
    {"sku": "a-1", "qty": 2}]}, "user": "ann"})


def test_json_lines_are_pretty_printed_with_nested_objects_indented() -> None:
    sections = dict(detail_sections(1_700_000_000_123_456_789, {"app": "pay", "env": "prod"},
                                    NESTED))
    assert sections["time"][0].startswith("2023-11-14T22:13:20.123456789+0000")
    assert sections["labels"] == ["app=pay", "env=prod"]
    fields = sections["fields (JSON)"]
    assert '  "order": {' in fields and '    "id": 7,' in fields
    assert '        "sku": "a-1",' in fields  # nested in a list in an object: indented deeper
    assert sections["raw line"] == [NESTED]


def test_logfmt_plain_and_metadata_lines() -> None:
    sections = dict(detail_sections(0, {}, 'ts=1 level=warn msg="slow cart" seq=3 retry',
                                    metadata={"trace_id": "abc"}))
    assert sections["fields (logfmt)"] == ["ts = 1", "level = warn", "msg = slow cart",
                                           "seq = 3", "retry"]
    assert sections["labels"] == ["(none)"]
    assert sections["structured metadata"] == ["trace_id=abc"]
    plain = dict(detail_sections(0, {}, "just words"))
    assert plain["fields"] == ["(a plain line: no fields)"]


def test_hostile_and_deep_lines_stay_text_and_bounded() -> None:
    hostile = '{"k\\u001b[31m":"v\\u009b2J","[bold]x[/]":"\\u202eevil"}'
    text = detail_text(detail_sections(0, {"a\x1b]0;t\x07": "b"}, hostile))
    assert "\x1b" not in text and "\x9b" not in text and "\u202e" not in text
    assert "[bold]x[/]" in text  # shown as typed, never markup
    deep = "{" + '"a":[' * (MAX_JSON_NESTING + 5) + "1" + "]" * (MAX_JSON_NESTING + 5) + "}"
    sections = dict(detail_sections(0, {}, deep))
    assert "fields (JSON)" not in sections  # not decoded: shown as the parser sees it
    assert sections["raw line"] == [deep]


async def test_enter_opens_the_detail_which_scrolls_at_80x24_and_copies() -> None:
    with loki_stub() as stub:
        async with running_pane(make_runtime(stub.url), (80, 24)) as (app, pilot, pane):
            big = dict(json.loads(NESTED), extra={f"k{i}": i for i in range(40)})
            stub.push(json.dumps(big), labels={"app": "pay"})
            await wait_for(pilot, lambda: len(pane.view.ring) == 1)
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, LineDetail))
            screen = app.screen
            assert isinstance(screen, LineDetail)
            body = str(screen.query_one("#detail-body", Static).render())
            assert "labels\n  app=pay" in body and '"k39": 39' in body
            scroll = screen.query_one("#detail-scroll", VerticalScroll)
            assert scroll.max_scroll_y > 0  # taller than 80×24: it scrolls
            await pilot.press("end")
            await wait_for(pilot, lambda: scroll.scroll_y == scroll.max_scroll_y)
            await pilot.press("c")
            assert app.clipboard == pane.view.view[-1].text
            await pilot.press("C")
            assert app.clipboard.startswith("time:\n") and '"k39": 39' in app.clipboard
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, LineDetail))
