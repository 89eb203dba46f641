"""Terminal-safe text: every piece of external text passes through here before it is shown.

Textual and Rich pass ESC, DEL and C1 controls to the terminal byte for byte, so a log line (or an
incident title, a label, an error body) could otherwise set the clipboard (OSC 52), retitle the
window (OSC 0/2), forge links (OSC 8), clear the screen, or query the terminal, whose *reply*
Textual would read back as key presses.

The scanner is an ECMA-48 state machine (after the DEC/vt100.net parser model): ground, ESC,
ESC intermediate, CSI parameter/intermediate, and the control-string states OSC, DCS, SOS, PM and
APC terminated by BEL or ST (``ESC \\`` or 8-bit 0x9C), in both 7-bit (``ESC [``) and 8-bit
(0x9B) forms. The state resets at the end of every line. Nothing is silently dropped: every
control character becomes a visible marker (Control Pictures ``␛ ␇ ␀ …`` for C0, ``␡`` for DEL,
``⟨9B⟩`` for C1), so ``ESC ] 52 ; c ; … BEL`` is shown as the harmless text ``␛]52;c;…␇``;
the state machine tells which output ranges were a neutralised sequence (``Sanitized.marks``) so a
widget can dim them. Bidi overrides/isolates/marks and zero-width or otherwise invisible format
characters are shown as ``⟨U+202E⟩``; lone surrogates and invalid UTF-8 become U+FFFD. Input is
capped at ``max_bytes`` UTF-8 bytes (default 4 KiB) and the rest is summarised as ``…+N bytes``.

Most lines contain none of this; a precompiled character-class search sends them down a fast path
that returns the input unchanged, so the sanitiser costs about a microsecond per ordinary line.
Nothing here imports Textual.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

DEFAULT_MAX_BYTES = 4096
"""Default cap on the input bytes shown for one piece of text."""

NEWLINE_MARKER = "\u2424"  # ␤ (one-line fields)
ELLIPSIS = "\u2026"

# Invisible format characters made visible: bidi embeddings/overrides/isolates/marks, zero-width
# characters, invisible operators, deprecated format controls, line/paragraph separators,
# interlinear annotations, Hangul fillers used as "blank" names, the soft hyphen, the combining
# grapheme joiner and the Unicode tag block (used to smuggle invisible ASCII).
_INVISIBLE_RANGES: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x00AD),  # soft hyphen
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x061C, 0x061C),  # arabic letter mark
    (0x115F, 0x1160),  # hangul fillers
    (0x180E, 0x180E),  # mongolian vowel separator
    (0x200B, 0x200F),  # ZWSP, ZWNJ, ZWJ, LRM, RLM
    (0x2028, 0x202E),  # line/paragraph separators, LRE RLE PDF LRO RLO
    (0x2060, 0x206F),  # word joiner, invisible operators, LRI RLI FSI PDI, deprecated formats
    (0x3164, 0x3164),  # hangul filler
    (0xFEFF, 0xFEFF),  # zero-width no-break space / BOM
    (0xFFA0, 0xFFA0),  # halfwidth hangul filler
    (0xFFF9, 0xFFFB),  # interlinear annotation controls
    (0xE0000, 0xE007F),  # tag characters
)


def _class(ranges: list[tuple[int, int]]) -> str:
    """A regex character class body for code point ranges."""
    parts = []
    for lo, hi in ranges:
        parts.append(re.escape(chr(lo)) if lo == hi else f"{re.escape(chr(lo))}-{re.escape(chr(hi))}")
    return "".join(parts)


_CONTROL_RANGES = [(0x00, 0x08), (0x0A, 0x1F), (0x7F, 0x9F)]  # everything but TAB
_SURROGATES = [(0xD800, 0xDFFF)]
_SPECIAL_CLASS = _class(_CONTROL_RANGES + _SURROGATES + list(_INVISIBLE_RANGES))
_SPECIAL = re.compile(f"[{_SPECIAL_CLASS}]")
"""Any character that needs the state machine (newline included)."""
_SPECIAL_MULTILINE = re.compile(f"[{_class([(0x00, 0x08), (0x0B, 0x1F), (0x7F, 0x9F)])}"
                                f"{_class(_SURROGATES + list(_INVISIBLE_RANGES))}]")
"""Like ``_SPECIAL`` but newline is allowed (multi-line fast path)."""


def _marker_of(code: int) -> str:
    """The visible stand-in for one unsafe character."""
    if code < 0x20:
        return chr(0x2400 + code)  # Control Pictures: ␀ … ␟
    if code == 0x7F:
        return "\u2421"  # ␡
    if 0x80 <= code <= 0x9F:
        return f"\u27e8{code:02X}\u27e9"  # ⟨9B⟩
    if 0xD800 <= code <= 0xDFFF:
        return "\ufffd"
    return f"\u27e8U+{code:04X}\u27e9"  # ⟨U+202E⟩


_MARKERS: dict[str, str] = {}
for _lo, _hi in _CONTROL_RANGES + list(_INVISIBLE_RANGES) + [(0x09, 0x09)]:
    for _code in range(_lo, _hi + 1):
        _MARKERS[chr(_code)] = _marker_of(_code)
_MARKERS["\t"] = "\t"
_MARKERS["\n"] = NEWLINE_MARKER

ESC = "\x1b"
BEL = "\x07"
CAN = "\x18"
SUB = "\x1a"
ST_8BIT = "\x9c"
_STRING_INTRODUCERS_7BIT = {"]": "osc", "P": "dcs", "X": "sos", "^": "pm", "_": "apc"}
_STRING_INTRODUCERS_8BIT = {"\x9d": "osc", "\x90": "dcs", "\x98": "sos", "\x9e": "pm", "\x9f": "apc"}
CSI_8BIT = "\x9b"


class State(enum.Enum):
    """ECMA-48 parser states (vt100.net model, with the ignore states folded in)."""

    GROUND = "ground"
    ESCAPE = "escape"
    ESCAPE_INTERMEDIATE = "escape_intermediate"
    CSI_PARAM = "csi_param"
    CSI_INTERMEDIATE = "csi_intermediate"
    STRING = "string"  # OSC / DCS / SOS / PM / APC payload
    STRING_ESC = "string_esc"  # ESC seen inside a string: ST if followed by "\"


@dataclass(frozen=True, slots=True)
class Sanitized:
    """The result of :func:`scan`.

    Attributes:
        text: Safe text (no C0 except tab/newline, no DEL, no C1, no escape sequence).
        marks: ``(start, end)`` ranges of ``text`` that are markers or neutralised sequences,
            in order and non-overlapping (for dim styling).
        truncated_bytes: Input bytes not shown because of ``max_bytes``.
    """

    text: str
    marks: tuple[tuple[int, int], ...] = ()
    truncated_bytes: int = 0


def _cap_str(text: str, max_bytes: int | None) -> tuple[str, int]:
    """Cut ``text`` to at most ``max_bytes`` UTF-8 bytes on a character boundary."""
    if max_bytes is None or len(text) * 4 <= max_bytes:
        return text, 0
    if text.isascii():
        if len(text) <= max_bytes:
            return text, 0
        return text[:max_bytes], len(text) - max_bytes
    data = text.encode("utf-8", "surrogatepass")
    if len(data) <= max_bytes:
        return text, 0
    cut = max(0, max_bytes)
    while cut > 0 and (data[cut] & 0xC0) == 0x80:
        cut -= 1
    return data[:cut].decode("utf-8", "surrogatepass"), len(data) - cut


def _cap_bytes(data: bytes, max_bytes: int | None) -> tuple[str, int]:
    """Decode (invalid UTF-8 → U+FFFD) at most ``max_bytes`` of ``data``."""
    if max_bytes is None or len(data) <= max_bytes:
        return data.decode("utf-8", "replace"), 0
    cut = max(0, max_bytes)
    # do not split a valid multi-byte character: back up to its lead byte (at most 3 bytes)
    for back in range(1, 4):
        if cut - back < 0 or (data[cut - back + 1] & 0xC0) != 0x80:
            break
        if (data[cut - back] & 0xC0) == 0xC0:
            cut -= back
            break
    return data[:cut].decode("utf-8", "replace"), len(data) - cut


def _coerce(text: object, max_bytes: int | None) -> tuple[str, int]:
    if isinstance(text, str):
        return _cap_str(text, max_bytes)
    if isinstance(text, bytes | bytearray | memoryview):
        return _cap_bytes(bytes(text), max_bytes)
    return _cap_str(str(text), max_bytes)


def _suffix(truncated: int) -> str:
    return f"{ELLIPSIS}+{truncated} bytes"


class _Scanner:
    """One pass of the ECMA-48 state machine over already-capped text."""

    __slots__ = ("marks", "multiline", "out", "pos", "seq_start", "state")

    def __init__(self, multiline: bool) -> None:
        self.multiline = multiline
        self.out: list[str] = []
        self.pos = 0  # length of the output so far
        self.marks: list[tuple[int, int]] = []
        self.state = State.GROUND
        self.seq_start = 0

    def _emit(self, piece: str) -> None:
        self.out.append(piece)
        self.pos += len(piece)

    def _mark(self, start: int, end: int) -> None:
        if end <= start:
            return
        if self.marks and self.marks[-1][1] >= start:
            self.marks[-1] = (self.marks[-1][0], max(end, self.marks[-1][1]))
        else:
            self.marks.append((start, end))

    def _begin(self) -> None:
        self.seq_start = self.pos

    def _end(self) -> None:
        self._mark(self.seq_start, self.pos)
        self.state = State.GROUND

    def _emit_char(self, ch: str) -> None:
        """Emit one character of a sequence (visible marker if it is unsafe)."""
        self._emit(_MARKERS.get(ch, ch) if ch > "\x7e" or ch < " " else ch)

    def _emit_marker_in_ground(self, ch: str) -> None:
        start = self.pos
        if "\ud800" <= ch <= "\udfff":
            self._emit("\ufffd")
        else:
            self._emit(_MARKERS.get(ch, "\ufffd"))
        self._mark(start, self.pos)

    def run(self, text: str) -> None:
        special = _SPECIAL_MULTILINE if self.multiline else _SPECIAL
        n = len(text)
        i = 0
        while i < n:
            state = self.state
            if state is State.GROUND:
                match = special.search(text, i)
                if match is None:
                    self._emit(text[i:])
                    return
                j = match.start()
                if j > i:
                    self._emit(text[i:j])
                i = j
                self._ground(text[i])
                i += 1
                continue
            ch = text[i]
            if ch == "\n":  # end of line: state reset
                self._end()
                continue  # reprocess the newline in ground
            if state is State.STRING:
                # copy payload runs quickly; stop at anything special or a terminator
                match = _SPECIAL.search(text, i)
                j = n if match is None else match.start()
                if j > i:
                    self._emit(text[i:j])
                    i = j
                    continue
                self._string(ch)
            elif state is State.STRING_ESC:
                if ch == "\\":
                    self._emit("\\")
                    self._end()
                else:
                    # ESC aborted the string and starts a new escape sequence (the ␛ is
                    # already emitted; the marked range simply continues)
                    self.state = State.ESCAPE
                    continue  # reprocess ch in ESCAPE
            elif state is State.ESCAPE:
                if not self._escape(ch):
                    continue
            elif state is State.ESCAPE_INTERMEDIATE:
                if "\x20" <= ch <= "\x2f":
                    self._emit(ch)
                elif "\x30" <= ch <= "\x7e":
                    self._emit(ch)
                    self._end()
                else:
                    self._end()
                    continue
            elif state in (State.CSI_PARAM, State.CSI_INTERMEDIATE) and not self._csi(ch):
                continue
            i += 1
        if self.state is not State.GROUND:
            self._end()  # unterminated at end of text: still shown, state reset

    def _ground(self, ch: str) -> None:
        if ch == "\n" and self.multiline:
            self._emit("\n")
            return
        if ch == ESC:
            self._begin()
            self._emit(_MARKERS[ESC])
            self.state = State.ESCAPE
        elif ch == CSI_8BIT:
            self._begin()
            self._emit(_MARKERS[ch])
            self.state = State.CSI_PARAM
        elif ch in _STRING_INTRODUCERS_8BIT:
            self._begin()
            self._emit(_MARKERS[ch])
            self.state = State.STRING
        else:
            self._emit_marker_in_ground(ch)

    def _escape(self, ch: str) -> bool:
        """Handle ``ch`` after ESC; False means "reprocess ch in the new state"."""
        if ch == "[":
            self._emit(ch)
            self.state = State.CSI_PARAM
        elif ch in _STRING_INTRODUCERS_7BIT:
            self._emit(ch)
            self.state = State.STRING
        elif "\x20" <= ch <= "\x2f":
            self._emit(ch)
            self.state = State.ESCAPE_INTERMEDIATE
        elif "\x30" <= ch <= "\x7e":
            self._emit(ch)
            self._end()
        elif ch == ESC:
            self._end()  # a lone ESC; the next one starts a new sequence
            self._begin()
            self._emit(_MARKERS[ESC])
            self.state = State.ESCAPE
        else:
            self._end()
            return False
        return True

    def _csi(self, ch: str) -> bool:
        """Handle ``ch`` inside a control sequence; False means reprocess it in ground."""
        if "\x30" <= ch <= "\x3f":
            self._emit(ch)  # parameter bytes (after an intermediate: invalid, still consumed)
        elif "\x20" <= ch <= "\x2f":
            self._emit(ch)
            self.state = State.CSI_INTERMEDIATE
        elif "\x40" <= ch <= "\x7e":
            self._emit(ch)
            self._end()
        elif ch in (CAN, SUB, ESC, CSI_8BIT) or ch in _STRING_INTRODUCERS_8BIT:
            self._end()  # cancelled, or a new sequence starts
            return False
        elif ch < " " or ch == "\x7f" or "\x80" <= ch <= "\x9f":
            self._emit_char(ch)  # C0 executed inside CSI by terminals: shown, sequence goes on
        else:
            self._end()
            return False
        return True

    def _string(self, ch: str) -> None:
        """Handle a special character inside a control string."""
        if ch in (BEL, ST_8BIT):
            self._emit(_MARKERS[ch])
            self._end()
        elif ch == ESC:
            self._emit(_MARKERS[ESC])
            self.state = State.STRING_ESC
        elif ch in (CAN, SUB):
            self._emit(_MARKERS[ch])
            self._end()
        elif "\ud800" <= ch <= "\udfff":
            self._emit("\ufffd")
        else:
            self._emit(_MARKERS.get(ch, "\ufffd"))


def scan(text: str | bytes, *, max_bytes: int | None = DEFAULT_MAX_BYTES,
         multiline: bool = False) -> Sanitized:
    """Sanitise ``text`` and report which output ranges are markers (for styling).

    Args:
        text: External text; bytes are decoded as UTF-8 with invalid sequences → U+FFFD.
        max_bytes: Cap on the input shown, in UTF-8 bytes; ``None`` for no cap.
        multiline: Keep newlines (CRLF becomes LF); otherwise newlines become ``␤``.

    Returns:
        The safe text, the marker ranges and how many input bytes were cut.
    """
    body, truncated = _coerce(text, max_bytes)
    if multiline and "\r\n" in body:
        body = body.replace("\r\n", "\n")
    special = _SPECIAL_MULTILINE if multiline else _SPECIAL
    if special.search(body) is None:
        if not truncated:
            return Sanitized(body)
        suffix = _suffix(truncated)
        return Sanitized(body + suffix, ((len(body), len(body) + len(suffix)),), truncated)
    scanner = _Scanner(multiline)
    scanner.run(body)
    if truncated:
        start = scanner.pos
        scanner._emit(_suffix(truncated))
        scanner._mark(start, scanner.pos)
    return Sanitized("".join(scanner.out), tuple(scanner.marks), truncated)


def sanitize(text: str | bytes, *, max_bytes: int | None = DEFAULT_MAX_BYTES) -> str:
    """Return ``text`` safe to render or print, newlines kept (multi-line fields).

    No C0 control except tab and newline, no DEL, no C1 and no escape sequence survives: controls
    become visible markers, escape sequences are shown neutralised (``␛]52;c;…␇``), bidi and
    zero-width characters become ``⟨U+202E⟩``, invalid UTF-8 and lone surrogates become U+FFFD,
    and input beyond ``max_bytes`` UTF-8 bytes is replaced by ``…+N bytes``.

    Args:
        text: External text (str or raw bytes).
        max_bytes: Cap on the input shown; ``None`` for no cap.

    Returns:
        Text that is safe to hand to a terminal or to Rich/Textual as plain text.
    """
    if type(text) is str and (max_bytes is None or len(text) * 4 <= max_bytes) \
            and _SPECIAL_MULTILINE.search(text) is None:
        return text
    return scan(text, max_bytes=max_bytes, multiline=True).text


def sanitize_line(text: str | bytes, *, max_bytes: int | None = DEFAULT_MAX_BYTES) -> str:
    """Like :func:`sanitize` for one-line fields: newlines also become a visible ``␤``.

    Args:
        text: External text (str or raw bytes).
        max_bytes: Cap on the input shown; ``None`` for no cap.

    Returns:
        One line of text that is safe to hand to a terminal.
    """
    if type(text) is str and (max_bytes is None or len(text) * 4 <= max_bytes) \
            and _SPECIAL.search(text) is None:
        return text
    return scan(text, max_bytes=max_bytes, multiline=False).text


_UNSAFE_OUTPUT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def is_terminal_safe(text: str, *, multiline: bool = True) -> bool:
    """True when ``text`` has no C0 (other than tab and, if ``multiline``, newline), DEL, C1 or
    lone surrogate: the invariant every output of this module satisfies."""
    if not multiline and "\n" in text:
        return False
    return _UNSAFE_OUTPUT.search(text) is None
