"""Log patterns: variable parts masked, lines grouped with counts and first/last seen, new
patterns marked, high-cardinality words folded without ever folding levels, bounded memory."""

from __future__ import annotations

import time

import pytest

from sre_cockpit.core.loglines import ERROR
from sre_cockpit.core.logpatterns import (
    HIGH_CARDINALITY,
    MAX_TEMPLATE_CHARS,
    PatternMiner,
    mine,
    new_since,
    template_of,
    template_regex,
)
from sre_cockpit.core.sanitize import is_terminal_safe
from sre_cockpit.simulator.logs import LogGenerator
from sre_cockpit.simulator.story import Story

NS = 1_000_000_000


@pytest.mark.parametrize(("line", "template"), [
    ("took 12ms after 3 retries", "took <_> after <_> retries"),
    ("request 0a1b2c3d4e5f and fa1b2c3d done", "request <_> and <_> done"),
    ("id 3f2a9c1e-1111-2222-3333-444455556666 ok", "id <_> ok"),
    ("from 10.0.0.1:5432 and fe80::1ff:fe23:4567:890a", "from <_> and <_>"),
    ("at 2026-03-01T10:00:00.123Z (10:00:01)", "at <_> (<_>)"),
    ("order ord_0012345 v2.3.1 pod checkout-7c9f8-ab12c", "order ord_<_> v<_> pod checkout-<_>"),
    ('GET "/api/users/alice?page=2" 200', "GET <_> <_>"),
    ("user 'bob' can't login", "user <_> can't login"),
    ('level=info msg="order placed in 12ms" id=7', 'level=info msg="order placed in <_>" id=<_>'),
    ('{"level":"warn","msg":"pool saturated","waiting":180,"pool":"ledger"}',
     '{"level":"warn","msg":"pool saturated","waiting":<_>,"pool":"ledger"}'),
    ("no variable part here", "no variable part here"),
    ('request_id=eaeffceccbca "id":"abcdefab" deadbeef=1', 'request_id=<_> "id":"<_>" deadbeef=<_>'),
    ("a decade of faces", "a decade of faces"),
])
def test_template_masks_variable_parts(line: str, template: str) -> None:
    assert template_of(line) == template


def test_grouping_counts_first_last_and_example() -> None:
    lines = [(5 * NS, "job 1 done in 3s"), (2 * NS, "job 2 done in 5s"),
             (9 * NS, "job 3 done in 1s"), (4 * NS, "cache miss for key 9")]
    report = mine(lines, new_since_ns=8 * NS)
    assert report.lines == 4
    first, second = report.patterns
    assert (first.template, first.count, first.first_ns, first.last_ns) == (
        "job <_> done in <_>", 3, 2 * NS, 9 * NS)
    assert first.example == "job 2 done in 5s"  # its first line, whatever the arrival order
    assert (second.template, second.count) == ("cache miss for key <_>", 1)
    assert not first.new and not second.new
    late = mine([*lines, (8 * NS, "disk full on /dev/sda1")], new_since_ns=8 * NS)
    assert [p.template for p in late.new] == ["disk full on /dev/sda<_>"]


def test_default_new_window_and_nothing_new_from_the_start() -> None:
    assert new_since(0, 3600 * NS) == 3240 * NS  # newest 10 %
    assert new_since(0, 100 * NS) == 40 * NS  # at least the newest minute
    lines = [(i * NS, f"steady line {i}") for i in range(3600)]
    lines.append((3500 * NS, "brand new failure"))
    report = mine(lines)
    assert [p.template for p in report.new] == ["brand new failure"]
    short = mine([(0, "a 1"), (10 * NS, "b 2")])  # 10 s buffer: the window starts before it
    assert short.new == ()


