"""Plain fixed-width tables and latencies for the terminal (every cell one safe line)."""

from __future__ import annotations

from collections.abc import Sequence

from sre_cockpit.core.sanitize import sanitize_line


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain fixed-width table; every cell is sanitised to one terminal-safe line."""
    clean = [[sanitize_line(cell) for cell in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in clean:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    lines = ["  ".join(h.ljust(widths[i]) for i, h in enumerate(headers)).rstrip()]
    for row in clean:
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
    return "\n".join(lines)


def format_latency(latency_ms: float | None) -> str:
    """``12ms`` / ``1.3s`` / ``—``."""
    if latency_ms is None:
        return "—"
    if latency_ms < 1000:
        return f"{latency_ms:.0f}ms"
    return f"{latency_ms / 1000:.1f}s"
