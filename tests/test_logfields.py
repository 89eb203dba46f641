"""Structured log lines: logfmt/JSON parsing with bounded cost, message-first rendering, and no
byte of a hostile line reaching the screen unsanitised."""

from __future__ import annotations

import json
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from sre_cockpit.core.logfields import (
    DEFAULT_COLUMNS,
    MAX_FIELDS,
    MAX_PARSE_BYTES,
    FieldCache,
    Structured,
    field_names,
    format_value,
    parse_line,
    render,
    render_text,
)
from sre_cockpit.core.loglines import ERROR, NONE, WARN
from sre_cockpit.core.sanitize import is_terminal_safe
from sre_cockpit.simulator.logs import LogGenerator
from sre_cockpit.simulator.story import Story

CHECKOUT = ('ts=2026-03-01T10:00:00.123Z level=error seq=41 app=checkout version=2.3.1 '
            'request_id=0a1b2c3d4e5f method=POST path=/api/checkout status=502 duration_ms=2512 '
            'msg="payment authorization failed" error="payments.Authorize: context deadline '
            'exceeded (client timeout 800ms, attempt 3/3)"')
PAYMENTS = ('{"ts":"2026-03-01T10:00:00.456Z","level":"warn","seq":42,"app":"payments",'
            '"request_id":"0a1b2c3d4e5f","msg":"db connection pool saturated","pool":"ledger",'
            '"in_use":50,"waiting":180}')


def safe(line: Structured) -> bool:
    texts = [line.ts, line.level, line.msg]
    texts += [part for pair in line.fields for part in pair]
    texts += [seg.text for seg in render(line)]
    return all(t is None or is_terminal_safe(t, multiline=False) for t in texts)


def test_logfmt_line_is_message_first() -> None:
    line = parse_line(CHECKOUT)
    assert line.kind == "logfmt"
    assert (line.ts, line.level, line.msg) == ("2026-03-01T10:00:00.123Z", "error",
                                               "payment authorization failed")
    assert [k for k, _v in line.fields] == ["seq", "app", "version", "request_id", "method",
                                            "path", "status", "duration_ms", "error"]
    assert line.field("error") == ("payments.Authorize: context deadline exceeded (client "
                                   "timeout 800ms, attempt 3/3)")
    assert line.level_class == ERROR
    text = render_text(line)
    assert text.startswith("2026-03-01T10:00:00.123Z error payment authorization failed seq=41 ")
    assert text.endswith('error="payments.Authorize: context deadline exceeded (client timeout '
                         '800ms, attempt 3/3)"')


def test_json_line_is_message_first() -> None:
    line = parse_line(PAYMENTS)
    assert line.kind == "json"
    assert (line.level, line.msg, line.level_class) == ("warn", "db connection pool saturated", WARN)
    assert dict(line.fields)["waiting"] == "180"
    assert render_text(line, ("level", "msg", "pool")) == "warn db connection pool saturated pool=ledger"


def test_chosen_columns_order_and_missing_columns() -> None:
    line = parse_line(CHECKOUT)
    segs = render(line, ("msg", "status", "nope", "ts"))
    assert [(s.role, s.text) for s in segs if s.role != "space"] == [
        ("msg", "payment authorization failed"), ("key", "status="), ("value", "502"),
        ("ts", "2026-03-01T10:00:00.123Z")]
    # '*' shows every field not named by another column, once
    text = render_text(line, ("msg", "status", "*"))
    assert text.count("status=") == 1 and "seq=41" in text


def test_plain_line_and_fallback_time() -> None:
    line = parse_line("GET /healthz 200 took 3ms")
    assert line.kind == "plain" and line.msg == "GET /healthz 200 took 3ms" and line.fields == ()
    assert line.level_class == NONE
    assert render_text(line, fallback_ts="10:00:00.000") == "10:00:00.000 GET /healthz 200 took 3ms"
    # the line's own time wins over the fallback
    assert render_text(parse_line(CHECKOUT), ("ts",), fallback_ts="x") == "2026-03-01T10:00:00.123Z"


def test_aliases_case_insensitive_and_priority() -> None:
    line = parse_line('{"Time":"t1","SEVERITY":"WARNING","message":"m1","log":"l1","x":1}')
    assert (line.ts, line.level, line.msg) == ("t1", "WARNING", "m1")
    assert line.level_class == WARN
    assert dict(line.fields) == {"log": "l1", "x": "1"}  # the second message alias stays a field
    clef = parse_line('{"@t":"2026-01-01T00:00:00Z","@l":"Error","@m":"boom","Id":7}')
    assert (clef.ts, clef.level, clef.msg, clef.level_class) == (
        "2026-01-01T00:00:00Z", "Error", "boom", ERROR)
    docker = parse_line('{"log":"started on :8080\\n","stream":"stderr","time":"t"}')
    assert docker.msg == "started on :8080"  # the trailing newline of docker's json-file


