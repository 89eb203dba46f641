"""Drive a real ``sre-cockpit`` process in its own pty for the notes tests, and read its store.

:class:`Cockpit` starts ``python -m sre_cockpit --config FILE`` (optionally behind a prefix such
as ``unshare … sh -c …``) on a fresh pty, feeds everything it writes to a pyte screen (answering
terminal queries like a real terminal) and waits for text to appear; :meth:`Cockpit.write`
sends bytes in ONE ``os.write`` (a paste, a coalesced SSH packet).
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pyte
from test_pty_hostile import set_winsize


class Cockpit:
    """A real cockpit process on a pty."""

    def __init__(self, config: Path | None, data: Path, *, cols: int = 160, rows: int = 50,
                 prefix: Sequence[str] = (), extra_env: dict[str, str] | None = None,
                 command: Sequence[str] | None = None, args: Sequence[str] = ()) -> None:
        self.screen = pyte.Screen(cols, rows)
        self._stream = pyte.ByteStream(self.screen)
        self._replies: list[bytes] = []
        self.screen.write_process_input = (  # type: ignore[method-assign]
            lambda data: self._replies.append(data.encode()))
        self.output = bytearray()
        master, slave = os.openpty()
        set_winsize(slave, rows, cols)
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(cols),
               "LINES": str(rows), "SRE_COCKPIT_DATA_DIR": str(data), **(extra_env or {})}
        env.pop("TMUX", None)
        env.pop("TEXTUAL", None)
        # command: another installation's cockpit (e.g. a fresh venv's ``bin/sre-cockpit``)
        argv = [*prefix, *(command or (sys.executable, "-m", "sre_cockpit")),
                *(("--config", str(config)) if config is not None else ()), *args]
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     start_new_session=True, close_fds=True)
        os.close(slave)
        self.master = master

    def pump(self, seconds: float) -> None:
        """Read what the cockpit writes for up to ``seconds``."""
        end = time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            ready, _, _ = select.select([self.master], [], [], max(0.0, min(left, 0.05)))
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    return
                if not chunk:
                    return
                self.output += chunk
                self._stream.feed(chunk)
                while self._replies:
                    os.write(self.master, self._replies.pop(0))
            if left <= 0:
                return

    def text(self) -> str:
        """The screen now, one line per row."""
        return "\n".join(self.screen.display)

    def wait_for(self, want: str | Callable[[str], bool], timeout: float = 20.0) -> str:
        """Pump until the screen shows ``want`` (text, or a predicate on the screen text).

        Raises:
            AssertionError: not within ``timeout`` (with the screen in the message).
        """
        check = (lambda text: want in text) if isinstance(want, str) else want
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.pump(0.1)
            if check(self.text()):
                return self.text()
            if self.proc.poll() is not None:
                self.pump(0.2)
                break
        raise AssertionError(f"timed out waiting for {want!r} (exit {self.proc.poll()}):\n"
                             f"{self.text()}")

    def write(self, data: bytes) -> None:
        """Send ``data`` in one write: every key arrives in one terminal read."""
        os.write(self.master, data)

    def signal(self, sig: int) -> None:
        """Send a signal to the cockpit itself."""
        self.proc.send_signal(sig)

    def wait_exit(self, timeout: float) -> int | None:
        """The exit status once the process ended within ``timeout`` (None: still running)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.pump(0.1)
            if self.proc.poll() is not None:
                return self.proc.returncode
        return self.proc.poll()

    def stop(self) -> None:
        """End the process group (SIGTERM, then SIGKILL) and close the pty."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        with contextlib.suppress(OSError):
            os.close(self.master)


def stored_notes(db: Path) -> list[tuple[str, str | None, str | None]]:
    """``(text, provider, delivery state)`` for every note in a store, oldest first; none while
    the cockpit has not created its tables yet (a loaded machine reads before it does)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'notes'"
                        ).fetchone() is None:
            return []
        return [tuple(row) for row in conn.execute(
            "SELECT n.text, d.provider, d.state FROM notes n LEFT JOIN deliveries d "
            "ON d.note_id = n.id ORDER BY n.seq")]
    finally:
        conn.close()


def editor_open(text: str) -> bool:
    """Whether the note editor is on the screen."""
    return "Send (ctrl+s)" in text


def editor_closed(text: str) -> bool:
    """Whether the note editor is gone."""
    return "Send (ctrl+s)" not in text


def ready(text: str) -> bool:
    """The cockpit shows incidents (the simulator's story is loaded)."""
    return "triggered" in text and "● pd ok" in text


class TeamApi:
    """A team's own incident API (``type: http``) on loopback: one incident, and note POSTs
    recorded with their ``Idempotency-Key`` — it does not de-duplicate, like many real APIs,
    so a note sent twice is counted twice. Each POST takes ``delay`` seconds."""

    def __init__(self, *, delay: float = 0.2) -> None:
        import asyncio
        import threading

        self.delay = delay
        self.posts: list[tuple[str, str]] = []
        """(Idempotency-Key, note text) of every POST, in arrival order."""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: object = None
        self.port = 0

    async def _start(self) -> None:
        import asyncio

        from aiohttp import web

        async def incidents(_request: web.Request) -> web.Response:
            return web.json_response([{"id": "INC-1", "title": "checkout errors",
                                       "status": "triggered", "severity": "critical",
                                       "service": "checkout",
                                       "started_at": "2026-03-01T14:00:00Z"}])

        async def note(request: web.Request) -> web.Response:
            body = await request.json()
            self.posts.append((request.headers.get("Idempotency-Key", ""), str(body["note"])))
            await asyncio.sleep(self.delay)
            return web.json_response({"ok": True})

        app = web.Application()
        app.router.add_get("/incidents", incidents)
        app.router.add_post("/incidents/{id}/notes", note)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self.port = int(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]

    def start(self) -> TeamApi:
        """Serve on a free loopback port."""
        import asyncio

        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def stop(self) -> None:
        """Stop serving."""
        import asyncio

        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(),  # type: ignore[attr-defined]
                                             self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def config(self, path: Path) -> Path:
        """A cockpit config (context ``t``) whose only provider is this API (``team``)."""
        path.write_text(f"""\
default_context: t
contexts:
  t:
    providers:
      team:
        type: http
        url: http://127.0.0.1:{self.port}
        list_url: /incidents
        timeout: 5s
        actions:
          note: {{method: POST, url: "/incidents/{{id}}/notes", body: {{note: "{{text}}"}}}}
""")
        path.chmod(0o600)
        return path
