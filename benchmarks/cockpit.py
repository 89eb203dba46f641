"""What the benchmark knows about the programs it drives: how to start them and read their screens.

Everything that depends on how the cockpit (or lnav, or toolong) draws its screen is here, so a
change of layout means a change in one file. The cockpit is started exactly as an operator would
(``python -m sre_cockpit --config FILE``) against ``sre-cockpit simulate`` in a separate process.

Counters: the log pane writes its exact counters to the JSON file named by the environment
variable ``SRE_COCKPIT_STATS_FILE`` (see ``benchmarks/README.md``, "Stats hook"); when the cockpit
does not write it, the benchmark falls back to the counters on the log pane's status line and says
so in the results.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from harness import REAPER, Screen, start_background

SEQ_RX = re.compile(r'\bseq"?[=:](\d+)')
TIMESTAMP_RX = re.compile(r"\d{2}:\d{2}:\d{2}")
PERCENT_RX = re.compile(r"\d+(?:\.\d+)?\s?%")
INCIDENT_RX = re.compile(r"CheckoutHighErrorRate|checkout|#\d+|\b[A-Z][A-Z0-9]{5,}\b")
TIMELINE_RX = re.compile(r"\b(deploy|deployed|v\d+\.\d+\.\d+|triggered|acknowledged|fired)\b",
                         re.IGNORECASE)
HEADER_RX = re.compile(r"\bctx \S+|PRODUCTION")
STATS_ENV = "SRE_COCKPIT_STATS_FILE"

# --------------------------------------------------------------------------- simulator


@dataclass
class Simulator:
    """A running ``sre-cockpit simulate`` process and the config it wrote."""

    proc: Any
    url: str
    config: Path
    ready_line: str
    log_selector: str
    slo_names: list[str] = field(default_factory=list)

    def stats(self) -> dict[str, Any] | None:
        """The simulator's own counters (``GET /_sim/stats``), or None when it has none."""
        try:
            with urllib.request.urlopen(f"{self.url}/_sim/stats", timeout=2) as resp:
                data = json.loads(resp.read().decode())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def lines_sent(self) -> int | None:
        """Log lines the simulator has sent on tail connections, when it says so."""
        data = self.stats()
        if not data:
            return None
        return _find_count(data, ("tail_lines_sent", "log_lines_sent", "lines_sent", "sent"))

    def stop(self) -> None:
        """Kill the simulator's process group."""
        REAPER.kill(self.proc)


def _find_count(data: Any, keys: tuple[str, ...]) -> int | None:
    """First integer under one of ``keys`` anywhere in a JSON document (depth-first)."""
    if isinstance(data, dict):
        for key in keys:
            value = data.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        for value in data.values():
            found = _find_count(value, keys)
            if found is not None:
                return found
    return None


def start_simulator(workdir: Path, log_rate: int, *, timeout: float = 60.0,
                    seed: int = 7) -> Simulator:
    """Start the simulator in its own process and wait for its ready line.

    Args:
        workdir: Where to write its config.
        log_rate: ``--log-rate`` (lines/s on the live tail).
        timeout: Seconds to wait for readiness.
        seed: ``--seed``.

    Returns:
        The running simulator.

    Raises:
        RuntimeError: When it exits or never becomes ready.
    """
    config = workdir / f"sim-{log_rate}-{time.monotonic_ns()}.yaml"
    with contextlib.suppress(FileNotFoundError):
        config.unlink()
    log = open(workdir / f"sim-{log_rate}.log", "wb")  # noqa: SIM115 - owned by the child
    proc = start_background([sys.executable, "-m", "sre_cockpit", "simulate", "--port", "0",
                             "--seed", str(seed), "--log-rate", str(log_rate),
                             "--write-config", str(config)], stdout=subprocess_pipe(),
                            stderr=log)
    deadline = time.monotonic() + timeout
    ready = ""
    assert proc.stdout is not None
    import select

    buf = b""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"simulator exited with {proc.returncode}; see "
                               f"{workdir / f'sim-{log_rate}.log'}")
        readable, _, _ = select.select([proc.stdout], [], [], 0.2)
        if readable:
            chunk = proc.stdout.read1(4096)  # type: ignore[attr-defined]
            buf += chunk
            if b"\n" in buf and config.exists():
                ready = buf.decode(errors="replace").strip().splitlines()[0]
                break
    else:
        REAPER.kill(proc)
        raise RuntimeError("simulator did not print its ready line in time")
    url_match = re.search(r"https?://[0-9.:\[\]a-z]+:\d+", ready)
    doc = yaml.safe_load(config.read_text())
    url = url_match.group(0) if url_match else _first_url(doc)
    return Simulator(proc, url.rstrip("/"), config, ready, _log_selector(doc), _slo_names(doc))


