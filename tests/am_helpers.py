"""Start a REAL Alertmanager for tests (Debian ``prometheus-alertmanager``) and feed it alerts.

Reusable by other areas::

    url, stop = start_alertmanager(tmp_path)
    try:
        post_alerts(url, [{"labels": {"alertname": "X", "severity": "critical"}}])
    finally:
        stop()
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

BINARY = "prometheus-alertmanager"

MINIMAL_CONFIG = """\
route:
  receiver: 'null'
  group_by: ['alertname']
  group_wait: 1h
  group_interval: 1h
  repeat_interval: 4h
receivers:
  - name: 'null'
inhibit_rules:
  - source_matchers: ['severity="critical"', 'inhibit_test="yes"']
    target_matchers: ['severity="warning"', 'inhibit_test="yes"']
    equal: ['alertname']
"""


def free_port() -> int:
    """A free loopback TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_alertmanager() -> str:
    """Path of the binary, or skip the test when it is not installed."""
    path = shutil.which(BINARY) or (f"/usr/bin/{BINARY}" if Path(f"/usr/bin/{BINARY}").exists() else None)
    if path is None:
        pytest.skip(f"{BINARY} is not installed (Debian package prometheus-alertmanager)")
    return path


def start_alertmanager(workdir: Path, *, config: str = MINIMAL_CONFIG,
                       timeout: float = 20.0) -> tuple[str, Callable[[], None]]:
    """Start Alertmanager on a free port with clustering off; wait until ``/-/ready``.

    Returns:
        ``(base_url, stop)``; ``stop()`` terminates the process (idempotent).
    """
    binary = require_alertmanager()
    workdir.mkdir(parents=True, exist_ok=True)
    cfg = workdir / "alertmanager.yml"
    cfg.write_text(config)
    storage = workdir / "am-data"
    storage.mkdir(exist_ok=True)
    log = (workdir / "alertmanager.log").open("wb")
    last_error = ""
    for _attempt in range(3):  # the free port can be taken between bind and exec
        port = free_port()
        proc = subprocess.Popen(
            [binary, f"--config.file={cfg}", f"--storage.path={storage}",
             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
             "--log.level=warn"],
            stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"

        def stop(proc: subprocess.Popen[bytes] = proc) -> None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
            log.close()

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                last_error = f"exited with {proc.returncode}"
                break
            try:
                with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as resp:
                    if resp.status == 200:
                        return url, stop
            except (urllib.error.URLError, OSError) as exc:
                last_error = str(exc)
            time.sleep(0.1)
        stop()
    raise RuntimeError(f"alertmanager did not become ready: {last_error}; "
                       f"log: {(workdir / 'alertmanager.log').read_text()[-2000:]}")


def _call(method: str, url: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        raw = resp.read()
    return json.loads(raw) if raw.strip() else None


def post_alerts(url: str, alerts: Sequence[dict[str, Any]], *, hours: float = 2.0) -> None:
    """POST alerts that stay firing for ``hours`` (endsAt set, so they do not expire mid-test)."""
    now = datetime.now(UTC)
    body = []
    for alert in alerts:
        item = dict(alert)
        item.setdefault("startsAt", (now - timedelta(minutes=5)).isoformat())
        item.setdefault("endsAt", (now + timedelta(hours=hours)).isoformat())
        body.append(item)
    _call("POST", f"{url}/api/v2/alerts", body)


def create_silence(url: str, matchers: dict[str, str], *, hours: float = 1.0,
                   created_by: str = "tests", comment: str = "test silence") -> str:
    """Create an equality silence directly on the server; returns its id."""
    now = datetime.now(UTC)
    body = {"matchers": [{"name": k, "value": v, "isRegex": False, "isEqual": True}
                         for k, v in matchers.items()],
            "startsAt": now.isoformat(), "endsAt": (now + timedelta(hours=hours)).isoformat(),
            "createdBy": created_by, "comment": comment}
    return str(_call("POST", f"{url}/api/v2/silences", body)["silenceID"])


def get_alerts(url: str) -> list[dict[str, Any]]:
    """GET /api/v2/alerts as the server sees them."""
    result = _call("GET", f"{url}/api/v2/alerts")
    return list(result or [])


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0, interval: float = 0.1) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def wait_states(url: str, expected: dict[str, str], timeout: float = 10.0) -> bool:
    """Wait until alerts named by ``alertname`` are in the expected states (silences apply
    asynchronously after a POST)."""
    def ok() -> bool:
        states = {a["labels"].get("alertname"): a["status"]["state"] for a in get_alerts(url)}
        return all(states.get(k) == v for k, v in expected.items())
    return wait_for(ok, timeout)
