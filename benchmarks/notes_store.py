"""What the notes store costs: commit latency, the idle watch, opening, migration, hostile files
and two processes delivering one backlog.

    python benchmarks/notes_store.py            # every scenario, one table (~1 min)
    python benchmarks/notes_store.py --only add_note,migrate_16mib

Each scenario runs in a fresh Python process in a temporary directory on the same file system
as ``$TMPDIR`` (the commit latency is this disk's fsync), and reports its own figures plus the
process's peak RSS (``ru_maxrss``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sre_cockpit.core.models import Incident, IncidentStatus, Severity  # noqa: E402
from sre_cockpit.feeds.journal import Journal, NoteRecord, Outbox  # noqa: E402
from sre_cockpit.providers.base import ActionPreview, ActionResult  # noqa: E402

T0 = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
INCIDENT = Incident(id="P1", provider="pd", title="checkout errors", status=IncidentStatus.TRIGGERED,
                    severity=Severity.CRITICAL, service="checkout", started_at=T0)


def ms(values: Sequence[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"p50 {statistics.median(ordered) * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms"


def fill(journal: Journal, count: int) -> None:
    """``count`` notes in one transaction each would take minutes: write them in one."""
    records = []
    for n in range(count):
        record = NoteRecord(id=f"bulk-{n}", at=T0, text=f"note {n} " + "x" * 200,
                            incidents=(INCIDENT,), author="ann", context="prod")
        record.targets = {}
        records.append(record)
    journal.add_note("first", [INCIDENT])

    def insert(conn: Any) -> None:
        change = journal._db.next_change(conn)
        for record in records:
            journal._db.insert_note(conn, record, change)

    journal._write("bench", insert)


def legacy_file(path: Path, size: int) -> int:
    """A realistic notes.jsonl of about ``size`` bytes; returns the number of notes."""
    count = 0
    with open(path, "wb") as out:
        while out.tell() < size:
            record = NoteRecord(id=f"old-{count}", at=T0, text=f"old note {count}: rolled back",
                                incidents=(INCIDENT,), author="ann", context="prod")
            data = record.to_json()
            data["keys"] = {"pd": f"key-{count}"}
            out.write(json.dumps(data).encode() + b"\n")
            count += 1
    return count


def add_note(tmp: Path) -> dict[str, str]:
    journal = Journal(tmp)
    times = []
    for n in range(200):
        start = time.perf_counter()
        journal.add_note(f"note {n}", [INCIDENT])
        times.append(time.perf_counter() - start)
    return {"add_note (commit, synchronous=FULL), 200 notes": ms(times)}


def idle_refresh(tmp: Path) -> dict[str, str]:
    journal = Journal(tmp)
    fill(journal, 20_000)
    start = time.perf_counter()
    for _ in range(10_000):
        journal.refresh()
    idle = (time.perf_counter() - start) / 10_000
    other = Journal(tmp)
    other.replay()
    times = []
    for n in range(50):
        other.add_note(f"from the other process {n}", [INCIDENT])
        start = time.perf_counter()
        assert journal.refresh()
        times.append(time.perf_counter() - start)
    return {"refresh() with nothing new (20k notes)": f"{idle * 1e6:.1f} µs per call",
            "refresh() after another process's note (20k notes)": ms(times)}


def open_20k(tmp: Path) -> dict[str, str]:
    fill(Journal(tmp), 20_000)
    start = time.perf_counter()
    journal = Journal(tmp)
    journal.replay()
    took = time.perf_counter() - start
    return {"open + read a store of 20,001 notes": f"{took:.2f} s ({len(journal.records)} notes)"}


def migrate_16mib(tmp: Path) -> dict[str, str]:
    notes = legacy_file(tmp / "notes.jsonl", 16 << 20)
    start = time.perf_counter()
    journal = Journal(tmp)
    journal.replay()
    took = time.perf_counter() - start
    return {f"import a 16 MiB notes.jsonl ({notes} notes)":
            f"{took:.2f} s, {len(journal.records)} notes, problems: {len(journal.problems)}"}


def hostile(tmp: Path) -> dict[str, str]:
    out = {}
    cases: Mapping[str, Callable[[Path], None]] = {
        "FIFO": lambda p: os.mkfifo(p),
        "link to /dev/full": lambda p: p.symlink_to("/dev/full"),
        "16 MiB of 'x' lines": lambda p: p.write_bytes(b"x\n" * (8 << 20)),
        "16 MiB of blank lines": lambda p: p.write_bytes(b"\n" * (16 << 20)),
        "100k nested '['": lambda p: p.write_bytes(b"[" * 100_000 + b"\n"),
    }
    for name, make in cases.items():
        directory = tmp / name.replace(" ", "_").replace("/", "_").replace("'", "")
        directory.mkdir()
        make(directory / "notes.jsonl")
        start = time.perf_counter()
        journal = Journal(directory)
        journal.replay()
        out[f"open with notes.jsonl = {name}"] = (f"{(time.perf_counter() - start) * 1000:.0f} ms: "
                                                  f"{(journal.last_error or 'ok')[:70]}")
    return out


class Recorder:
    """An incident-actions provider that appends each delivery's key to a shared file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def supported_actions(self) -> Mapping[str, str | None]:
        return {"note": None}

    def preview(self, action: str, incidents: Sequence[Incident], **_: Any) -> ActionPreview:
        return ActionPreview("pd", action, "POST", "/notes", None)

    async def perform(self, action: str, incidents: Sequence[Incident], *, text: str | None = None,
                      idempotency_key: str | None = None, **_: Any) -> ActionResult:
        await asyncio.sleep(0.005)  # a fast API
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.write(fd, f"{idempotency_key}\n".encode())
        os.close(fd)
        return ActionResult(True, "added")