def test_duplicate_keys_are_all_kept() -> None:
    line = parse_line('level=info msg=first k=1 k=2 msg=second')
    assert line.msg == "first"
    assert line.fields == (("k", "1"), ("k", "2"), ("msg", "second"))
    js = parse_line('{"msg":"a","k":1,"k":2}')
    assert js.fields == (("k", "1"), ("k", "2"))
    assert render_text(js, ("k",)) == "k=1 k=2"


def test_logfmt_quotes_and_escapes() -> None:
    line = parse_line(r'level=info msg="say \"hi\" to \\ them" empty= q="" tab="a\tb" bare')
    assert line.msg == 'say "hi" to \\ them'
    assert line.fields == (("empty", ""), ("q", ""), ("tab", "a\tb"), ("bare", None))
    assert render_text(line, ("*",)) == 'empty="" q="" tab="a\tb" bare'
    unterminated = parse_line('level=warn msg="never closed k=v')
    assert unterminated.kind == "logfmt" and unterminated.msg == "never closed k=v"
    invalid_escape = parse_line(r'level=info msg="bad \q escape" k=v')
    assert invalid_escape.msg == r"bad \q escape"
    assert format_value('a "b"') == r'"a \"b\""' and format_value("x=y") == '"x=y"'


def test_not_structured_enough_stays_plain() -> None:
    for text in ("2026-01-01 12:00:00 INFO starting server port=8080",  # one pair, many words
                 'a="b" "stray quote', "=== banner ===", "x=1", "[1,2,3]", '{"unclosed": 1',
                 "{not json} a=1 b=2 c"):
        line = parse_line(text)
        assert line.kind == "plain", text
        assert line.msg == text


def test_escape_sequences_in_every_part_are_neutralised() -> None:
    osc52 = "\x1b]52;c;cm0gLXJmIH4=\x07"
    hostile = [
        f'level=error msg="{osc52}" k{osc52}=v title=\x1b]0;pwned\x07',
        json.dumps({"msg": osc52, "level": "\x9b31m", "ts": "\u202e", osc52: {"n": "\x1bP+q\x1b\\"}}),
        '{"msg":"raw control \x1b[2J in a JSON string"}',  # not valid strict JSON: accepted
        'level=info msg="\\u001b]8;;http://evil\\u0007click" a=b',  # JSON escapes inside logfmt
        "plain \x1b[31mred\x1b[0m \x00 \x7f \u200b line",
    ]
    for text in hostile:
        line = parse_line(text)
        assert safe(line), text
        joined = render_text(line)
        assert "\x1b" not in joined and "\x07" not in joined and "\x9b" not in joined
    assert parse_line(hostile[3]).msg == "␛]8;;http://evil␇click"
    assert parse_line(hostile[2]).msg == "raw control ␛[2J in a JSON string"


def test_invalid_utf8_bytes_become_replacement_characters() -> None:
    line = parse_line(b'level=info msg="caf\xc3 \xff\xfe" k=\xed\xa0\x80')
    assert line.kind == "logfmt"
    assert line.msg == "caf\ufffd \ufffd\ufffd"
    assert safe(line)
    lone = parse_line('{"msg":"\\ud800 lone surrogate","k":"v"}')
    assert lone.msg == "\ufffd lone surrogate" and safe(lone)


def test_huge_lines_are_bounded() -> None:
    big_value = "x" * (2 * MAX_PARSE_BYTES)
    line = parse_line(f"level=info msg=start k={big_value} after=1")
    assert line.kind == "logfmt" and line.truncated_bytes > 0
    assert line.field("after") is None  # beyond the parse cap
    assert len(line.field("k") or "") < 1200  # value shown up to its cap, marked
    assert (line.field("k") or "").endswith("bytes")
    assert render_text(line).endswith(f"…+{line.truncated_bytes} bytes")
    huge_json = json.dumps({"msg": "m", "blob": "y" * (2 * MAX_PARSE_BYTES)})
    assert parse_line(huge_json).kind == "plain"  # not decoded past the cap
    started = time.perf_counter()
    mega = parse_line("k=v " * 300_000)  # 1.2 MB
    assert time.perf_counter() - started < 1.0  # generous: the cap keeps it at ~16 KB of work
    assert mega.dropped > 0 and len(mega.fields) == MAX_FIELDS
    assert "+" in render_text(mega) and "fields" in render_text(mega)