def test_high_cardinality_words_fold_but_levels_and_low_cardinality_do_not() -> None:
    names = [f"{chr(97 + i % 26)}x{chr(97 + i // 26)}" for i in range(HIGH_CARDINALITY * 3)]
    lines = [(i * NS, f"user {name} logged in from 10.0.0.{i % 200}") for i, name in
             enumerate(names)]
    lines += [(i * NS, f"proxied request upstream={up} status=200")
              for i, up in enumerate(["checkout", "search", "payments"] * 10)]
    lines += [(i * NS, f"level={lvl} msg=done") for i, lvl in enumerate(["info", "error"] * 20)]
    lines += [(i * NS, "Successfully pulled image in 5s") for i in range(5)]  # same shape
    templates = {p.template: p.count for p in mine(lines).patterns}
    assert templates["user <_> logged in from <_>"] == len(names)
    assert templates["Successfully pulled image in <_>"] == 5
    assert {t for t in templates if t.startswith("proxied")} == {
        f"proxied request upstream={u} status=<_>" for u in ("checkout", "search", "payments")}
    assert templates["level=info msg=done"] == 20 and templates["level=error msg=done"] == 20


def test_pattern_of_maps_a_line_to_its_reported_pattern() -> None:
    miner = PatternMiner()
    lines = [(i * NS, f"session expired for {chr(97 + i % 26)}{chr(97 + i // 26)}") for i in range(60)]
    miner.add_all(lines)
    report = miner.report()
    assert [p.template for p in report.patterns] == ["session expired for <_>"]
    assert {miner.pattern_of(line) for _t, line in lines} == {"session expired for <_>"}


def test_bounded_patterns_fold_then_overflow() -> None:
    miner = PatternMiner(max_patterns=20)
    for i in range(200):  # 200 distinct words at one position: folded when the cap is hit
        miner.add(i * NS, f"login by {chr(97 + i % 26)}{chr(97 + (i // 26) % 26)}{chr(97 + i // 300)}")
    assert miner.other_lines == 0
    assert [(p.template, p.count) for p in miner.report().patterns] == [("login by <_>", 200)]
    unfoldable = PatternMiner(max_patterns=5)
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
    for i, word in enumerate(words):  # distinct shapes: nothing to fold
        unfoldable.add(i * NS, " ".join([word] * (i + 1)))
    report = unfoldable.report()
    assert len(report.patterns) == 5 and report.other_lines == 3 and report.lines == 8


def test_hostile_lines_are_bounded_and_shown_safely() -> None:
    lines = [(1, "level=warn msg=\"\x1b]52;c;aGk=\x07\" k=\x1b[2J"), (2, "x" * 1_000_000),
             (3, "caf\ufffd \x00\x9b31m \u202e"), (4, '{"a":' * 5000 + "1" + "}" * 5000)]
    started = time.perf_counter()
    report = mine(lines)
    assert time.perf_counter() - started < 1.0  # the template looks at 400 chars only
    for p in report.patterns:
        assert is_terminal_safe(p.template, multiline=False)
        assert is_terminal_safe(p.example, multiline=False)
        assert is_terminal_safe(p.shown, multiline=False)
    long = next(p for p in report.patterns if p.template.startswith("xxx"))
    assert long.template.endswith("…") and len(long.template) == MAX_TEMPLATE_CHARS + 1


def test_template_regex_matches_the_lines_of_a_pattern() -> None:
    lines = ["job 12 done in 3s", "job 7 done in 250ms"]
    rx = template_regex(template_of(lines[0]))
    assert all(rx.match(line) for line in lines)
    assert rx.match("job 12 failed in 3s") is None
    cut = template_regex(template_of("y" * 1000))
    assert cut.match("y" * 2000)


def test_a_new_error_stands_out_in_the_simulator_flood() -> None:
    gen = LogGenerator(Story(4, 1_790_000_000.0), 5)
    end = gen.first_at_or_after(int(1_790_000_000 * NS))
    lines = [(gen.ts(i), gen.entry(i).line) for i in range(end - 5 * 3600, end)]
    last = lines[-1][0]
    lines += [(last - 60 * NS + i * NS, f"ERROR ledger-writer: disk quota exceeded on volume "
               f"pvc-{i:08x}-aaaa-bbbb-cccc-{i:012x} (used 9{i % 10}.5%)") for i in range(40)]
    report = mine(lines)
    assert len(report.patterns) < 30
    new = report.new
    assert len(new) == 1 and new[0].count == 40 and new[0].level == ERROR
    assert new[0].template == ("ERROR ledger-writer: disk quota exceeded on volume pvc-<_> "
                               "(used <_>)")
    # every error kind of the story is its own pattern, never folded into info lines
    for p in report.patterns:
        if "level=error" in p.template or '"level":"error"' in p.template:
            assert p.level == ERROR
