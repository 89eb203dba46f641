"""Tail continuity against the project simulator (a separate process) closing the tail
WebSocket every few seconds: sequence numbers prove 0 gaps and 0 duplicates over at least 5
reconnects, in process (LogStream) and through ``sre-cockpit logs --follow --output jsonl``."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sim_helpers import launch_simulator, parse_seq

from sre_cockpit.core.models import LogLine
from sre_cockpit.feeds.logstream import LogStream
from sre_cockpit.providers.loki import LokiOptions, LokiProvider

QUERY = '{namespace="shop"}'


def check_exactly_once(seqs: list[int]) -> None:
    assert seqs, "nothing received"
    assert len(seqs) == len(set(seqs)), \
        f"{len(seqs) - len(set(seqs))} duplicates delivered"
    ordered = sorted(seqs)
    missing = sorted(set(range(ordered[0], ordered[-1] + 1)) - set(seqs))
    assert not missing, f"{len(missing)} lines lost, e.g. {missing[:10]}"


@pytest.mark.slow
async def test_logstream_exactly_once_with_ws_closed_every_second() -> None:
    sim = launch_simulator(seed=5, log_rate=300, faults=["loki:ws_close_every:1"])
    loki = LokiProvider("loki", LokiOptions.model_validate({"type": "loki", "url": sim.url}))
    stream = LogStream.for_provider(loki, QUERY, since_s=5, backfill_limit=50)
    task = asyncio.create_task(stream.run())
    got: list[LogLine] = []
    try:
        async with asyncio.timeout(40):
            while stream.reconnects < 6:
                await stream.wait(0.5)
                got.extend(stream.drain())
            got.extend(stream.drain())
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await loki.aclose()
        sim.stop()
    seqs = [parse_seq(ln.line) for ln in got]
    check_exactly_once(seqs)
    assert len(seqs) > 1000
    status = stream.status
    assert status.reconnects >= 6
    assert status.dropped_client == 0
    assert "1011" in (status.last_reconnect_reason or "")


@pytest.mark.slow
def test_cli_follow_jsonl_exactly_once_with_ws_dropped_every_4s(tmp_path: Path) -> None:
    config = tmp_path / "sim.yaml"
    sim = launch_simulator(seed=7, log_rate=200, faults=["loki:ws_close_every:4"],
                           write_config=config)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "sre_cockpit", "--config", str(config), "logs", "--follow",
         "--output", "jsonl", "--query", QUERY, "--since", "2s", "--limit", "20"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    chunks: list[bytes] = []
    assert proc.stdout is not None
    reader = threading.Thread(target=lambda: chunks.extend(iter(proc.stdout.readline, b"")),  # type: ignore[union-attr]
                              daemon=True)
    reader.start()  # keep the pipe drained, as a terminal or `| jq` would
    try:
        time.sleep(23)  # five closes at 4 s plus margin
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=15)
        reader.join(10)
        out = b"".join(chunks)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        sim.stop()
    assert proc.returncode == 0, err.decode()
    assert b"Traceback" not in err
    records = [json.loads(line) for line in out.decode().splitlines()]
    for rec in records:
        assert set(rec) == {"ts", "labels", "line"} and rec["ts"].isdigit()
        assert rec["labels"]["namespace"] == "shop"
    seqs = [parse_seq(rec["line"]) for rec in records]
    check_exactly_once(seqs)
    assert len(seqs) > 200 * 15
    reconnects = err.decode().count("reconnecting")
    assert reconnects >= 5, err.decode()[-2000:]
