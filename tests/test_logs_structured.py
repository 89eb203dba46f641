"""Structured log lines in the log pane (``s``): logfmt and JSON message-first with the other
fields dimmed, plain lines raw, hostile lines sanitised, wrapped rows indented, search matches
highlighted in the laid-out text; parsed only for the rows drawn."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from logs_helpers import running_pane, screen_text, wait_for
from loki_helpers import LokiStub, loki_stub, make_runtime

from sre_cockpit.core.loglines import format_ts


@pytest.fixture
def stub() -> Iterator[LokiStub]:
    with loki_stub() as running:
        yield running


LOGFMT = 'ts=2026-01-01T00:00:00Z level=error seq=1 app=checkout msg="payment failed" upstream=pay'
JSON = '{"time":"2026-01-01T00:00:01Z","severity":"WARN","message":"slow cart","seq":2,"k":{"a":1}}'
PLAIN = "plain words seq=3 with no structure at all"
HOSTILE = '{"level":"info","msg":"evil \\u001b]52;c;aGk=\\u0007 title","seq":4}'


async def test_structured_rows_are_message_first_and_raw_comes_back(stub: LokiStub) -> None:
    async with running_pane(make_runtime(stub.url), (120, 20)) as (_app, pilot, pane):
        for line in (LOGFMT, JSON, PLAIN, HOSTILE):
            stub.push(line)
        await wait_for(pilot, lambda: len(pane.view.ring) == 4)
        raw = screen_text(pane.app)
        assert LOGFMT in raw
        await pilot.press("s")
        await pilot.pause()
        rows = [r.rstrip() for r in screen_text(pane.app).splitlines() if r.strip()]
        stamps = [format_ts(r.ts_ns, utc=True) for r in pane.view.view]
        assert rows[0] == f"{stamps[0]} error payment failed seq=1 app=checkout upstream=pay"
        assert rows[1] == f'{stamps[1]} WARN  slow cart seq=2 k.a=1'
        assert rows[2] == f"{stamps[2]} {PLAIN}"
        assert rows[3].startswith(f"{stamps[3]} info  evil ␛]52;c;aGk=") and "\x1b" not in rows[3]
        assert "\x07" not in "".join(rows)
        strip = pane.view._row_strip(pane.view.view[0], selected=False)
        dims = {seg.text: bool(seg.style and seg.style.dim) for seg in strip}
        assert dims[f"{stamps[0]} error payment failed"] is False  # one run, coloured
        assert dims[" seq=1 app=checkout upstream=pay"] is True  # the fields: one dim run
        assert len(strip) == 2  # two style runs: few SGR sequences on the wire
        assert pane.view._structured.cache.misses <= 8  # parsed only what was drawn
        pane.set_search("failed")
        strip = pane.view._row_strip(pane.view.view[0], selected=False)
        assert [s.text for s in strip if s.style and s.style.reverse] == ["failed"]
        await pilot.press("s")
        await pilot.pause()
        assert LOGFMT in screen_text(pane.app)


async def test_wrapped_structured_rows_are_indented_under_the_message(stub: LokiStub) -> None:
    async with running_pane(make_runtime(stub.url), (60, 20)) as (_app, pilot, pane):
        stub.push("level=info msg=\"" + "word " * 30 + "\" seq=9")
        await wait_for(pilot, lambda: len(pane.view.ring) == 1)
        await pilot.press("s", "w")
        await pilot.pause()
        view = pane.view
        rows = [view.render_line(y).text.rstrip() for y in range(view.size.height)]
        rows = [r for r in rows if r.strip()]
        assert len(rows) == 4, rows
        assert rows[0].split()[1:3] == ["info", "word"]
        # continuations start under the message: time (13) + level (5) + space
        assert all(r.startswith(" " * 19) and r[19:].strip() for r in rows[1:]), rows
        joined = rows[0][19:] + "".join(r[19:] for r in rows[1:])
        assert joined.replace(" ", "") == "word" * 30 + "seq=9", rows  # nothing lost
