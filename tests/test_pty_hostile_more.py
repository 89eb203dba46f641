"""More hostile log lines against the raw bytes written to a pty (TUI, headless raw and jsonl).

Complements ``test_pty_hostile.py`` with the sequences a terminal also acts on: SOS/PM/APC
strings (kitty graphics), OSC terminated by the 8-bit ST, CSI with private and intermediate bytes
(alternate screen, mouse tracking, bracketed paste, kitty keyboard, DA2/DA3), DECRQSS and
XTGETTCAP queries, OSC 4/10/11/52 colour and clipboard queries, an ESC at the end of one line
followed by ``]`` at the start of the next (the state must reset per line), line separators,
isolates, non-characters, a combining-mark flood, a tab and NUL. A tab must not reach the
terminal as a raw 0x09 either: the terminal would move the cursor to its own tab stop and the
rest of the row would be drawn at the wrong columns.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pyte
import pytest
from loki_helpers import LokiStub, loki_stub, write_config
from test_pty_hostile import APP_SCRIPT, run_in_pty

# (tag, raw line, what must be visible instead)
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
RAW_FORBIDDEN = ["\x1bXsos", "\x1b^pm", "\x1b_G", "\x1b]52", "\x1b[>c",
                 "\x1b[=c", "\x1b[200~", "\x1bP$q",
                 "\x1bP+q", "\x1b]4;", "\x1b]10;", "\x1b]11;", "\x1b]0;pwned", "\x9c",
                 "\u2028", "\u2029", "\u2066", "\u2067", "\x00"]


def seed(stub: LokiStub) -> None:
    base = time.time_ns() - 3 * 10**9
    for i, (tag, raw, _shown) in enumerate(MORE):
        stub.push(f"{tag} {raw}", ts=base + i * 1000)
    # a NUL in a label name and value, a tab in the line, a combining-mark flood
    stub.push("F1 col1\tcol2\tcol3", ts=base + 100_000, labels={"app": "x\x00y", "n\x00k": "v"})
    stub.push("F2 z" + "\u0301" * 3000 + "end", ts=base + 200_000)


def check(text: str) -> None:
    for tag, raw, shown in MORE:
        if raw != shown and not raw.endswith("\x1b"):  # (Textual's own SGR follows a line)
            assert f"{tag} {raw}" not in text, f"{tag}: raw sequence reached the terminal"
    for forbidden in RAW_FORBIDDEN:
        assert forbidden not in text, f"{forbidden!r} reached the terminal"


def test_headless_raw_and_jsonl(tmp_path: Path) -> None:
    with loki_stub() as stub:
        seed(stub)
        config = write_config(tmp_path / "c.yaml", stub.url)
        outs = {}
        for fmt in ("raw", "jsonl"):
            out, status = run_in_pty([sys.executable, "-m", "sre_cockpit", "--config",
                                      str(config), "logs", "--since", "1m", "--output", fmt], 30)
            assert status == 0, out[-2000:]
            outs[fmt] = out.decode("utf-8", "surrogateescape")
    raw = outs["raw"]
    assert "\x1b" not in raw and "\x07" not in raw and "\x00" not in raw
    check(raw)
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
        seed(stub)
        config = write_config(tmp_path / "c.yaml", stub.url)
        screen = pyte.Screen(160, 50)
        out, status = run_in_pty(
            [sys.executable, "-c", APP_SCRIPT, str(config)], 30, cols=160, rows=50,
            emulate=screen, keys=[(1.0, b"2"), (1.5, b"z"), (2.0, b"L"), (4.0, b"")],
            keys_after=b"F2 z", stop_after_keys=True)
    assert status is None, f"the app exited (status {status}): {out[-3000:]!r}"
    text = out.decode("utf-8", "surrogateescape")
    check(text)
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
