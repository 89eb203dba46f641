"""The LogQL editor's per-context query history: kept in the data dir across runs, bounded,
deduplicated (a query used again moves to the newest place), one file per context, a damaged
or unwritable file said and never fatal; ``up``/``down`` in the editor walk it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from logs_helpers import running_pane, wait_for
from loki_helpers import loki_stub, make_runtime

from sre_cockpit.feeds.logprefs import COLUMN_QUERIES, HISTORY_LIMIT, LogPrefs, prefs_path
from sre_cockpit.ui.logs.history import QueryEditor


def test_history_is_deduplicated_bounded_and_persisted(tmp_path: Path) -> None:
    prefs = LogPrefs.for_context(str(tmp_path), "prod")
    assert prefs.history == []
    for query in ('{app="a"}', '{app="b"}', '{app="a"}', '{app="a"}', "  "):
        assert prefs.remember_query(query) is None
    assert prefs.history == ['{app="b"}', '{app="a"}']  # used again: moved to the end, once
    for i in range(HISTORY_LIMIT + 10):
        prefs.remember_query(f'{{app="x{i}"}}')
    again = LogPrefs.for_context(str(tmp_path), "prod")  # a new run reads the file
    assert len(again.history) == HISTORY_LIMIT
    assert again.history[-1] == f'{{app="x{HISTORY_LIMIT + 9}"}}'
    assert LogPrefs.for_context(str(tmp_path), "staging").history == []  # per context
    assert os.stat(prefs.path or "").st_mode & 0o777 == 0o600


def test_data_dir_comes_from_the_environment_like_the_notes(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SRE_COCKPIT_DATA_DIR", str(tmp_path / "data"))
    prefs = LogPrefs.for_context(None, "../../etc/passwd")
    assert prefs.path == prefs_path(tmp_path / "data", "../../etc/passwd")
    assert prefs.path is not None and prefs.path.parent == tmp_path / "data" / "logs"
    assert prefs_path(tmp_path, "a/b") != prefs_path(tmp_path, "a_b")  # never one file


def test_columns_per_query_are_kept_for_a_bounded_number_of_queries(tmp_path: Path) -> None:
    prefs = LogPrefs.for_context(str(tmp_path), "prod")
    assert prefs.columns('{app="a"}') is None
    prefs.set_columns('{app="a"}', ("ts", "msg", "user"))
    for i in range(COLUMN_QUERIES + 5):
        prefs.set_columns(f'{{q="{i}"}}', ("msg",))
    again = LogPrefs.for_context(str(tmp_path), "prod")
    assert again.columns('{app="a"}') is None  # the least recently chosen went first
    assert again.columns(f'{{q="{COLUMN_QUERIES + 4}"}}') == ("msg",)
    again.set_columns('{app="a"}', ("level", "msg"))
    assert LogPrefs.for_context(str(tmp_path), "prod").columns('{app="a"}') == ("level", "msg")


def test_damaged_and_unwritable_files_are_said_not_fatal(tmp_path: Path) -> None:
    prefs = LogPrefs.for_context(str(tmp_path), "prod")
    assert prefs.path is not None
    prefs.path.parent.mkdir(parents=True)
    prefs.path.write_text("{not json")
    assert prefs.history == [] and prefs.problem and "damaged" in prefs.problem
    prefs.path.write_text(json.dumps({"history": ["ok", 3, None, "x" * 10_000], "columns": []}))
    assert LogPrefs.for_context(str(tmp_path), "prod").history == ["ok"]  # junk entries dropped
    blocked = LogPrefs(tmp_path / "file" / "logs" / "p.json")
    (tmp_path / "file").write_text("a file where a directory should be")
    problem = blocked.remember_query('{app="a"}')
    assert problem and problem.startswith("cannot save p.json")
    assert blocked.history == ['{app="a"}']  # still remembered for this session


async def test_editor_walks_the_history_and_only_accepted_queries_join_it() -> None:
    with loki_stub() as stub:
        async with running_pane(make_runtime(stub.url), (100, 24)) as (app, pilot, pane):
            await _submit(pilot, pane, '{app="one"}')
            await _submit(pilot, pane, '{app="two"}')
            assert pane.prefs.history == ['{app="one"}', '{app="two"}']
            await pilot.press("l")
            editor = pane.query_one("#log-query", QueryEditor)
            assert editor.has_focus and editor.value == '{app="two"}'
            await pilot.press("up")  # the current query is the newest: one step further
            assert editor.value == '{app="one"}'
            await pilot.press("up")
            assert editor.value == '{app="one"}'  # the oldest stays
            await pilot.press("down")
            assert editor.value == '{app="two"}'  # back to the line as it was
            await pilot.press("escape")
            assert not editor.has_class("-open")
            await _submit(pilot, pane, 'app="broken"', wait=False)  # Loki answers 400
            await pilot.pause(0.5)
            assert pane.prefs.history == ['{app="one"}', '{app="two"}']  # refused: not kept
        assert app.return_code is None or app.return_code == 0


async def _submit(pilot: object, pane: object, query: str, *, wait: bool = True) -> None:
    from textual.pilot import Pilot

    from sre_cockpit.ui.logs.view import LogPane

    assert isinstance(pilot, Pilot) and isinstance(pane, LogPane)
    await pilot.press("l")
    editor = pane.query_one("#log-query", QueryEditor)
    editor.value = query
    await pilot.press("enter")
    if wait:
        await wait_for(pilot, lambda: pane.snapshot.query == query)
        await wait_for(pilot, lambda: query in pane.prefs.history)