def with_log_buffer(config: Path, lines: int, out: Path) -> Path:
    """A copy of a config whose log pane keeps ``lines`` lines (``ui.log_buffer_lines``).

    Args:
        config: The simulator's config.
        lines: Buffer size.
        out: Where to write the copy (mode 0600: it holds the simulator's token).

    Returns:
        ``out``.
    """
    doc = yaml.safe_load(config.read_text())
    doc.setdefault("ui", {})["log_buffer_lines"] = int(lines)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        yaml.safe_dump(doc, fh, sort_keys=False)
    return out


def subprocess_pipe() -> int:
    """``subprocess.PIPE`` (kept here so callers need not import subprocess)."""
    import subprocess

    return subprocess.PIPE


def _walk(doc: Any) -> list[Any]:
    out = [doc]
    if isinstance(doc, dict):
        for value in doc.values():
            out.extend(_walk(value))
    elif isinstance(doc, list):
        for value in doc:
            out.extend(_walk(value))
    return out


def _first_url(doc: Any) -> str:
    for node in _walk(doc):
        if isinstance(node, dict) and isinstance(node.get("url"), str):
            match = re.match(r"https?://[^/]+", node["url"])
            if match:
                return match.group(0)
    raise RuntimeError("no URL in the simulator's config")


def _log_selector(doc: Any) -> str:
    """A LogQL selector the config uses (a service's ``logs:`` or the Loki default query)."""
    for node in _walk(doc):
        if isinstance(node, dict):
            for key in ("logs", "default_query", "query", "selector"):
                value = node.get(key)
                if isinstance(value, str) and value.strip().startswith("{"):
                    return value.strip()
    return '{job=~".+"}'


def _slo_names(doc: Any) -> list[str]:
    names: list[str] = []
    for node in _walk(doc):
        if isinstance(node, dict):
            slos = node.get("slos")
            if isinstance(slos, list):
                names += [str(s["name"]) for s in slos if isinstance(s, dict) and "name" in s]
            elif isinstance(slos, dict):
                names += [str(k) for k in slos]
    return names


# --------------------------------------------------------------------------- cockpit screen
def cockpit_argv(config: Path, *, low_bandwidth: bool = False) -> list[str]:
    """The cockpit's command line: ``sre-cockpit --config FILE`` run through ``observe.py``.

    ``observe.py`` calls the same ``sre_cockpit.cli.main.main`` as the ``sre-cockpit`` script; it only
    adds the read-only counters observer when ``SRE_COCKPIT_STATS_FILE`` is set.

    Args:
        config: Config file.
        low_bandwidth: Add ``--low-bandwidth``.

    Returns:
        argv.
    """
    argv = [sys.executable, str(Path(__file__).resolve().parent / "observe.py"), "--config",
            str(config)]
    if low_bandwidth:
        argv.append("--low-bandwidth")
    return argv


def header_visible(screen: Screen) -> bool:
    """First complete frame: the header's context badge (``ctx NAME`` / ``PRODUCTION``) is on
    the top row (an error message printed instead of the UI does not count)."""
    lines = screen.lines()
    return bool(lines) and HEADER_RX.search(lines[0]) is not None


@dataclass
class PaneCheck:
    """Which panes currently show real data."""

    incidents: bool = False
    logs: bool = False
    slos: bool = False
    timeline: bool = False

    def all(self) -> bool:
        """All four panes show data."""
        return self.incidents and self.logs and self.slos and self.timeline


TITLES = {"incidents": re.compile(r"Incidents", re.I), "logs": re.compile(r"Logs", re.I),
          "slos": re.compile(r"SLOs?", re.I), "timeline": re.compile(r"Timeline", re.I)}


