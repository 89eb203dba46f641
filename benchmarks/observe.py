"""Run the real cockpit CLI with a read-only observer that writes the log pane's counters.

    python benchmarks/observe.py --config FILE [--low-bandwidth]    # same arguments as sre-cockpit

The benchmark must check that lines received = shown + dropped (+ still queued) exactly, which
needs the log pane's own counters. When ``SRE_COCKPIT_STATS_FILE`` is set and the log pane does
not write that file itself (the native hook described in ``benchmarks/README.md``), this launcher
records the ``LogPane`` instance when it is bound to its ``LogFeed`` and writes their counters —
read, never changed — from a daemon thread twice a second and once more at exit (after the event
loop has stopped, so the final figures are exact). Lines the feed has handed over but whose
message the pane has not processed yet count as queued, like the stream's own pending lines. Then it calls ``sre_cockpit.cli.main.main`` exactly as ``sre-cockpit``
does. Without the environment variable it is a plain ``sre-cockpit``.
"""

from __future__ import annotations

import atexit
import inspect
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

STATS_ENV = "SRE_COCKPIT_STATS_FILE"
_panes: list[Any] = []


def snapshot() -> dict[str, Any] | None:
    """Counters of the most recently attached log pane, or None before it attached."""
    if not _panes:
        return None
    pane = _panes[-1]
    feed = getattr(pane, "feed", None)
    stream = getattr(feed, "stream", None)
    view = getattr(pane, "view", None)
    if feed is None or stream is None or view is None:
        return None
    status = stream.status
    in_flight = int(feed.published_lines) - int(view.total_appended)
    return {
        "received": int(status.received),
        "shown": int(view.total_appended),
        "dropped_client": int(status.dropped_client),
        "dropped_server": int(status.dropped_server),
        "queue_len": int(status.pending) + in_flight,
        "queue_bound": int(stream.max_pending),
        "buffered": len(view.ring),
        "duplicates": int(status.duplicates),
        "reconnects": int(status.reconnects),
        "mode": str(status.mode.value),
        "source": "benchmarks/observe.py",
        "t": time.time(),
    }


def write(path: Path, data: dict[str, Any]) -> None:
    """Write JSON atomically (tmp file + rename)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def install(path: Path) -> bool:
    """Observe the log pane unless it already writes the stats file itself.

    Args:
        path: The stats file.

    Returns:
        True when the observer was installed.
    """
    from sre_cockpit.ui.logs import view as logs

    if STATS_ENV in inspect.getsource(logs):
        return False
    original = logs.LogPane.bind

    def bind(self: Any, feed: Any) -> None:
        _panes.append(self)
        original(self, feed)

    logs.LogPane.bind = bind  # type: ignore[method-assign,unused-ignore]
    high_water = {"queue_max": 0}

    def loop() -> None:
        while True:
            time.sleep(0.5)
            try:
                data = snapshot()
                if data is not None:
                    high_water["queue_max"] = max(high_water["queue_max"], data["queue_len"])
                    data["queue_max"] = high_water["queue_max"]
                    write(path, data)
            except Exception:  # a torn read mid-update is retried next time
                continue

    def final() -> None:
        data = snapshot()
        if data is not None:
            data["queue_max"] = max(high_water["queue_max"], data["queue_len"])
            data["final"] = True
            write(path, data)

    threading.Thread(target=loop, name="bench-stats", daemon=True).start()
    atexit.register(final)
    return True


def main() -> int:
    """Install the observer when asked, then run the cockpit CLI."""
    target = os.environ.get(STATS_ENV)
    if target:
        install(Path(target))
    from sre_cockpit.cli.main import main as cli_main

    sys.argv[0] = "sre-cockpit"
    return int(cli_main() or 0)


if __name__ == "__main__":
    raise SystemExit(main())
