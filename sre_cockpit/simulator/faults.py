"""Faults on demand: per-backend failure modes set by ``--fault`` or ``POST /_sim/faults``.

JSON schema of one fault (``POST /_sim/faults`` accepts one object or a list)::

    {"backend": "prometheus|loki|alertmanager|pagerduty|all",
     "mode": "none|refuse|hang|drip|slow|error500|error502|error429|error429_noheaders|timeout|garbage|ws_close_every|tail_drop|huge",
     "seconds": 4,      # optional: the fault clears itself after this long
     "arg": 250}        # optional: drip/slow ms, ws_close_every s, tail_drop entries per message,
                        # huge MB per answer (every HTTP answer, and one tail message)

``mode: none`` clears the backend's fault.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

BACKENDS = ("prometheus", "loki", "alertmanager", "pagerduty")
MODES = ("none", "refuse", "hang", "drip", "slow", "error500", "error502", "error429",
         "error429_noheaders", "timeout", "garbage", "ws_close_every", "tail_drop", "huge")
DEFAULT_ARGS = {"drip": 200.0, "slow": 2000.0, "ws_close_every": 5.0, "tail_drop": 10.0,
                "huge": 100.0}


class FaultSpecError(ValueError):
    """A fault specification that cannot be used (message fit for one line)."""


@dataclass(frozen=True)
class Fault:
    """An active fault on one backend."""

    backend: str
    mode: str
    arg: float | None
    until: float | None  # time.monotonic() deadline, None = until cleared

    def to_json(self) -> dict[str, Any]:
        left = None if self.until is None else max(0.0, round(self.until - time.monotonic(), 3))
        return {"backend": self.backend, "mode": self.mode, "arg": self.arg, "seconds_left": left}

    def argument(self) -> float:
        """The fault's argument or the mode's default."""
        return self.arg if self.arg is not None else DEFAULT_ARGS.get(self.mode, 0.0)


class FaultTable:
    """Active faults by backend."""

    def __init__(self) -> None:
        self._faults: dict[str, Fault] = {}

    def set(self, backend: str, mode: str, *, seconds: float | None = None,
            arg: float | None = None) -> list[Fault]:
        """Set (or with ``mode="none"`` clear) a fault; returns the faults now active."""
        if backend not in (*BACKENDS, "all"):
            raise FaultSpecError(f"unknown backend {backend!r} (expected one of {', '.join(BACKENDS)}, all)")
        if mode not in MODES:
            raise FaultSpecError(f"unknown fault mode {mode!r} (expected one of {', '.join(MODES)})")
        if seconds is not None and seconds <= 0:
            raise FaultSpecError("seconds must be positive")
        if arg is not None and arg < 0:
            raise FaultSpecError("arg must not be negative")
        targets = BACKENDS if backend == "all" else (backend,)
        for b in targets:
            if mode == "none":
                self._faults.pop(b, None)
            else:
                until = None if seconds is None else time.monotonic() + seconds
                self._faults[b] = Fault(b, mode, arg, until)
        return self.active_all()

    def clear(self) -> None:
        """Remove every fault."""
        self._faults.clear()

    def active(self, backend: str) -> Fault | None:
        """The fault currently affecting ``backend``, if any (expired ones are dropped)."""
        f = self._faults.get(backend)
        if f is not None and f.until is not None and time.monotonic() >= f.until:
            del self._faults[backend]
            return None
        return f

    def active_all(self) -> list[Fault]:
        """Every fault still active."""
        return [f for b in BACKENDS if (f := self.active(b)) is not None]

    def apply_json(self, body: Any) -> list[Fault]:
        """Apply a ``POST /_sim/faults`` body (an object or a list of objects)."""
        items = body if isinstance(body, list) else [body]
        for item in items:
            if not isinstance(item, dict):
                raise FaultSpecError("a fault must be a JSON object with backend and mode")
            unknown = set(item) - {"backend", "mode", "seconds", "arg"}
            if unknown:
                raise FaultSpecError(f"unknown fault field(s): {', '.join(sorted(unknown))}")
            backend, mode = item.get("backend"), item.get("mode")
            if not isinstance(backend, str) or not isinstance(mode, str):
                raise FaultSpecError("backend and mode are required strings")
            seconds, arg = item.get("seconds"), item.get("arg")
            for name, v in (("seconds", seconds), ("arg", arg)):
                if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
                    raise FaultSpecError(f"{name} must be a number")
            self.set(backend, mode, seconds=seconds, arg=arg)
        return self.active_all()

    def apply_spec(self, spec: str) -> None:
        """Apply a command-line spec ``backend:mode[:arg]``."""
        parts = spec.split(":")
        if len(parts) not in (2, 3):
            raise FaultSpecError(f"invalid --fault {spec!r}: use backend:mode[:arg], e.g. loki:ws_close_every:3")
        arg = None
        if len(parts) == 3:
            try:
                arg = float(parts[2])
            except ValueError as exc:
                raise FaultSpecError(f"invalid --fault {spec!r}: arg must be a number") from exc
        self.set(parts[0], parts[1], arg=arg)
