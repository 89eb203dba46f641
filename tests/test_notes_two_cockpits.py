"""Two real cockpits on one notes store (two responders on one jump-host account).

Before the SQLite store, the second process never re-read the JSON-lines journal: a backlog of
notes written while the incident API was unreachable was posted twice, once by each cockpit,
with the same idempotency key (5/5 against an API that does not de-duplicate). Now a delivery is claimed in a write transaction before it is sent,
and each cockpit shows the notes the other one writes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from notes_helpers import Cockpit, TeamApi, editor_closed, editor_open, ready, stored_notes
from sim_helpers import SimHandle, launch_simulator

from sre_cockpit.core.models import Incident, IncidentStatus, Severity
from sre_cockpit.feeds.journal import Journal

pytestmark = [pytest.mark.slow]


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[tuple[SimHandle, Path]]:
    config = tmp_path / "sim.yaml"
    handle = launch_simulator(seed=5, write_config=config)
    try:
        yield handle, config
    finally:
        handle.stop()


def wait_until(check: object, timeout: float, *cockpits: Cockpit) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for app in cockpits:
            app.pump(0.05)
        if check():  # type: ignore[operator]
            return
    raise AssertionError("timed out")


def test_a_backlog_is_posted_once_by_two_cockpits(tmp_path: Path) -> None:
    api = TeamApi(delay=0.2).start()  # records every POST; does not de-duplicate
    config = api.config(tmp_path / "team.yaml")
    data = tmp_path / "data"
    incident = Incident(id="INC-1", provider="team", title="checkout errors",
                        status=IncidentStatus.TRIGGERED, severity=Severity.CRITICAL,
                        service="checkout", started_at=datetime(2026, 3, 1, 14, 0, tzinfo=UTC))
    earlier = Journal(data)  # the cockpit that wrote them lost its network, then died
    backlog = [earlier.add_note(f"backlog note #{n}", [incident], author="ann", context="t")
               for n in range(5)]
    earlier.close()
    first = Cockpit(config, data)
    second = Cockpit(config, data)
    try:
        db = data / "notes.db"
        wait_until(lambda: [state for _t, _p, state in stored_notes(db)] == ["delivered"] * 5,
                   30, first, second)
        for app in (first, second):
            app.pump(1.0)  # a second copy still on its way would land now
        keys = [key for key, _text in api.posts]
        assert sorted(keys) == sorted(f"{r.targets['team'].idempotency_key}:INC-1"
                                      for r in backlog), api.posts  # each once
        assert sorted(text for _key, text in api.posts) == \
            [f"backlog note #{n}" for n in range(5)]
    finally:
        first.stop()
        second.stop()
        api.stop()


def test_each_cockpit_shows_the_notes_the_other_writes(sim: tuple[SimHandle, Path],
                                                       tmp_path: Path) -> None:
    _handle, config = sim
    data = tmp_path / "data"
    watcher = Cockpit(config, data)
    writer = Cockpit(config, data)
    try:
        watcher.wait_for(ready)
        writer.wait_for(ready)
        writer.write(b"n")
        writer.wait_for(editor_open)
        writer.write(b"from B\x13")
        writer.wait_for(editor_closed)
        started = time.monotonic()
        # the watcher's timeline shows it (a narrow pane: the row is "[state] text"), with the
        # state the writer's outbox recorded
        watcher.wait_for("[local only] from B", timeout=5)
        assert time.monotonic() - started < 5
        assert [text for text, _p, _s in stored_notes(data / "notes.db")] == ["from B"]
    finally:
        watcher.stop()
        writer.stop()
