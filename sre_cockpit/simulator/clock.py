"""The simulator's clock: real time, a shifted start, or frozen (for snapshot tests)."""

from __future__ import annotations

import time


class SimClock:
    """Wall-clock seconds as the simulator sees them.

    ``start`` is the story's anchor (``time.time()`` at launch unless injected). Without
    ``frozen`` the clock advances at real speed from ``start``; with it, ``now()`` is always
    ``start`` so every answer is reproducible.
    """

    def __init__(self, start: float | None = None, *, frozen: bool = False) -> None:
        self.start = float(time.time() if start is None else start)
        self.frozen = frozen
        self._mono0 = time.monotonic()

    def now(self) -> float:
        """Current simulated Unix time in seconds."""
        if self.frozen:
            return self.start
        return self.start + (time.monotonic() - self._mono0)

    def now_ms(self) -> int:
        """Current simulated Unix time in integer milliseconds."""
        return int(self.now() * 1000)

    def now_ns(self) -> int:
        """Current simulated Unix time in integer nanoseconds."""
        if self.frozen:
            return round(self.start * 1e9)
        return round(self.start * 1e9) + int((time.monotonic() - self._mono0) * 1e9)
