"""Log patterns: group lines whose only differences are variable parts, so a new kind of line
stands out in a flood (issue 14, item 5).

:func:`template_of` masks the variable parts of one line with Loki's placeholder ``<_>``:
every token that holds a digit (numbers, timestamps, UUIDs and hex ids, IPv4/IPv6 addresses
with ports, durations such as ``800ms``, versions; ``ord_0012345`` keeps its ``ord_``), values of
8+ hex letters (an id that happens to have no digit), and
quoted strings in prose (``user 'bob'``, ``GET "/api/x?y=1"``). Quoted logfmt and JSON values
and keys are structure: they are kept, with their digit tokens masked. Lines then group by
template; at report time templates of one shape (same separators) are folded where one word
position holds more than :data:`HIGH_CARDINALITY` distinct words (user names, paths), except
keys and level words, so ``level=error`` never folds into ``level=info``. Each pattern has its
count, first and last seen, an example, and ``new`` when it first appeared in the newest part of
the buffer.

This is a masking miner, not Drain: one regular-expression pass per line and a dict lookup.
``benchmarks/patterns.py`` measures it against ``drain3`` (the maintained Drain implementation)
on 100,000 lines: see that script for why this one is kept. Templates use ``<_>`` so one can be
sent back to Loki as a pattern filter (``|> "…"``). Pure: no Textual, no provider.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sre_cockpit.core.loglines import NONE, detect_level, level_of_word
from sre_cockpit.core.sanitize import sanitize_line

PLACEHOLDER = "<_>"
MAX_TEMPLATE_CHARS = 400
"""Characters of a line looked at; a longer line's template ends with ``…``."""
MAX_PATTERNS = 5000
"""Distinct patterns kept; lines of any further pattern are counted as ``other_lines``."""
NEW_FRACTION = 0.1
"""By default a pattern is new when it first appeared in the newest 10 % of the buffer's span…"""
NEW_MIN_NS = 60 * 1_000_000_000
"""…or the newest minute, whichever is longer."""
HIGH_CARDINALITY = 12
"""A word position of one pattern shape with more distinct words than this is masked too
(user names, paths, hosts: variable parts without digits)."""
MAX_ALIASES = 20_000

_SEP = r"\s=,;\"'(){}\[\]<>|"
_BOUNDARY = _SEP + r"\-_/.:"
_VARIABLE = re.compile(
    # a token holding a digit, from its first digit or from the start of a hex run that leads to
    # one (so ids starting with a-f mask alike), to the token's end; or a value (after = : ")
    # of 8+ hex characters without a digit (a rare id such as eaeffceccbca); the pattern starts
    # with a character class so the regex engine skips plain text at C speed
    rf"[0-9a-fA-F](?:(?<![^{_BOUNDARY}][0-9a-fA-F])[0-9a-fA-F]*?\d|(?<=\d)"
    rf"|(?<=[=:\"][0-9a-fA-F])[0-9a-fA-F]{{7,}}(?![^{_SEP}]))[^{_SEP}]*")
_DOUBLE_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*+"')
_SINGLE_QUOTED = re.compile(r"'(?<!\w')(?:[^'\\\n]|\\.)*+'(?!\w)")


def _double_quoted(match: re.Match[str]) -> str:
    """Keep a logfmt/JSON value or a JSON key (structure); mask a quoted string in prose."""
    line = match.string
    start, end = match.start(), match.end()
    before = line[start - 1:start] if start else ""
    if before in ("=", ":") or (before == " " and line[start - 2:start - 1] == ":"):
        return match.group()
    if line[end:end + 1] == ":" or line[end:end + 2] == " :":
        return match.group()
    return PLACEHOLDER


def template_of(line: str) -> str:
    """The line with its variable parts replaced by ``<_>`` (see the module docstring)."""
    text = line if len(line) <= MAX_TEMPLATE_CHARS else line[:MAX_TEMPLATE_CHARS] + "…"
    if not text.startswith("{"):  # in JSON every quoted string is a key or a value
        if '"' in text:
            text = _DOUBLE_QUOTED.sub(_double_quoted, text)
        if "'" in text:
            text = _SINGLE_QUOTED.sub(PLACEHOLDER, text)
    return _VARIABLE.sub(PLACEHOLDER, text)


_PARTS = re.compile(r"""([\s=,;:"'(){}\[\]]+)""")


def _shape(template: str) -> tuple[tuple[str, ...], list[str]]:
    """(separators, words) of a template: templates with the same separators have one shape."""
    parts = _PARTS.split(template)
    return tuple(parts[1::2]), parts[0::2]


_Round = dict[tuple[tuple[str, ...], int], set[str]]
"""One folding round: (separators, position) -> the other words (joined) of the templates
whose word at that position is folded."""
MERGE_ROUNDS = 2


def _others(words: list[str], index: int) -> str:
    return "\x00".join(words[:index]) + "\x01" + "\x00".join(words[index + 1:])


