"""``sre-cockpit logs`` headless: raw and jsonl output sanitised, errors as one line with exit
2, Ctrl-C exits 0 without a traceback, a closed pipe is handled."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from loki_helpers import LokiStub, loki_stub, write_config

HOSTILE = "evil \x1b]52;c;cHduZWQ=\x07 \x1b]0;title\x1b\\ \x9b6n \u202e \x00 [@click=app.quit]"


def cli(config: Path, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "sre_cockpit", "--config", str(config), "logs",
                           *args], capture_output=True, timeout=timeout)


def seed(stub: LokiStub, n: int) -> None:
    base = time.time_ns() - 2 * 10**9
    for i in range(n):
        stub.push(f"seq={i} {HOSTILE}", ts=base + i * 1000, labels={"app": "stub", "x": "\x1b[2J"})


def test_raw_and_jsonl_are_sanitised(tmp_path: Path) -> None:
    with loki_stub() as stub:
        seed(stub, 5)
        config = write_config(tmp_path / "c.yaml", stub.url)
        raw = cli(config)
        assert raw.returncode == 0, raw.stderr
        lines = raw.stdout.decode().splitlines()
        assert [ln.split()[0] for ln in lines] == [f"seq={i}" for i in range(5)]
        for forbidden in (b"\x1b", b"\x07", b"\xc2\x9b", b"\x00", "\u202e".encode()):
            assert forbidden not in raw.stdout
        assert "␛]52;c;cHduZWQ=␇" in lines[0] and "⟨U+202E⟩" in lines[0]
        assert "[@click=app.quit]" in lines[0]
        out = cli(config, "--output", "jsonl", "--limit", "2", "--since", "1m")
        assert out.returncode == 0, out.stderr
        records = [json.loads(x) for x in out.stdout.decode().splitlines()]
        assert [r["line"].split()[0] for r in records] == ["seq=3", "seq=4"]
        assert records[0]["labels"] == {"app": "stub", "x": "␛[2J"}
        assert int(records[0]["ts"]) < int(records[1]["ts"])
        assert b"\x1b" not in out.stdout


def test_bad_input_is_one_line_exit_2(tmp_path: Path) -> None:
    with loki_stub() as stub:
        config = write_config(tmp_path / "c.yaml", stub.url)
        for args, expect in ((("--query", "unk(x)"), "LogQL error: parse error at line 1"),
                             (("--since", "soon"), "--since"),
                             (("--limit", "0"), "--limit"),
                             (("--provider", "nope"), "no log provider named 'nope'")):
            result = cli(config, *args)
            assert result.returncode == 2, (args, result.stderr)
            err = result.stderr.decode()
            assert expect in err and "Traceback" not in err
            assert len(err.strip().splitlines()) == 1


def test_follow_ctrl_c_exits_zero(tmp_path: Path) -> None:
    with loki_stub() as stub:
        seed(stub, 3)
        config = write_config(tmp_path / "c.yaml", stub.url)
        proc = subprocess.Popen([sys.executable, "-m", "sre_cockpit", "--config", str(config),
                                 "logs", "-f", "--since", "1m"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            time.sleep(2.5)
            stub.push("seq=live after start")
            time.sleep(1.0)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == 0, err
        assert b"Traceback" not in err
        text = out.decode()
        assert "seq=0" in text and "seq=live after start" in text


def test_broken_pipe_is_handled(tmp_path: Path) -> None:
    with loki_stub() as stub:
        seed(stub, 2000)
        config = write_config(tmp_path / "c.yaml", stub.url)
        proc = subprocess.Popen([sys.executable, "-m", "sre_cockpit", "--config", str(config),
                                 "logs", "--limit", "2000"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout is not None
        first = proc.stdout.readline()
        proc.stdout.close()  # like `| head -1`
        err = proc.stderr.read() if proc.stderr else b""
        proc.wait(30)
        assert first.startswith(b"seq=")
        assert b"Traceback" not in err and b"BrokenPipe" not in err
        assert proc.returncode == 0


def test_follow_reports_server_dropped_entries_exactly(tmp_path: Path) -> None:
    """A follow has no status line: entries Loki says it dropped are reported on stderr."""
    with loki_stub() as stub:
        seed(stub, 2)
        config = write_config(tmp_path / "c.yaml", stub.url)
        proc = subprocess.Popen([sys.executable, "-m", "sre_cockpit", "--config", str(config),
                                 "logs", "-f", "--since", "1m"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            time.sleep(2.5)
            stub.dropped_per_message = 2
            for i in range(3):  # one tail message each, each reporting 2 dropped entries
                stub.push(f"seq=live {i}")
                time.sleep(0.4)
            time.sleep(0.6)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == 0, err
    assert "seq=live 2" in out.decode()
    reports = [ln for ln in err.decode().splitlines() if "dropped" in ln]
    assert reports, err
    assert reports[-1] == ("sre-cockpit: log stream: dropped 6 entries reported by the server, "
                           "0 by the client (total so far)")