def test_deep_nesting_never_recurses_unbounded() -> None:
    for text in ("[" * 200_000, "{" * 100_000, '{"a":' * 5000 + "1" + "}" * 5000,
                 '{"a":' + "[" * 5000 + "]" * 5000 + "}"):
        line = parse_line(text)
        assert line.kind == "plain" and safe(line)
    nested = parse_line('{"msg":"m","a":{"b":{"c":{"d":{"e":1}}}},"l":[1,{"x":[2]}]}')
    assert nested.kind == "json"
    assert nested.fields == (("a.b.c", '{"d":{"e":1}}'), ("l", '[1,{"x":[2]}]'))
    brackets_in_strings = parse_line('{"msg":"' + "[" * 500 + '","k":1}')
    assert brackets_in_strings.kind == "json" and brackets_in_strings.field("k") == "1"


def test_json_scalars_and_odd_values() -> None:
    line = parse_line('{"msg":"m","t":true,"n":null,"f":1.5e3,"big":123456789012345678901234,'
                      '"nan":NaN,"e":{},"a":[]}')
    assert dict(line.fields) == {"t": "true", "n": "null", "f": "1500.0",
                                 "big": "123456789012345678901234", "nan": "NaN", "e": "{}",
                                 "a": "[]"}
    assert parse_line('{"n":' + "9" * 5000 + "}").kind == "plain"  # int digit limit: no raise


def test_field_cap_counts_the_rest() -> None:
    pairs = " ".join(f"k{i}={i}" for i in range(MAX_FIELDS + 10))
    line = parse_line("level=info msg=m " + pairs)
    assert len(line.fields) == MAX_FIELDS and line.dropped == 10
    js = parse_line(json.dumps({f"k{i}": i for i in range(MAX_FIELDS + 30)}))
    assert len(js.fields) == MAX_FIELDS and js.dropped == 30


def test_cache_is_lazy_and_bounded() -> None:
    cache = FieldCache(size=3)
    for row in range(5):
        cache.get(row, f"level=info msg=m{row} k=v")
    assert len(cache) == 3 and cache.misses == 5
    cache.get(4, "ignored: cached by row id")
    assert cache.misses == 5
    assert cache.get(4, "x").msg == "m4"
    cache.get(2, "level=info msg=again k=v")  # 2 is still cached
    assert cache.misses == 5
    cache.get(0, "level=info msg=back k=v")  # 0 was evicted
    assert cache.misses == 6
    cache.clear()
    assert len(cache) == 0


def test_field_names_for_the_picker() -> None:
    lines = [parse_line(CHECKOUT), parse_line(PAYMENTS), parse_line("plain")]
    names = field_names(lines)
    assert names[:3] == ["ts", "level", "msg"]
    assert names.index("seq") < names.index("waiting")  # seen twice vs once
    assert "error" in names and "pool" in names


def test_simulator_lines_all_parse_structured() -> None:
    gen = LogGenerator(Story(4, 1_790_000_000.0), 50)
    start = gen.first_at_or_after(int((1_790_000_000 - 1800) * 1e9))
    kinds = set()
    for i in range(start, start + 2000):
        line = parse_line(gen.entry(i).line)
        kinds.add(line.kind)
        assert line.level is not None and line.msg, gen.entry(i).line
        assert line.field("seq") == str(i)
    assert kinds == {"logfmt", "json"}


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=400), st.binary(max_size=400).map(bytes),
                 st.lists(st.tuples(st.text(min_size=1, max_size=12), st.text(max_size=20)),
                          max_size=12).map(lambda kv: " ".join(f"{k}={v}" for k, v in kv)),
                 st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                              lambda inner: st.lists(inner, max_size=4)
                              | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                              max_leaves=20).map(lambda v: json.dumps({"msg": "m", "v": v}))))
def test_any_input_parses_and_renders_terminal_safe(text: str | bytes) -> None:
    line = parse_line(text)
    assert line.kind in ("json", "logfmt", "plain")
    assert safe(line)
    for columns in (DEFAULT_COLUMNS, ("msg",), ("*", "ts")):
        assert is_terminal_safe(render_text(line, columns), multiline=False)
