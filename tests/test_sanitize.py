"""The sanitiser: escape sequences neutralised and shown, invisible characters made visible,
caps, and a Hypothesis fuzz of the core invariant (no C0 but tab/newline, no DEL, no C1)."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sre_cockpit.core.sanitize import (
    DEFAULT_MAX_BYTES,
    is_terminal_safe,
    sanitize,
    sanitize_line,
    scan,
)

UNSAFE_MULTI = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
UNSAFE_LINE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b]52;c;SGVsbG8=\x07", "␛]52;c;SGVsbG8=␇"),  # OSC 52, BEL-terminated
        ("\x1b]52;c;SGVsbG8=\x1b\\", "␛]52;c;SGVsbG8=␛\\"),  # OSC 52, ST-terminated
        ("\x1b]0;pwned\x07", "␛]0;pwned␇"),  # window title
        ("\x1b]2;pwned\x1b\\", "␛]2;pwned␛\\"),
        ("\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\",
         "␛]8;;https://evil.example/␛\\click␛]8;;␛\\"),  # OSC 8 hyperlink
        ("\x1b[2J\x1b[1;1H", "␛[2J␛[1;1H"),
        ("\x1b[6n", "␛[6n"),  # cursor position report request
        ("\x1b[c", "␛[c"),  # device attributes
        ("\x1bP$qm\x1b\\", "␛P$qm␛\\"),  # DECRQSS
        ("\x9b6n", "⟨9B⟩6n"),  # 8-bit CSI
        ("\x9d0;t\x9c", "⟨9D⟩0;t⟨9C⟩"),  # 8-bit OSC and ST
        ("\x90q\x9c", "⟨90⟩q⟨9C⟩"),  # 8-bit DCS
        ("\x1bX sos \x1b\\\x1b^pm\x07\x1b_apc\x9c", "␛X sos ␛\\␛^pm␇␛_apc⟨9C⟩"),
        ("\x1b(B\x1b7\x1b8", "␛(B␛7␛8"),  # nF and Fp escapes
        ("a\x00b", "a␀b"),
        ("del\x7f", "del␡"),
        ("bell\x07", "bell␇"),
        ("back\x08space", "back␈space"),
        ("cr\rlf", "cr␍lf"),
        ("nel\x85", "nel⟨85⟩"),
        ("rtl \u202eevil", "rtl ⟨U+202E⟩evil"),
        ("iso\u2066x\u2069", "iso⟨U+2066⟩x⟨U+2069⟩"),
        ("marks\u200e\u200f\u061c", "marks⟨U+200E⟩⟨U+200F⟩⟨U+061C⟩"),
        ("zero\u200b\u200c\u200d\u2060\ufeff", "zero⟨U+200B⟩⟨U+200C⟩⟨U+200D⟩⟨U+2060⟩⟨U+FEFF⟩"),
        ("tag\U000e0041", "tag⟨U+E0041⟩"),
        ("lone \udc80 surrogate", "lone \ufffd surrogate"),
        ("tab\tkept", "tab\tkept"),
        ("[@click=app.quit]x[/] [b]bold[/b]", "[@click=app.quit]x[/] [b]bold[/b]"),  # not our job
        ("plain ascii line level=info", "plain ascii line level=info"),
        ("unicode ünïcødé 日本語 🙂", "unicode ünïcødé 日本語 🙂"),
    ],
)
def test_neutralised_and_shown(raw: str, shown: str) -> None:
    assert sanitize_line(raw) == shown
    assert sanitize(raw) == shown


def test_newlines_multi_vs_single() -> None:
    assert sanitize("a\nb\r\nc") == "a\nb\nc"
    assert sanitize_line("a\nb\r\nc") == "a␤b␍␤c"


def test_state_resets_at_end_of_line() -> None:
    # an unterminated OSC on line 1 must not swallow line 2 (it is shown, and line 2 is ground)
    assert sanitize("\x1b]0;never ends\nnext line") == "␛]0;never ends\nnext line"
    result = scan("\x1b]0;x\nplain", multiline=True)
    assert result.text == "␛]0;x\nplain"
    assert result.marks == ((0, 5),)


def test_marks_cover_whole_sequences() -> None:
    result = scan("ok \x1b[31mred\x1b[0m end")
    assert result.text == "ok ␛[31mred␛[0m end"
    assert [result.text[a:b] for a, b in result.marks] == ["␛[31m", "␛[0m"]
    osc = scan("\x1b]8;;http://x\x1b\\link")
    assert [osc.text[a:b] for a, b in osc.marks] == ["␛]8;;http://x␛\\"]
    assert scan("plain").marks == ()


def test_csi_cancelled_and_new_sequence() -> None:
    assert sanitize_line("\x1b[12\x18x") == "␛[12␘x"  # CAN cancels
    assert sanitize_line("\x1b[1\x1b[2J") == "␛[1␛[2J"  # ESC starts a new one
    assert sanitize_line("\x1b]0;t\x1b[1m") == "␛]0;t␛[1m"  # ESC aborts a string


def test_invalid_utf8_bytes() -> None:
    assert sanitize(b"ok \xff\xfe end") == "ok \ufffd\ufffd end"
    # raw 8-bit C1 in bytes is invalid UTF-8: it becomes U+FFFD, never a C1
    assert sanitize(b"\x9b6n") == "\ufffd6n"
    assert sanitize(b"\xc2\x9b6n") == "⟨9B⟩6n"  # C1 encoded as UTF-8
    assert sanitize(b"\x1b]52;c;eA==\x07") == "␛]52;c;eA==␇"


def test_cap_str_and_bytes() -> None:
    line = "x" * (1024 * 1024)
    out = sanitize_line(line)
    assert out == "x" * DEFAULT_MAX_BYTES + f"…+{len(line) - DEFAULT_MAX_BYTES} bytes"
    euro = "€" * 2000  # 6000 bytes, never split a character
    out = sanitize(euro)
    assert out == "€" * 1365 + "…+1905 bytes"
    out_b = sanitize(euro.encode())
    assert out_b == out
    assert sanitize("abcdef", max_bytes=3) == "abc…+3 bytes"
    assert sanitize("abcdef", max_bytes=None) == "abcdef"
    assert sanitize("\x1b" * 10, max_bytes=4) == "␛␛␛␛…+6 bytes"
    capped = scan("y" * 5000, max_bytes=100)
    assert capped.truncated_bytes == 4900
    assert capped.text[capped.marks[-1][0]:] == "…+4900 bytes"


def test_fast_path_returns_same_object() -> None:
    line = 'ts=2024-01-01 level=info msg="all good" user=ünï'
    assert sanitize_line(line) is line
    assert sanitize(line) is line


def test_performance_of_ordinary_and_coloured_lines() -> None:
    plain = 'ts=2026-11-26T05:00:00Z level=info caller=server.go:42 msg="request served" ' \
            'method=GET path=/api/v1/items status=200 duration=12.3ms user=alice ' * 2
    coloured = "\x1b[32mINFO\x1b[0m " + plain
    start = time.perf_counter()
    for _ in range(5000):
        sanitize_line(plain)
    plain_s = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(5000):
        sanitize_line(coloured)
    coloured_s = time.perf_counter() - start
    # 5,000 lines/s must cost a small fraction of one core (generous bounds for a busy CI box)
    assert plain_s < 0.1
    assert coloured_s < 0.5


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.characters(codec=None, categories=None), max_size=300))
def test_fuzz_str_never_unsafe(text: str) -> None:
    multi = sanitize(text)
    line = sanitize_line(text)
    assert UNSAFE_MULTI.search(multi) is None
    assert UNSAFE_LINE.search(line) is None
    assert "\x1b" not in multi and "\x1b" not in line
    assert is_terminal_safe(multi) and is_terminal_safe(line, multiline=False)
    multi.encode("utf-8")  # no lone surrogate: the terminal writer must never fail
    line.encode("utf-8")


CONTROLISH = st.sampled_from(
    ["\x1b", "\x07", "\x9b", "\x9c", "\x9d", "\x90", "[", "]", "P", "\\", ";", "0", "m", "\n",
     "\r", "\x00", "\x7f", "\x18", "\u202e", "\u200b", "a", "é", "\t", "\x85", "^", "_", "X", "\ud800", "\x9f", "\x98"])


@settings(max_examples=400, deadline=None)
@given(st.lists(CONTROLISH, max_size=60).map("".join), st.integers(min_value=0, max_value=80))
def test_fuzz_escape_heavy_with_caps(text: str, cap: int) -> None:
    for out in (sanitize(text, max_bytes=cap), sanitize_line(text, max_bytes=cap)):
        assert UNSAFE_MULTI.search(out) is None
    assert "\n" not in sanitize_line(text, max_bytes=cap)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=400), st.one_of(st.none(), st.integers(min_value=0, max_value=500)))
def test_fuzz_bytes_never_unsafe(data: bytes, cap: int | None) -> None:
    multi = sanitize(data, max_bytes=cap)
    line = sanitize_line(data, max_bytes=cap)
    assert UNSAFE_MULTI.search(multi) is None
    assert UNSAFE_LINE.search(line) is None
    multi.encode("utf-8")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_fuzz_marks_are_ordered_ranges(text: str) -> None:
    result = scan(text)
    last = 0
    for start, end in result.marks:
        assert last <= start < end <= len(result.text)
        last = end


def test_no_textual_import() -> None:
    code = "import sys, sre_cockpit.core.sanitize; assert 'textual' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
