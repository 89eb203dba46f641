"""``sre-cockpit`` (no subcommand) → the TUI: quick YAML peek, one-line errors with exit 2, and
the first frame with every backend unreachable, timed in a real pty."""

from __future__ import annotations

import io
import os
import pty
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from shell_helpers import PYTHON, first_frame_seconds

from sre_cockpit.cli.main import build_parser, main
from sre_cockpit.cli.tui import peek

UNREACHABLE = """\
default_context: prod-eu
contexts:
  prod-eu:
    providers:
      prom:   {type: prometheus, url: "http://127.0.0.1:HANG", timeout: 5s}
      loki:   {type: loki, url: "http://127.0.0.1:REFUSED", query: '{service="checkout"}'}
      alerts: {type: alertmanager, url: "http://127.0.0.1:HANG"}
    slos:
      - name: checkout-availability
        provider: prom
        objective: 99.9
        window: 30d
        error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total[{{.window}}]))
  lab:
    danger: true
    read_only: true
keys: {cockpit.zoom: f11}
ui: {theme: daylight}
"""


@pytest.fixture()
def dead_ports() -> Iterator[tuple[int, int]]:
    """(port that accepts connections but never answers, port that refuses), on loopback."""
    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen(8)  # never accept(): requests hang until the client's deadline
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
    try:
        yield hang.getsockname()[1], closed.getsockname()[1]
    finally:
        hang.close()
        closed.close()


def _write(tmp_path: Path, text: str, name: str = "config.yaml",
           ports: tuple[int, int] = (9, 9)) -> Path:
    path = tmp_path / name
    path.write_text(text.replace("HANG", str(ports[0])).replace("REFUSED", str(ports[1])))
    path.chmod(0o600)
    return path


def test_peek_reads_what_the_first_frame_needs(tmp_path: Path) -> None:
    path = _write(tmp_path, UNREACHABLE)
    boot = peek(path, context=None, read_only=False, low_bandwidth=False, theme=None)
    assert boot is not None
    assert (boot.context, boot.danger, boot.read_only) == ("prod-eu", True, False)
    assert boot.providers == ("prom", "loki", "alerts")
    assert boot.theme == "daylight" and dict(boot.keys) == {"cockpit.zoom": "f11"}
    lab = peek(path, context="lab", read_only=False, low_bandwidth=True, theme="ansi-16")
    assert lab is not None and lab.danger and lab.read_only and lab.low_bandwidth
    assert lab.theme == "ansi-16" and lab.providers == ()


@pytest.mark.parametrize("text", [
    "contexts: [\n",  # not YAML
    "contexts: {}\n",  # no context
    "default_context: x\ncontexts: {y: {}}\n",  # default names no context
    "contexts: {a: {providers: [1]}}\n",  # providers not a mapping
    "contexts: {a: {}}\nkeys: {cockpit.zoom: 5}\n",  # key not a string
])
def test_peek_gives_up_on_anything_odd(tmp_path: Path, text: str) -> None:
    assert peek(_write(tmp_path, text), context=None, read_only=False, low_bandwidth=False,
                theme=None) is None


def test_unknown_theme_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, UNREACHABLE)
    assert main(["--config", str(path), "--theme", "war-rom"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "--theme: unknown theme 'war-rom' (did you mean 'war-room'?)" in err


def test_unknown_context_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, UNREACHABLE)
    assert main(["--config", str(path), "--context", "prod-us"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "unknown context 'prod-us'" in err


def test_missing_config_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(tmp_path / "nope.yaml")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "nope.yaml" in err and "Traceback" not in err


def test_no_terminal_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, UNREACHABLE)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a terminal, even under pytest -s
    assert main(["--config", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "sre-cockpit: the cockpit needs a terminal; for scripts use 'sre-cockpit snapshot'"


@pytest.mark.slow
def test_first_frame_with_every_backend_unreachable(tmp_path: Path,
                                                    dead_ports: tuple[int, int]) -> None:
    path = _write(tmp_path, UNREACHABLE, ports=dead_ports)
    seconds, lines = first_frame_seconds([PYTHON, "-m", "sre_cockpit", "--config", str(path)])
    assert seconds is not None, "\n".join(lines)
    print(f"first frame after {seconds:.3f}s")
    assert "PRODUCTION prod-eu" in lines[0]
    # Generous bound for a loaded CI machine; on an idle 2-core machine this is ~0.4 s.
    assert seconds < 3.0


@pytest.mark.slow
def test_a_config_error_found_after_the_first_frame_exits_2_with_the_line(tmp_path: Path) -> None:
    bad = UNREACHABLE.replace("objective: 99.9", "objective: 120")
    path = _write(tmp_path, bad)
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execv(PYTHON, [PYTHON, "-m", "sre_cockpit", "--config", str(path)])
        finally:
            os._exit(127)
    out = b""
    deadline = time.monotonic() + 20
    status = None
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:  # the child closed the pty: wait for its status
                    chunk = b""
                    time.sleep(0.02)
                out += chunk
            done, raw = os.waitpid(pid, os.WNOHANG)
            if done:
                status = os.waitstatus_to_exitcode(raw)
                break
    finally:
        if status is None:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        os.close(fd)
    text = out.decode("utf-8", "replace")
    assert status == 2, text[-500:]
    tail = text.rsplit("\x1b[?1049l", 1)[-1]  # what was printed after the UI closed
    assert f"{path}:" in tail and "objective" in tail and "Traceback" not in tail


@pytest.mark.slow
def test_an_idle_cockpit_only_repaints_its_clock(tmp_path: Path) -> None:
    from shell_helpers import idle_bytes_per_second

    path = _write(tmp_path, "contexts:\n  staging: {}\n")
    rate, settled = idle_bytes_per_second([PYTHON, "-m", "sre_cockpit", "--config", str(path)])
    assert settled > 10_000  # it did draw
    assert rate < 400, f"{rate:.0f} B/s while idle"  # the 1 Hz clock is ~80 B/s


# ----------------------------------------------------------------------------- --theme before a subcommand


@pytest.mark.parametrize("argv", [["--theme", "daylight", "check"],
                                  ["--theme=ansi-16", "snapshot", "--format", "json"]])
def test_theme_before_a_subcommand_is_named_not_read_as_the_command(
        argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    # Used to say "argument COMMAND: invalid choice: 'daylight' (choose from 'check')".
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--theme applies to the cockpit UI only" in err and "invalid choice" not in err


def test_theme_is_still_a_cockpit_option() -> None:
    parser, _ = build_parser(["--theme", "daylight"])
    assert parser.parse_args(["--theme", "daylight"]).theme == "daylight"
