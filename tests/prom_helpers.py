"""A real Prometheus for tests and benchmarks: deterministic history written as OpenMetrics,
backfilled with ``promtool tsdb create-blocks-from openmetrics``, served on a free loopback port.

Reusable by other areas (timeline, benchmarks)::

    url, stop = start_prometheus(openmetrics_text, tmp_path)
    try: ...
    finally: stop()

:class:`PrometheusServer` adds ``stop()``/``start()`` on the same port and data dir (for
"backend went away, then came back" tests). :func:`counter_series` writes a counter whose rate is
piecewise constant, so tests can compute the ground truth by arithmetic.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"


def have_prometheus() -> bool:
    """True when both binaries are installed (tests skip with a clear reason otherwise)."""
    return os.access(PROMETHEUS, os.X_OK) and os.access(PROMTOOL, os.X_OK)


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _labels(labels: Mapping[str, str]) -> str:
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()))
    return "{" + inner + "}" if inner else ""


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _fmt(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def counter_series(name: str, labels: Mapping[str, str],
                   segments: Sequence[tuple[int, int, float]], step: int = 60) -> list[str]:
    """OpenMetrics sample lines of one counter starting at 0 whose per-second rate is
    ``rate`` over each ``(start, end, rate)`` segment (Unix seconds, contiguous, end exclusive
    except the last). One sample every ``step`` seconds from the first start to the last end."""
    lines = []
    value = 0.0
    label_text = _labels(labels)
    first, last = segments[0][0], segments[-1][1]
    t = first
    while t <= last:
        lines.append(f"{name}{label_text} {_fmt(value)} {t}")
        # the increase during (t, t + step] at the rate of the segment holding t
        rate = next((r for s, e, r in segments if s <= t < e), segments[-1][2])
        value += rate * step
        t += step
    return lines


def openmetrics(families: Iterable[tuple[str, str, str, Iterable[str]]]) -> str:
    """A whole OpenMetrics document from ``(family, type, help, sample lines)`` tuples."""
    out: list[str] = []
    for family, kind, help_text, lines in families:
        out.append(f"# HELP {family} {help_text}")
        out.append(f"# TYPE {family} {kind}")
        out.extend(lines)
    out.append("# EOF")
    return "\n".join(out) + "\n"


def backfill(openmetrics_text: str, data_dir: Path) -> None:
    """Write ``openmetrics_text`` into TSDB blocks under ``data_dir`` with promtool."""
    data_dir.mkdir(parents=True, exist_ok=True)
    source = data_dir.parent / f"{data_dir.name}.om"
    source.write_text(openmetrics_text, encoding="utf-8")
    proc = subprocess.run([PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", str(source),
                           str(data_dir)], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"promtool backfill failed ({proc.returncode}): "
                           f"{(proc.stderr or proc.stdout).strip()[-2000:]}")


class PrometheusServer:
    """One Prometheus process over a data dir, restartable on the same port."""

    def __init__(self, data_dir: Path, *, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config_file = data_dir.parent / f"{data_dir.name}-prometheus.yml"
        self.config_file.write_text("global:\n  scrape_interval: 1m\nscrape_configs: []\n",
                                    encoding="utf-8")
        self.log_file = data_dir.parent / f"{data_dir.name}-prometheus.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        """Start and wait until ``/-/ready`` answers 200."""
        if self.proc is not None and self.proc.poll() is None:
            return
        log = self.log_file.open("ab")
        self.proc = subprocess.Popen(
            [PROMETHEUS, f"--config.file={self.config_file}",
             f"--storage.tsdb.path={self.data_dir}", "--storage.tsdb.retention.time=100y",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"prometheus exited with {self.proc.returncode}: "
                                   f"{self.log_file.read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"prometheus not ready within {timeout:g}s")

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL) and wait for it."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)

    def query(self, promql: str, at: float) -> list[dict[str, object]]:
        """Prometheus' own answer to an instant query (the ground truth of the tests)."""
        import json
        import urllib.parse

        qs = urllib.parse.urlencode({"query": promql, "time": f"{at:.3f}"})
        with urllib.request.urlopen(f"{self.url}/api/v1/query?{qs}", timeout=10) as resp:
            body = json.loads(resp.read())
        result: list[dict[str, object]] = body["data"]["result"]
        return result


def start_server(openmetrics_text: str, tmp_path: Path, *, name: str = "prom") -> PrometheusServer:
    """Backfill ``openmetrics_text`` into ``tmp_path/name`` and start Prometheus on it."""
    data_dir = tmp_path / name
    backfill(openmetrics_text, data_dir)
    server = PrometheusServer(data_dir)
    server.start()
    return server


def start_prometheus(openmetrics_text: str, tmp_path: Path) -> tuple[str, Callable[[], None]]:
    """Backfill and start a real Prometheus; returns its base URL and a ``stop`` function."""
    server = start_server(openmetrics_text, tmp_path)
    return server.url, server.stop