def pane_boxes(screen: Screen) -> dict[str, tuple[int, int, int, int]]:
    """Locate each pane by its border title: (top, left, bottom, right) of its inside.

    A pane's box starts at the row of its title and spans right to the next box corner; the
    bottom is the next border row below in the same columns. Good enough for text detection.
    """
    lines = screen.lines()
    boxes: dict[str, tuple[int, int, int, int]] = {}
    corners = "╭┌┏╔"
    for name, rx in TITLES.items():
        for row, line in enumerate(lines):
            for match in rx.finditer(line):
                left = line.rfind(corners[0], 0, match.start())
                for corner in corners[1:]:
                    left = max(left, line.rfind(corner, 0, match.start()))
                if left < 0:
                    continue
                right_corner = max(line.find(c, match.end()) for c in "╮┐┓╗")
                right = right_corner if right_corner > 0 else screen.cols
                bottom = row + 1
                while bottom < len(lines) and lines[bottom][left:left + 1] not in ("╰", "└", "┗",
                                                                                    "╚", ""):
                    bottom += 1
                boxes.setdefault(name, (row + 1, left + 1, bottom, right))
                break
            if name in boxes:
                break
    return boxes


def pane_text(screen: Screen, name: str) -> str:
    """Text inside a pane's box, or the whole screen when the box cannot be found."""
    box = pane_boxes(screen).get(name)
    if box is None:
        return screen.text()
    top, left, bottom, right = box
    return "\n".join(screen.region(top, left, bottom, right))


def panes_with_data(screen: Screen, slo_names: list[str]) -> PaneCheck:
    """Detect real data in each pane on the decoded screen.

    Args:
        screen: The pyte screen.
        slo_names: SLO names from the config (an SLO row shows a name and a percentage).

    Returns:
        Which panes show data.
    """
    check = PaneCheck()
    check.logs = bool(SEQ_RX.search(pane_text(screen, "logs")))
    slo_text = pane_text(screen, "slos")
    for line in slo_text.splitlines():
        if PERCENT_RX.search(line) and (not slo_names or any(n[:12] in line for n in slo_names)):
            check.slos = True
            break
    check.incidents = bool(INCIDENT_RX.search(pane_text(screen, "incidents")))
    check.timeline = bool(TIMELINE_RX.search(pane_text(screen, "timeline")))
    return check


def max_seq(screen: Screen) -> int | None:
    """Highest ``seq=`` number on screen (the newest line the operator can see)."""
    values = [int(m.group(1)) for line in screen.lines() for m in SEQ_RX.finditer(line)]
    return max(values) if values else None


def log_rows(screen: Screen) -> list[str]:
    """Rows of the log pane that show a log line (contain ``seq=``)."""
    return [row for row in pane_text(screen, "logs").splitlines() if SEQ_RX.search(row)]


LINE_START_RX = re.compile(r'ts=|\{"|level=|seq=')
LINE_TS_RX = re.compile(r'ts"?[=:]"?(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)Z')


def timestamps_shown(screen: Screen) -> bool | None:
    """Whether the log pane prefixes lines with a timestamp (``t`` toggles it); None if no rows.

    The simulator's lines carry their own ``ts=…`` field, so only the text before the line's
    first field (``ts=``, ``{"``, ``level=`` or ``seq=``) counts as the pane's prefix.
    """
    rows = log_rows(screen)
    if not rows:
        return None
    hits = 0
    for row in rows:
        start = LINE_START_RX.search(row)
        prefix = row[: start.start()] if start else row
        if TIMESTAMP_RX.search(prefix):
            hits += 1
    return hits * 2 > len(rows)


def newest_line_age(screen: Screen, now: float) -> float | None:
    """Seconds between ``now`` (Unix time) and the ``ts`` of the newest line on screen.

    The simulator's clock is real time and every line carries ``ts=`` (logfmt) or ``"ts":``
    (JSON), so this is how far behind the live stream the operator's screen is.
    """
    best: tuple[int, str] | None = None
    for row in screen.lines():
        seq = SEQ_RX.search(row)
        if seq is None:
            continue
        if best is None or int(seq.group(1)) > best[0]:
            best = (int(seq.group(1)), row)
    if best is None:
        return None
    match = LINE_TS_RX.search(best[1])
    if match is None:
        return None
    from datetime import UTC, datetime

    stamp = datetime.fromisoformat(match.group(1)).replace(tzinfo=UTC).timestamp()
    return now - stamp