async def deliver_all(tmp: Path) -> None:
    journal = Journal(tmp)
    journal.replay()
    outbox = Outbox(journal, {"pd": Recorder(tmp / "posts.txt")})  # type: ignore[dict-item]
    for _ in range(30_000):  # at most ~5 min: the other process holds some claims meanwhile
        if not await outbox.deliver_once():
            return
        await asyncio.sleep(0.01)


def two_processes(tmp: Path) -> dict[str, str]:
    journal = Journal(tmp)
    for n in range(200):
        journal.add_note(f"backlog {n}", [INCIDENT])
    journal.close()
    start = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, __file__, "--deliver", str(tmp)]) for _ in range(2)]
    for proc in procs:
        proc.wait(300)
    took = time.perf_counter() - start
    keys = (tmp / "posts.txt").read_text().split()
    return {"2 processes deliver a 200-note backlog":
            f"{len(keys)} posts, {len(keys) - len(set(keys))} duplicates, "
            f"{len(keys) / took:.0f} deliveries/s"}


SCENARIOS: dict[str, Callable[[Path], dict[str, str]]] = {
    "add_note": add_note, "idle_refresh": idle_refresh, "open_20k": open_20k,
    "migrate_16mib": migrate_16mib, "hostile": hostile, "two_processes": two_processes,
}


def run_one(name: str) -> dict[str, str]:
    with tempfile.TemporaryDirectory() as tmp:
        figures = SCENARIOS[name](Path(tmp))
    figures[f"{name}: peak RSS"] = f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated scenarios: " + ", ".join(SCENARIOS))
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--deliver", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.deliver:
        asyncio.run(deliver_all(Path(args.deliver)))
        return 0
    if args.one:
        print(json.dumps(run_one(args.one)))
        return 0
    names = args.only.split(",") if args.only else list(SCENARIOS)
    print(f"| notes store ({sys.platform}, {os.cpu_count()} CPUs, TMPDIR {tempfile.gettempdir()}) "
          "| figure |\n|---|---|")
    for name in names:
        done = subprocess.run([sys.executable, __file__, "--one", name], capture_output=True,
                              text=True, check=False, timeout=600)
        if done.returncode != 0:
            print(f"| {name} | FAILED: {done.stderr.strip().splitlines()[-1:]} |")
            continue
        for key, value in json.loads(done.stdout).items():
            print(f"| {key} | {value} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
