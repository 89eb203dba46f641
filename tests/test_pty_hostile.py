"""Hostile log lines against the raw bytes written to a real pty (TUI and headless).

A stub Loki serves lines carrying OSC 52 (BEL and ST), OSC 0/2 titles, OSC 8 links, CSI 2J and
cursor moves, 8-bit C1 (0x9B, 0x9D), DCS, terminal queries (CSI 6n, CSI c, DECRQSS), bidi,
zero-width, NUL, a lone surrogate (the JSON form of invalid UTF-8), a 1 MiB line and
markup-looking text (:data:`HOSTILE`). The TUI runs in a pty whose output is fed to a terminal
emulator (pyte) that answers terminal queries like a real terminal would. Textual itself writes
escape sequences, so the checks are: each hostile sequence never appears raw next to its line's
tag (a leak would be one contiguous run of text), the data's C1 controls never appear at all,
the neutralised markers appear on the emulated screen, the window title is untouched and the
app is still alive.

:data:`MORE` adds the sequences a terminal also acts on: SOS/PM/APC strings (kitty graphics),
OSC terminated by the 8-bit ST, CSI with private and intermediate bytes (alternate screen, mouse
tracking, bracketed paste, kitty keyboard, DA2/DA3), DECRQSS and XTGETTCAP queries, OSC 4/10/11/52
colour and clipboard queries, an ESC at the end of one line followed by ``]`` at the start of the
next (the state must reset per line), line separators, isolates, non-characters, a combining-mark
flood, a tab and NUL, headless in ``raw`` and ``jsonl`` output too. A tab must not reach the
terminal as a raw 0x09 either: the terminal would move the cursor to its own tab stop and the
rest of the row would be drawn at the wrong columns.

Every other field a backend sends (titles, labels, error bodies…) is fuzzed through every view
by ``test_markup_safety.py``.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pyte
import pytest
from loki_helpers import LokiStub, loki_stub, write_config

# (tag, raw line, what must be visible instead)
HOSTILE: list[tuple[str, str, str]] = [
    ("A1", "\x1b]52;c;cHduZWQ=\x07", "␛]52;c;cHduZWQ=␇"),
    ("A2", "\x1b]52;c;cHduZWQ=\x1b\\", "␛]52;c;cHduZWQ=␛\\"),
    ("A3", "\x1b]0;pwned-title\x07", "␛]0;pwned-title␇"),
    ("A4", "\x1b]2;pwned-title\x1b\\", "␛]2;pwned-title␛\\"),
    ("A5", "\x1b]8;;http://evil.example/\x1b\\here\x1b]8;;\x1b\\", "␛]8;;http://evil.example/␛\\"),
    ("A6", "\x1b[2J\x1b[H\x1b[5;5H\x1b[3A", "␛[2J␛[H␛[5;5H␛[3A"),
    ("A7", "\x9b6n", "⟨9B⟩6n"),
    ("A8", "\x9d0;pwned-title\x9c", "⟨9D⟩0;pwned-title⟨9C⟩"),
    ("A9", "\x1bP1;2|17/ab\x1b\\", "␛P1;2|17/ab␛\\"),
    ("B1", "\x1b[6n", "␛[6n"),
    ("B2", "\x1b[c", "␛[c"),
    ("B3", "\x1bP$qm\x1b\\", "␛P$qm␛\\"),
    ("B4", "abc\u202egfedcba", "abc⟨U+202E⟩gfedcba"),
    ("B5", "zero\u200bwidth\ufeff", "zero⟨U+200B⟩width⟨U+FEFF⟩"),
    ("B6", "nul\x00byte", "nul␀byte"),
    ("B7", "lone \udcff surrogate", "lone \ufffd surrogate"),
    ("B8", "[@click=app.quit]q[/] [b]bold", "[@click=app.quit]q[/] [b]bold"),
    ("B9", "[link=http://x]l[/link] [/ [b", "[link=http://x]l[/link] [/ [b"),
]
RAW_FORBIDDEN = ["\x1b]52", "\x1b]0;pwned", "\x1b]2;pwned", "\x1b]8;;http://evil", "\x1bP$q",
                 "\x1bP1;2|", "\x9b", "\x9d", "\x9c", "\udc9b", "\udc9d", "\u202e", "\u200b"]


def seed(stub: LokiStub, *, big: bool) -> None:
    base = time.time_ns() - 3 * 10**9
    for i, (tag, raw, _shown) in enumerate(HOSTILE):
        stub.push(f"{tag} {raw}", ts=base + i * 1000)
    if big:
        stub.push("C1 " + "x" * (1024 * 1024), ts=base + 10**6)


def set_winsize(fd: int, rows: int, cols: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def run_in_pty(argv: list[str], seconds: float, *, cols: int = 120, rows: int = 40,
               emulate: pyte.Screen | None = None, stop_when: str | None = None,
               keys: list[tuple[float, bytes]] | None = None,
               keys_after: bytes | None = None,
               stop_after_keys: bool = False) -> tuple[bytes, int | None]:
    """Run ``argv`` with a pty as its terminal; return (all bytes written, exit status or
    None if it was still running and had to be stopped). ``keys`` are (seconds, bytes) typed
    after the start, or after ``keys_after`` first appears in the output."""
    master, slave = os.openpty()
    set_winsize(slave, rows, cols)
    env = dict(os.environ, TERM="xterm-256color", COLORTERM="truecolor", COLUMNS=str(cols),
               LINES=str(rows))
    env.pop("TMUX", None)
    env.pop("TEXTUAL", None)
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                            start_new_session=True, close_fds=True)
    os.close(slave)
    stream = pyte.ByteStream(emulate) if emulate is not None else None
    replies: list[bytes] = []
    if emulate is not None:
        emulate.write_process_input = lambda data: replies.append(data.encode())  # type: ignore[method-assign]
    out = bytearray()
    pending_keys = list(keys or [])
    start = time.monotonic()
    keys_start: float | None = None if keys_after is not None else start
    status: int | None = None
    try:
        while time.monotonic() - start < seconds:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
                if stream is not None:
                    stream.feed(chunk)
                while replies:  # the emulated terminal answers queries, like a real one
                    os.write(master, replies.pop(0))
                if stop_when is not None and stop_when.encode() in out:
                    break
            if keys_start is None and keys_after is not None and keys_after in out:
                keys_start = time.monotonic()
            while (pending_keys and keys_start is not None
                   and time.monotonic() - keys_start >= pending_keys[0][0]):
                os.write(master, pending_keys.pop(0)[1])
                if stop_after_keys and not pending_keys:
                    break
            if stop_after_keys and keys_start is not None and not pending_keys:
                break
            if proc.poll() is not None:
                # drain what is left
                while select.select([master], [], [], 0.1)[0]:
                    try:
                        chunk = os.read(master, 65536)
                    except OSError:
                        break
                    if not chunk:
                        break
                    out += chunk
                break
        try:
            # stopped on purpose: still running is the expected state; else EOF means exiting
            status = proc.poll() if stop_after_keys else proc.wait(3)
        except subprocess.TimeoutExpired:
            status = None
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        os.close(master)
    return bytes(out), status


def check_no_leak(text: str) -> None:
    for tag, raw, shown in HOSTILE:
        if raw == shown:
            continue  # plain text (markup-looking): it must appear as is
        # a leak would be the tag followed by the raw sequence in one run of text
        assert f"{tag} {raw[:6]}" not in text, f"{tag}: raw sequence reached the terminal"
    for forbidden in RAW_FORBIDDEN:
        assert forbidden not in text, f"{forbidden!r} reached the terminal"


def test_headless_logs_in_a_pty(tmp_path: Path) -> None:
    with loki_stub() as stub:
        seed(stub, big=True)
        config = write_config(tmp_path / "c.yaml", stub.url)
        out, status = run_in_pty([sys.executable, "-m", "sre_cockpit", "--config", str(config),
                                  "logs", "--since", "1m", "--limit", "100"], 30)
    assert status == 0, out[-2000:]
    text = out.decode("utf-8", "surrogateescape")
    # the headless command writes no escape sequence of its own: not one ESC may appear
    assert "\x1b" not in text and "\x07" not in text and "\x00" not in text
    check_no_leak(text)
    for tag, _raw, shown in HOSTILE:
        assert f"{tag} {shown}" in text, tag
    big = [ln for ln in text.splitlines() if ln.startswith("C1 ")]
    assert len(big) == 1 and big[0].endswith(f"…+{1024 * 1024 + 3 - 4096} bytes")
    assert len(out) < 200_000  # the 1 MiB line was capped


APP_SCRIPT = """
import sys
from sre_cockpit.config.model import load_config
from sre_cockpit.ui.app import make_app
app = make_app(load_config(sys.argv[1]))
app.run()
"""


@pytest.mark.slow
def test_tui_in_a_pty_shows_hostile_lines_neutralised(tmp_path: Path) -> None:
    with loki_stub() as stub:
        seed(stub, big=True)
        config = write_config(tmp_path / "c.yaml", stub.url)
        screen = pyte.Screen(120, 40)
        out, status = run_in_pty(
            [sys.executable, "-c", APP_SCRIPT, str(config)], 30, emulate=screen,
            # once the log pane shows data: focus it and maximise it so whole lines are on
            # screen, and toggle wrap on and off (the 1 MiB line wraps over the view)
            keys=[(1.0, b"2"), (1.5, b"z"), (2.0, b"w"), (2.5, b"w"), (5.0, b"")],
            keys_after=b"B9 [link=", stop_after_keys=True)
    assert status is None, f"the app exited (status {status}): {out[-3000:]!r}"
    text = out.decode("utf-8", "surrogateescape")
    check_no_leak(text)
    assert "pwned" not in (screen.title or "")
    assert "\x1b]52" not in text  # nobody touched the clipboard
    display = "\n".join(screen.display)
    for tag, _raw, shown in HOSTILE:
        assert f"{tag} {shown}" in display.replace("\n", "") or shown in display, \
            f"{tag} not shown neutralised; screen:\n{display}"
    # markup-looking text is literal: the app did not quit through [@click=app.quit]
    assert "[@click=app.quit]q[/]" in display


# (tag, raw line, what must be visible instead): the sequences a terminal also acts on
MORE: list[tuple[str, str, str]] = [
    ("D1", "\x1bXsos-secret\x1b\\", "␛Xsos-secret␛\\"),
    ("D2", "\x1b^pm-secret\x1b\\", "␛^pm-secret␛\\"),
    ("D3", "\x1b_Ga=T,f=100;AAAA\x1b\\", "␛_Ga=T,f=100;AAAA␛\\"),
    ("D4", "\x1b]52;c;cHduZWQ=\x9c", "␛]52;c;cHduZWQ=⟨9C⟩"),
    ("D5", "\x1b[?1049h\x1b[>c\x1b[=c", "␛[?1049h␛[>c␛[=c"),
    ("D6", "\x1b[?1000h\x1b[?1006h\x1b[?1003h", "␛[?1000h␛[?1006h␛[?1003h"),
    ("D7", "\x1b[200~echo pasted\x1b[201~", "␛[200~echo pasted␛[201~"),
    ("D8", "\x1b[>1u\x1b[?u", "␛[>1u␛[?u"),
    ("D9", "\x1bP$q\"p\x1b\\", "␛P$q\"p␛\\"),
    ("E1", "\x1bP+q544e\x1b\\", "␛P+q544e␛\\"),
    ("E2", "\x1b]4;1;?\x07\x1b]10;?\x07\x1b]11;?\x1b\\", "␛]4;1;?␇␛]10;?␇␛]11;?␛\\"),
    ("E3", "\x1b]52;c;?\x07", "␛]52;c;?␇"),
    ("E4", "sep\u2028line\u2029para", "sep⟨U+2028⟩line⟨U+2029⟩para"),
    ("E5", "\u2067rtl\u2069 \u2066ltr\u2069", "⟨U+2067⟩rtl⟨U+2069⟩ ⟨U+2066⟩ltr⟨U+2069⟩"),
    ("E6", "non\ufffechar\uffff", "non\ufffechar\uffff"),
    ("E7", "nul\x00in\x00line\x7fdel", "nul␀in␀line␡del"),
    ("E8", "end-esc\x1b", "end-esc␛"),
    ("E9", "]0;pwned-title\x07", "]0;pwned-title␇"),
]
# (Textual itself sets the alternate screen, mouse tracking and the kitty keyboard mode, so those
# are checked next to their line's tag only.)
MORE_RAW_FORBIDDEN = ["\x1bXsos", "\x1b^pm", "\x1b_G", "\x1b]52", "\x1b[>c",
                      "\x1b[=c", "\x1b[200~", "\x1bP$q",
                      "\x1bP+q", "\x1b]4;", "\x1b]10;", "\x1b]11;", "\x1b]0;pwned", "\x9c",
                      "\u2028", "\u2029", "\u2066", "\u2067", "\x00"]


def seed_more(stub: LokiStub) -> None:
    base = time.time_ns() - 3 * 10**9
    for i, (tag, raw, _shown) in enumerate(MORE):
        stub.push(f"{tag} {raw}", ts=base + i * 1000)
    # a NUL in a label name and value, a tab in the line, a combining-mark flood
    stub.push("F1 col1\tcol2\tcol3", ts=base + 100_000, labels={"app": "x\x00y", "n\x00k": "v"})
    stub.push("F2 z" + "\u0301" * 3000 + "end", ts=base + 200_000)


def check_more(text: str) -> None:
    for tag, raw, shown in MORE:
        if raw != shown and not raw.endswith("\x1b"):  # (Textual's own SGR follows a line)
            assert f"{tag} {raw}" not in text, f"{tag}: raw sequence reached the terminal"
    for forbidden in MORE_RAW_FORBIDDEN:
        assert forbidden not in text, f"{forbidden!r} reached the terminal"


def test_headless_raw_and_jsonl(tmp_path: Path) -> None:
    with loki_stub() as stub:
        seed_more(stub)
        config = write_config(tmp_path / "c.yaml", stub.url)
        outs = {}
        for fmt in ("raw", "jsonl"):
            out, status = run_in_pty([sys.executable, "-m", "sre_cockpit", "--config",
                                      str(config), "logs", "--since", "1m", "--output", fmt], 30)
            assert status == 0, out[-2000:]
            outs[fmt] = out.decode("utf-8", "surrogateescape")
    raw = outs["raw"]
    assert "\x1b" not in raw and "\x07" not in raw and "\x00" not in raw
    check_more(raw)
    for tag, _raw, shown in MORE:
        assert f"{tag} {shown}" in raw, tag
    # jsonl: escaped by JSON anyway, but the decoded strings are sanitised too (a consumer
    # that prints the field must be safe), labels included
    jsonl = outs["jsonl"]
    assert "\x1b" not in jsonl and "\x00" not in jsonl
    rows = [json.loads(line) for line in jsonl.replace("\r\n", "\n").splitlines() if line]
    lines = {r["line"].split(" ", 1)[0]: r for r in rows}
    for tag, _raw, shown in MORE:
        assert lines[tag]["line"] == f"{tag} {shown}", tag
    for r in rows:
        blob = r["line"] + "".join(k + v for k, v in r["labels"].items())
        assert not any(c in blob for c in "\x1b\x00\x07\x9c\u2028")
    assert "\x00" not in json.dumps(lines["F1"]["labels"], ensure_ascii=False)


@pytest.mark.slow
def test_tui_more_hostile_lines(tmp_path: Path) -> None:
    with loki_stub() as stub:
        seed_more(stub)
        config = write_config(tmp_path / "c.yaml", stub.url)
        screen = pyte.Screen(160, 50)
        out, status = run_in_pty(
            [sys.executable, "-c", APP_SCRIPT, str(config)], 30, cols=160, rows=50,
            emulate=screen, keys=[(1.0, b"2"), (1.5, b"z"), (2.0, b"L"), (4.0, b"")],
            keys_after=b"F2 z", stop_after_keys=True)
    assert status is None, f"the app exited (status {status}): {out[-3000:]!r}"
    text = out.decode("utf-8", "surrogateescape")
    check_more(text)
    assert "pwned" not in (screen.title or "")
    assert "\t" not in text, "a raw tab reached the terminal"
    display = "\n".join(screen.display)
    for tag, _raw, shown in MORE:
        if tag in ("E6",):
            continue  # non-characters: pyte's rendering of them is its own business
        assert f"{tag} {shown}" in display or shown in display.replace("\n", ""), \
            f"{tag} not shown neutralised; screen:\n{display}"
    assert "F1 col1" in display and "col3" in display
    assert "x␀y" in display and "n␀k" in display  # labels shown (L), NUL visible
