"""Start the incident simulator from tests, poke its faults, compare JSON structures.

Reusable by every area's tests::

    from tests.sim_helpers import start_simulator
    url, stop = start_simulator(seed=3, log_rate=200)
    try: ...
    finally: stop()

The simulator runs as a child process (``python -m sre_cockpit.simulator``) on a free loopback
port; it also exits by itself if the test process dies (its stdin pipe closes).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PD_TOKEN = "sim-pagerduty-token"
READY_RE = re.compile(r"^sre-cockpit simulator ready on (http://\S+?)(?: \(config: (.+)\))?$")
SEQ_RE = re.compile(r'\bseq"?[=:](\d+)')


@dataclass
class SimHandle:
    """A running simulator child process."""

    url: str
    proc: subprocess.Popen[bytes]
    ready_line: str
    config: Path | None = None
    log: list[str] = field(default_factory=list)

    @property
    def pd_url(self) -> str:
        """PagerDuty base URL."""
        return self.url + "/pagerduty"

    def stop(self) -> None:
        """Terminate the child and wait for it (idempotent)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


def launch_simulator(*, seed: int = 1, log_rate: int = 20, speed: float = 1.0,
                     start_time: float | None = None, frozen: bool = False,
                     faults: Iterable[str] = (), pd_rate_limit: int | None = None,
                     pd_extra_incidents: int = 0, write_config: Path | str | None = None,
                     history_hours: float | None = None, tail_max_duration: float | None = None,
                     extra_args: Iterable[str] = (), timeout: float = 30.0) -> SimHandle:
    """Start the simulator on a free port and wait for its ready line.

    Raises:
        RuntimeError: when it exits or prints no ready line within ``timeout``.
    """
    cmd = [sys.executable, "-m", "sre_cockpit.simulator", "--port", "0", "--seed", str(seed),
           "--log-rate", str(log_rate), "--speed", repr(speed), "--exit-with-stdin"]
    if start_time is not None:
        cmd += ["--start-time", repr(start_time)]
    if frozen:
        cmd.append("--frozen")
    for spec in faults:
        cmd += ["--fault", spec]
    if pd_rate_limit is not None:
        cmd += ["--pd-rate-limit", str(pd_rate_limit)]
    if pd_extra_incidents:
        cmd += ["--pd-extra-incidents", str(pd_extra_incidents)]
    if write_config is not None:
        cmd += ["--write-config", str(write_config)]
    if history_hours is not None:
        cmd += ["--history-hours", repr(history_hours)]
    if tail_max_duration is not None:
        cmd += ["--tail-max-duration", repr(tail_max_duration)]
    cmd += list(extra_args)
    env = dict(os.environ)
    env.pop("SRE_COCKPIT_SIM_START", None)
    errlog = tempfile.TemporaryFile()  # noqa: SIM115 - a file, not a pipe: a chatty child must never block
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=errlog, env=env)
    assert proc.stdout is not None
    buf = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in buf and time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        ready, _, _ = select.select([proc.stdout], [], [], 0.1)
        if ready:
            buf += os.read(proc.stdout.fileno(), 4096)
    line = buf.decode(errors="replace").split("\n", 1)[0].strip()
    match = READY_RE.match(line)
    if not match:
        handle = SimHandle("", proc, line)
        handle.stop()
        errlog.seek(0)
        err = errlog.read().decode(errors="replace")[-800:]
        errlog.close()
        raise RuntimeError(f"simulator not ready (exit {proc.returncode}): {line!r} {err}")
    errlog.close()
    config = Path(match.group(2)) if match.group(2) else None
    return SimHandle(match.group(1), proc, line, config)


def start_simulator(**opts: Any) -> tuple[str, Callable[[], None]]:
    """Start a simulator (options as :func:`launch_simulator`); returns ``(url, stop)``."""
    handle = launch_simulator(**opts)
    return handle.url, handle.stop


def http(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None,
         timeout: float = 10.0) -> tuple[int, dict[str, str], bytes]:
    """A tiny blocking HTTP client (status, lower-cased headers, body) that never raises on 4xx/5xx."""
    data = None
    hdrs = dict(headers or {})
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def set_fault(url: str, backend: str, mode: str, *, seconds: float | None = None,
              arg: float | None = None) -> dict[str, Any]:
    """``POST /_sim/faults``; ``mode="none"`` clears the backend."""
    body: dict[str, Any] = {"backend": backend, "mode": mode}
    if seconds is not None:
        body["seconds"] = seconds
    if arg is not None:
        body["arg"] = arg
    status, _h, raw = http("POST", f"{url}/_sim/faults", body)
    assert status == 200, raw
    result: dict[str, Any] = json.loads(raw)
    return result


def clear_faults(url: str) -> None:
    """Remove every fault."""
    http("DELETE", f"{url}/_sim/faults")


def pd_headers(from_email: str | None = None, token: str = PD_TOKEN) -> dict[str, str]:
    """PagerDuty request headers for the simulator."""
    h = {"Authorization": f"Token token={token}",
         "Accept": "application/vnd.pagerduty+json;version=2"}
    if from_email:
        h["From"] = from_email
    return h


def parse_seq(line: str) -> int:
    """The simulator's sequence number in a log line (``seq=N`` or ``"seq":N``)."""
    match = SEQ_RE.search(line)
    if not match:
        raise ValueError(f"no seq in {line!r}")
    return int(match.group(1))


def _kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int | float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


FREE_MAPS = frozenset({"metric", "labels", "stream", "annotations", "structuredMetadata", "parsed"})
"""Keys whose values are label maps: any keys, string values."""


def structure_diff(expected: Any, actual: Any, path: str = "$", *,
                   extra_ok: Iterable[str] = (), missing_ok: Iterable[str] = ()) -> list[str]:
    """Differences in keys and JSON types (recursively) between a fixture and a response.

    ``null`` on either side matches any type (nullable fields). Arrays: every element of
    ``actual`` is compared with the first element of ``expected`` whose type matches (fixtures
    may mix shapes, e.g. ``[ts, line, {}]``); empty arrays match any array. ``extra_ok`` and
    ``missing_ok`` are key names that may be added or absent (at any depth).
    """
    extra = set(extra_ok)
    missing = set(missing_ok)
    ek, ak = _kind(expected), _kind(actual)
    if "null" in (ek, ak):
        return []
    if ek != ak:
        return [f"{path}: expected {ek}, got {ak}"]
    out: list[str] = []
    if ek == "object" and path.rsplit(".", 1)[-1] in FREE_MAPS:
        return [f"{path}.{k}: expected string, got {_kind(v)}" for k, v in actual.items()
                if not isinstance(v, str)]
    if ek == "object":
        for key in expected:
            if key not in actual:
                if key not in missing:
                    out.append(f"{path}.{key}: missing")
                continue
            out += structure_diff(expected[key], actual[key], f"{path}.{key}",
                                  extra_ok=extra, missing_ok=missing)
        for key in actual:
            if key not in expected and key not in extra:
                out.append(f"{path}.{key}: unexpected key")
    elif ek == "array" and expected and actual:
        for i, item in enumerate(actual):
            candidates = [e for e in expected if _kind(e) == _kind(item)] or [expected[0]]
            best = min((structure_diff(c, item, f"{path}[{i}]", extra_ok=extra, missing_ok=missing)
                        for c in candidates), key=len)
            out += best
    return out