def _protected(separators: tuple[str, ...], words: list[str], index: int) -> bool:
    """Keys (a word followed by ``=`` or ``:``) and level words are never folded."""
    if index < len(separators) and ("=" in separators[index] or ":" in separators[index]):
        return True
    return bool(words[index]) and level_of_word(words[index]) != NONE


def _find_round(shapes: Iterable[tuple[tuple[str, ...], list[str]]]) -> _Round:
    """Positions where templates identical everywhere else hold more than
    :data:`HIGH_CARDINALITY` distinct words."""
    by_shape: dict[tuple[str, ...], list[list[str]]] = {}
    for separators, words in shapes:
        by_shape.setdefault(separators, []).append(words)
    found: _Round = {}
    for separators, rows in by_shape.items():
        if len(rows) <= HIGH_CARDINALITY:
            continue
        seen: dict[tuple[int, str], set[str]] = {}
        for words in rows:
            for index, word in enumerate(words):
                if word == PLACEHOLDER or _protected(separators, words, index):
                    continue
                values = seen.setdefault((index, _others(words, index)), set())
                if len(values) <= HIGH_CARDINALITY:
                    values.add(word)
        for (index, others), values in seen.items():
            if len(values) > HIGH_CARDINALITY:
                found.setdefault((separators, index), set()).add(others)
    return found


def _fold(separators: tuple[str, ...], words: list[str], rounds: list[_Round]) -> list[str]:
    """Apply the folding rounds, in order, to one template's words."""
    for fold in rounds:
        positions = [i for i in range(len(words)) if words[i] != PLACEHOLDER
                     and _others(words, i) in fold.get((separators, i), ())]
        if positions:
            words = [PLACEHOLDER if i in positions else w for i, w in enumerate(words)]
    return words


def _join(separators: tuple[str, ...], words: list[str]) -> str:
    out = []
    for index, word in enumerate(words):
        out.append(word)
        if index < len(separators):
            out.append(separators[index])
    return "".join(out)


def _merge(stats: dict[str, list[int]]) -> tuple[dict[str, list[int]], list[_Round]]:
    """Fold patterns that differ only at high-cardinality positions (user names, paths)."""
    shaped = {template: _shape(template) for template in stats}
    rounds: list[_Round] = []
    current = {template: words for template, (_sep, words) in shaped.items()}
    for _ in range(MERGE_ROUNDS):
        fold = _find_round((shaped[t][0], w) for t, w in current.items())
        if not fold:
            break
        rounds.append(fold)
        current = {t: _fold(shaped[t][0], w, [fold]) for t, w in current.items()}
    merged: dict[str, list[int]] = {}
    for template, words in current.items():
        key = _join(shaped[template][0], words) if rounds else template
        count, first, last, example = stats[template]
        found = merged.get(key)
        if found is None:
            merged[key] = [count, first, last, example]
        else:
            found[0] += count
            if first < found[1]:
                found[1], found[3] = first, example
            found[2] = max(found[2], last)
    return merged, rounds


@dataclass(frozen=True, slots=True)
class Pattern:
    """One pattern and the lines that have it.

    Attributes:
        template: The masked line (``<_>`` for variable parts); sanitised when it came from
            local lines, as sent by Loki otherwise (show it through :attr:`shown`).
        count: Lines with this pattern.
        first_ns: Timestamp of its first line (ns).
        last_ns: Timestamp of its last line (ns).
        example: One line with this pattern (sanitised, one line), or "".
        level: Level class of the example (:mod:`sre_cockpit.core.loglines` ``ERROR`` … ``NONE``).
        new: First seen in the newest part of the buffer.
    """

    template: str
    count: int
    first_ns: int
    last_ns: int
    example: str = ""
    level: int = -1
    new: bool = False

    @property
    def shown(self) -> str:
        """The template, terminal-safe on one line."""
        return sanitize_line(self.template)


@dataclass(frozen=True, slots=True)
class PatternReport:
    """Patterns of a buffer, most lines first."""

    patterns: tuple[Pattern, ...]
    lines: int
    other_lines: int = 0
    """Lines whose pattern was beyond :data:`MAX_PATTERNS` (not listed)."""
    new_since_ns: int | None = None

    @property
    def new(self) -> tuple[Pattern, ...]:
        """The patterns marked new, newest first."""
        return tuple(sorted((p for p in self.patterns if p.new), key=lambda p: -p.first_ns))


def new_since(first_ns: int, last_ns: int) -> int:
    """Where "new" starts for a buffer spanning ``first_ns``…``last_ns``."""
    return last_ns - max(NEW_MIN_NS, int((last_ns - first_ns) * NEW_FRACTION))


