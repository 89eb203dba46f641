"""A note survives kill -9 and SIGHUP and is delivered exactly once on the next start.

Subprocesses run ``journal_note_script.py`` (journal + outbox + the real PagerDuty provider); a
tiny PagerDuty notes server in this process counts what it receives.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from sre_cockpit.feeds.journal import Journal

SCRIPT = Path(__file__).with_name("journal_note_script.py")


class NotesServer:
    """PagerDuty's GET/POST /incidents/{id}/notes; ``hang`` keeps POSTs unanswered (stored)."""

    def __init__(self, port: int, *, hang: bool = False) -> None:
        self.port = port
        self.hang = hang
        self.notes: list[dict[str, Any]] = []
        self.posts = 0
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._release: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    async def _get(self, request: web.Request) -> web.Response:
        return web.json_response({"notes": [n for n in self.notes
                                             if n["incident"] == request.match_info["id"]]})

    async def _post(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.posts += 1
        self.notes.append({"incident": request.match_info["id"], "id": f"N{len(self.notes)}",
                           "content": body["note"]["content"],
                           "created_at": "2026-03-01T14:05:00Z"})
        if self.hang:
            self._release = asyncio.Event()
            await self._release.wait()
        return web.json_response({"note": self.notes[-1]})

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_get("/incidents/{id}/notes", self._get)
        app.router.add_post("/incidents/{id}/notes", self._post)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    def start(self) -> NotesServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def stop(self) -> None:
        if self._release is not None:
            self._loop.call_soon_threadsafe(self._release.set)
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[Path, Path, int]]:
    port = free_port()
    data = tmp_path / "data"
    config = tmp_path / "config.yaml"
    config.write_text(f"""
journal_dir: {data}
contexts:
  t:
    providers:
      pd:
        type: pagerduty
        url: http://127.0.0.1:{port}
        token: test-token
        from_email: ops@example.com
        timeout: 2s
""")
    yield config, data, port


def env() -> dict[str, str]:
    out = dict(os.environ)
    out.pop("SRE_COCKPIT_DATA_DIR", None)
    out["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parents[1]), out.get("PYTHONPATH", "")])
    return out


def submit_and_signal(config: Path, text: str, sig: int, *, settle: float) -> int:
    proc = subprocess.Popen([sys.executable, str(SCRIPT), "submit", str(config), text],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env())
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        assert line.strip() == "journaled", proc.stderr.read().decode() if proc.stderr else ""
        time.sleep(settle)  # let the outbox try (and fail / hang) at least once
        assert proc.poll() is None, "the submit process ended on its own"
        proc.send_signal(sig)
        return proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def deliver(config: Path) -> list[str]:
    done = subprocess.run([sys.executable, str(SCRIPT), "deliver", str(config)],
                          capture_output=True, env=env(), timeout=60, check=False)
    assert done.returncode == 0, done.stderr.decode() + done.stdout.decode()
    return done.stdout.decode().splitlines()


def deliveries(data: Path) -> list[tuple[str, str, int]]:
    """(note text, delivery state, attempted) for every delivery in the store, read by a
    connection of this process (as another cockpit would)."""
    conn = sqlite3.connect(data / "notes.db")
    try:
        return [tuple(row) for row in conn.execute(
            "SELECT n.text, d.state, d.attempted FROM notes n JOIN deliveries d "
            "ON d.note_id = n.id ORDER BY n.seq")]
    finally:
        conn.close()


@pytest.mark.slow
def test_note_survives_kill_9_while_provider_unreachable(setup: tuple[Path, Path, int]) -> None:
    config, data, port = setup
    code = submit_and_signal(config, "rolled back checkout 2.3.1", signal.SIGKILL, settle=1.0)
    assert code == -signal.SIGKILL
    (text, state, _attempted), = deliveries(data)  # committed before the first try
    assert (text, state) == ("rolled back checkout 2.3.1", "pending")  # nothing delivered
    server = NotesServer(port).start()
    try:
        assert deliver(config) == ["rolled back checkout 2.3.1\tdelivered"]
        assert deliver(config) == ["rolled back checkout 2.3.1\tdelivered"]  # no second send
        assert server.posts == 1
        assert len(server.notes) == 1
        assert server.notes[0]["content"].startswith("rolled back checkout 2.3.1")
    finally:
        server.stop()


@pytest.mark.slow
def test_note_in_flight_at_kill_9_is_not_sent_twice(setup: tuple[Path, Path, int]) -> None:
    config, data, port = setup
    server = NotesServer(port, hang=True).start()
    try:
        code = submit_and_signal(config, "paging payments", signal.SIGKILL, settle=1.0)
        assert code == -signal.SIGKILL
        assert server.posts == 1  # the request reached the provider, the answer never came
        assert deliveries(data) == [("paging payments", "pending", 1)]  # attempt, no outcome
        server.hang = False
        assert deliver(config) == ["paging payments\tdelivered"]
        assert server.posts == 1 and len(server.notes) == 1
    finally:
        server.stop()


@pytest.mark.slow
def test_sighup_flushes_draft_and_the_note_is_delivered_once(setup: tuple[Path, Path, int]) -> None:
    config, data, port = setup
    code = submit_and_signal(config, "ssh dropped", signal.SIGHUP, settle=0.8)
    assert code == -signal.SIGHUP  # died of the signal after flushing
    draft = Journal(data).load_draft(["pd:P1"])
    assert draft is not None and draft.text == "draft after: ssh dropped"
    server = NotesServer(port).start()
    try:
        assert deliver(config) == ["ssh dropped\tdelivered"]
        assert server.posts == 1
    finally:
        server.stop()


@pytest.mark.slow
def test_the_note_is_on_disk_before_the_provider_is_contacted(setup: tuple[Path, Path, int],
                                                              tmp_path: Path) -> None:
    """DESIGN §6, checked at the system-call boundary: strace shows the fsync of the store's
    WAL (the commit holding the note) before the first connect() to the provider."""
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace is not installed")
    config, _data, port = setup
    trace = tmp_path / "trace.txt"
    server = NotesServer(port).start()
    try:
        proc = subprocess.Popen([strace, "-f", "-y", "-e", "trace=fsync,fdatasync,connect,write",
                                 "-o", str(trace), sys.executable, str(SCRIPT), "submit",
                                 str(config), "fsync first"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env(),
                                start_new_session=True)
        try:
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != b"journaled":
                pytest.skip("cannot trace here: " + (proc.stderr.read(300).decode()
                                                     if proc.stderr else ""))
            deadline = time.monotonic() + 20
            while server.posts == 0 and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            # the whole group: killing strace alone leaves the traced cockpit script running
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()
    finally:
        server.stop()
    assert server.posts == 1
    calls = [c for c in trace.read_text().splitlines()
             if "sync(" in c or "connect(" in c or ("write(1<" in c and '"journaled' in c)]
    # add_note returned (the script printed "journaled") right after a sync of the WAL, and
    # the provider was contacted only after that
    returned = next(i for i, c in enumerate(calls) if '"journaled' in c)
    last_sync = max(i for i, c in enumerate(calls[:returned]) if "sync(" in c)
    assert "notes.db-wal>" in calls[last_sync], "\n".join(calls)
    contacted = next(i for i, c in enumerate(calls)
                     if "connect(" in c and f"sin_port=htons({port})" in c)
    assert returned < contacted, "\n".join(calls)