STATUS_RX = {
    "received": re.compile(r"(?:received|recv)[ =:]*([\d,]+)", re.I),
    "buffered": re.compile(r"([\d,]+)\s*buffered|buffered[ =:]*([\d,]+)", re.I),
    "dropped": re.compile(r"dropped[ =:]*([\d,]+)(?:\s*server)?(?:\s*/\s*([\d,]+))?", re.I),
}


def status_counters(screen: Screen) -> dict[str, int]:
    """Counters shown on the log pane's status line (fallback when no stats file is written)."""
    out: dict[str, int] = {}
    text = screen.text()
    for key, rx in STATUS_RX.items():
        match = rx.search(text)
        if not match:
            continue
        groups = [g for g in match.groups() if g]
        if key == "dropped" and len(groups) == 2:
            out["dropped_server"] = int(groups[0].replace(",", ""))
            out["dropped_client"] = int(groups[1].replace(",", ""))
        elif groups:
            out[key] = int(groups[0].replace(",", ""))
    return out


def read_stats_file(path: Path) -> dict[str, Any] | None:
    """The log pane's counters from ``SRE_COCKPIT_STATS_FILE`` (None when absent/unreadable)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


# --------------------------------------------------------------------------- key toggles
@dataclass
class Toggle:
    """A key that flips a visible state, and how to read that state from the screen."""

    key: bytes
    back_key: bytes
    state: Callable[[Screen], bool | None]
    setup_keys: bytes = b""
    description: str = ""


COCKPIT_TOGGLE = Toggle(key=b"t", back_key=b"t", state=timestamps_shown, setup_keys=b"2",
                        description="`t` toggles timestamps in the log pane (focused with `2`)")


LABELS_FIRST_RX = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*=")
STRUCTURED_ROW_RX = re.compile(r"(?:\{[^}]*\} )?\d\d:\d\d:\d\d\.\d{3} ")


def structured_shown(screen: Screen) -> bool | None:
    """Whether most log rows are laid out message-first (``s``): they start with the time
    (after the labels when those are shown); None if no rows."""
    rows = [row.strip() for row in log_rows(screen)]
    if not rows:
        return None
    return sum(1 for row in rows if STRUCTURED_ROW_RX.match(row)) * 2 > len(rows)


def labels_shown(screen: Screen) -> bool | None:
    """Whether most structured log rows start with the stream's labels (``L`` toggles them);
    None if no rows. (With the labels in front, ``seq=`` is past a narrow pane's edge: rows are
    recognised by their start, the labels or the time.)"""
    rows = [row.strip() for row in pane_text(screen, "logs").splitlines()]
    labelled = sum(1 for row in rows if LABELS_FIRST_RX.match(row))
    # a row whose whole label set fits (a wide pane) matches both: it counts as labelled only
    timed = sum(1 for row in rows
                if STRUCTURED_ROW_RX.match(row) and not LABELS_FIRST_RX.match(row))
    if labelled + timed == 0:
        return None
    return labelled > timed


STRUCTURED_TOGGLE = Toggle(key=b"L", back_key=b"L", state=labels_shown, setup_keys=b"2",
                           description="`L` toggles the labels in front of structured log rows "
                                       "(the log pane focused with `2`, `s` pressed)")


def _starts_with_year(screen: Screen, skip: int) -> bool | None:
    rows = [line for line in screen.lines() if SEQ_RX.search(line)]
    if not rows:
        return None
    hits = sum(1 for row in rows if re.match(r"\d{4}-\d\d-\d\d", row[skip:]))
    return hits * 2 > len(rows)


def _lnav_histogram(screen: Screen) -> bool | None:
    top = screen.lines()[:3]
    if any("HIST" in row for row in top):
        return True
    if any("LOG" in row for row in top):
        return False
    return None


LNAV_TOGGLE = Toggle(key=b"i", back_key=b"i", state=_lnav_histogram,
                     description="`i` switches lnav between the log and histogram views")
TOOLONG_TOGGLE = Toggle(key=b"\x0c", back_key=b"\x0c",
                        state=lambda s: _starts_with_year(s, 1),
                        description="ctrl+l toggles toolong's line numbers")