class PatternMiner:
    """Accumulates lines into patterns; :meth:`report` may be called at any time.

    Memory is bounded: at most ``max_patterns`` patterns (when the count is reached, patterns of
    one shape are folded at their high-cardinality positions first, then further new patterns
    are only counted in ``other_lines``), one example line per pattern, and a bounded cache from
    masked line to folded pattern.
    """

    def __init__(self, *, max_patterns: int = MAX_PATTERNS) -> None:
        self.max_patterns = max(1, max_patterns)
        self._stats: dict[str, list[int]] = {}  # template -> [count, first, last, example idx]
        self._examples: list[str] = []
        self._rounds: list[_Round] = []
        self._aliases: dict[str, str] = {}
        self._report_rounds: list[_Round] = []
        self.lines = 0
        self.other_lines = 0
        self.first_ns: int | None = None
        self.last_ns: int | None = None

    def add(self, ts_ns: int, line: str) -> str:
        """Count one line (any order of timestamps); returns its :func:`template_of`."""
        self.lines += 1
        if self.first_ns is None or ts_ns < self.first_ns:
            self.first_ns = ts_ns
        if self.last_ns is None or ts_ns > self.last_ns:
            self.last_ns = ts_ns
        masked = key = template_of(line)
        found = self._stats.get(key)
        if found is None and self._rounds:
            key = self._folded(key)
            found = self._stats.get(key)
        if found is None and len(self._stats) >= self.max_patterns:
            self._compact()
            key = self._folded(key)
            found = self._stats.get(key)
        if found is None:
            if len(self._stats) >= self.max_patterns:
                self.other_lines += 1
                return masked
            self._stats[key] = [1, ts_ns, ts_ns, len(self._examples)]
            self._examples.append(line)
            return masked
        found[0] += 1
        if ts_ns < found[1]:
            found[1] = ts_ns
            self._examples[found[3]] = line  # the example is the pattern's first line
        elif ts_ns > found[2]:
            found[2] = ts_ns
        return masked

    def _folded(self, key: str) -> str:
        """The pattern a masked line counts under once its shape has been folded."""
        alias = self._aliases.get(key)
        if alias is not None:
            return alias
        separators, words = _shape(key)
        folded = _join(separators, _fold(separators, words, self._rounds))
        if len(self._aliases) >= MAX_ALIASES:
            self._aliases.clear()
        self._aliases[key] = folded
        return folded

    def _compact(self) -> None:
        merged, rounds = _merge(self._stats)
        examples = []
        for stats in merged.values():
            examples.append(self._examples[stats[3]])
            stats[3] = len(examples) - 1
        self._stats = merged
        self._examples = examples
        self._rounds.extend(rounds)
        self._aliases.clear()

    def pattern_of(self, line: str) -> str:
        """The template under which the last :meth:`report` lists ``line`` (sanitised)."""
        return self.fold(template_of(line))

    def fold(self, template: str) -> str:
        """The template under which the last :meth:`report` lists lines whose
        :func:`template_of` is ``template`` (sanitised)."""
        key = self._folded(template) if self._rounds else template
        if self._report_rounds:
            separators, words = _shape(key)
            key = _join(separators, _fold(separators, words, self._report_rounds))
        return sanitize_line(key)

    def add_all(self, lines: Iterable[tuple[int, str]]) -> None:
        """Count ``(ts_ns, line)`` pairs."""
        for ts_ns, line in lines:
            self.add(ts_ns, line)

    def report(self, *, new_since_ns: int | None = None, limit: int | None = None) -> PatternReport:
        """The patterns so far, most lines first (ties: first seen first).

        Args:
            new_since_ns: Patterns first seen at or after this are ``new``; default
                :func:`new_since` of the buffer. Nothing is new when it is at or before the
                buffer's first line (every pattern was there from the start).
            limit: Keep only this many patterns (the rest still count in ``lines``).
        """
        first, last = self.first_ns, self.last_ns
        if first is None or last is None:
            return PatternReport((), 0, self.other_lines, new_since_ns)
        since = new_since(first, last) if new_since_ns is None else new_since_ns
        marking = since > first
        merged, self._report_rounds = _merge(self._stats)
        ordered = sorted(merged.items(), key=lambda kv: (-kv[1][0], kv[1][1]))
        if limit is not None:
            ordered = ordered[:max(0, limit)]
        patterns = []
        for template, (count, first_ns, last_ns, example_index) in ordered:
            example = self._examples[example_index]
            patterns.append(Pattern(sanitize_line(template), count, first_ns, last_ns,
                                    sanitize_line(example), detect_level(example),
                                    marking and first_ns >= since))
        return PatternReport(tuple(patterns), self.lines, self.other_lines, since)


def mine(lines: Iterable[tuple[int, str]], *, new_since_ns: int | None = None,
         max_patterns: int = MAX_PATTERNS) -> PatternReport:
    """Group ``(ts_ns, line)`` pairs into patterns (see :class:`PatternMiner`)."""
    miner = PatternMiner(max_patterns=max_patterns)
    miner.add_all(lines)
    return miner.report(new_since_ns=new_since_ns)


def template_regex(template: str) -> re.Pattern[str]:
    """A regular expression matching the lines of a pattern (``<_>`` matches anything)."""
    parts = [re.escape(p) for p in template.rstrip("…").split(PLACEHOLDER)]
    return re.compile(".*?".join(parts) + ("" if template.endswith("…") else r"\Z"), re.DOTALL)
