"""LogQL shaping: matchers and line filters added/removed without typing LogQL, printed back in
one canonical spelling, and whatever cannot be round-tripped refused with a clear line."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sre_cockpit.core.logql_shape import (
    FILTER_OPS,
    MATCHER_OPS,
    Matcher,
    QueryShapeError,
    ShapedQuery,
    TextFilter,
    go_unquote,
    matcher_values,
    parse_query,
    quote,
    regex_escape,
    try_parse,
    values_matcher,
)
from sre_cockpit.core.sanitize import is_terminal_safe
from sre_cockpit.simulator.logs import parse_logql


def test_parse_and_print_a_typical_query() -> None:
    q = parse_query('{app="checkout",level=~"error|warn"}   |= "timeout" != `healthz`  |~ "5\\\\d\\\\d"'
                    ' | logfmt | duration_ms > 500')
    assert q.matchers == (Matcher("app", "=", "checkout"), Matcher("level", "=~", "error|warn"))
    assert q.filters == (TextFilter("|=", ("timeout",)), TextFilter("!=", ("healthz",)),
                         TextFilter("|~", ("5\\d\\d",)))
    assert q.rest == "| logfmt | duration_ms > 500"
    assert q.to_logql() == ('{app="checkout", level=~"error|warn"} |= "timeout" != `healthz` '
                            '|~ "5\\\\d\\\\d" | logfmt | duration_ms > 500')


def test_label_browser_operations() -> None:
    q = parse_query('{namespace="shop"}')
    q = q.set_label("app", ["checkout"])
    assert q.to_logql() == '{namespace="shop", app="checkout"}'
    q = q.set_label("app", ["checkout", "payments"])
    assert q.to_logql() == '{namespace="shop", app=~"checkout|payments"}'
    assert q.label_values("app") == ["checkout", "payments"]
    q = q.set_label("pod", ["api-1.x", "a|b"])
    assert q.to_logql().endswith(r"pod=~`api-1\.x|a\|b`}")
    assert q.label_values("pod") == ["api-1.x", "a|b"]
    q = q.with_matcher(Matcher("level", "=~", "error|warn"))
    assert q.label_values("level") == ["error", "warn"]
    assert q.with_matcher(Matcher("level", "=~", "error|warn")) == q  # no duplicate
    q = q.without_matcher(Matcher("level", "=~", "error|warn")).without_label("pod")
    assert q.to_logql() == '{namespace="shop", app=~"checkout|payments"}'
    q = q.set_label("app", [])
    assert q.to_logql() == '{namespace="shop"}'
    with pytest.raises(QueryShapeError, match="last label matcher"):
        q.without_label("namespace")
    with pytest.raises(QueryShapeError, match="no matcher"):
        q.without_matcher(Matcher("app", "=", "x"))


def test_line_filter_operations_go_before_other_stages() -> None:
    q = parse_query('{app="x"} |= "a" | json | status >= 500')
    q = q.with_filter("!=", "healthz").with_filter("|~", "time(out|d out)")
    assert q.to_logql() == ('{app="x"} |= "a" != "healthz" |~ "time(out|d out)" '
                            '| json | status >= 500')
    assert q.with_filter("!=", "healthz") == q
    q = q.without_filter("|=", "a")
    assert q.to_logql() == '{app="x"} != "healthz" |~ "time(out|d out)" | json | status >= 500'
    with pytest.raises(QueryShapeError, match="no line filter"):
        q.without_filter("|=", "a")
    pattern = parse_query('{app="x"}').with_filter("|>", "<_> level=error <_>")
    assert pattern.to_logql() == '{app="x"} |> "<_> level=error <_>"'


def test_or_alternatives_and_trailing_comma() -> None:
    q = parse_query('{app="x",} |= "a" or `b` !> "c"')
    assert q.filters[0] == TextFilter("|=", ("a", "b"))
    assert q.to_logql() == '{app="x"} |= "a" or `b` !> "c"'


def test_labels_and_values_from_outside_are_printed_safely() -> None:
    hostile = "\x1b]52;c;cm0=\x07\u202e\x9b\t\"quoted\" \\back"
    q = parse_query('{app="x"}').set_label("pod", [hostile])
    text = q.to_logql()
    assert is_terminal_safe(text, multiline=False) and "\x1b" not in text and "\u202e" not in text
    assert '\\x1b' in text and "\\u202e" in text and "\\u009b" in text
    assert parse_query(text) == q
    with pytest.raises(QueryShapeError, match="surrogate"):
        quote("\ud800")


@pytest.mark.parametrize(("query", "why"), [
    ('sum by (level) (count_over_time({app="x"}[1m]))', "metric query"),
    ('rate({app="x"}[5m])', "metric query"),
    ("{}", "at least one label matcher"),
    ("", "empty"),
    ('{"service.name"="x"}', "a label name"),
    ('{app.x="y"}', "a label name"),
    ('{app="x" # comment\n}', "',' or '}'"),
    ('{app="x"} foo', "pipeline stage"),
    ('{app="x"} [5m]', "pipeline stage"),
    ('{app="x"} | json)', "unbalanced"),
    ('{app="x"} | label_format a=(b', "unbalanced"),
    ('{app="x} ', "unterminated string"),
    ('{app=`x} ', "unterminated string"),
    ('{app="\\q"}', "invalid escape"),
    ('{app="\\xff"}', "above"),
    ('{app="\\ud800"}', "unicode escape"),
    ('{app="x" app2="y"}', "',' or '}'"),
    ('{app=x}', "a quoted value"),
    ('{app=="x"}', "=, !=, =~ or !~"),
    ('{app="x"} |= "a" or', "pipeline stage"),
])
def test_refused_with_a_clear_reason(query: str, why: str) -> None:
    with pytest.raises(QueryShapeError, match=why.replace("(", r"\(").replace(")", r"\)")):
        parse_query(query)
    assert try_parse(query) is None


def test_rest_kept_verbatim_including_functions_and_comments() -> None:
    q = parse_query('{app="x"} |= ip("10.0.0.0/8") | json # why\n | line_format "{{.msg}} )"')
    assert q.filters == ()
    assert q.rest == '|= ip("10.0.0.0/8") | json # why\n | line_format "{{.msg}} )"'
    assert parse_query(q.to_logql()) == q


def test_go_strings() -> None:
    assert go_unquote(r"a\tb\n\\\"\x41\101\u00e9\U0001F600") == 'a\tb\n\\"AAé😀'
    assert quote("plain") == '"plain"'
    assert quote("a\\b", "`") == "`a\\b`"
    assert quote("back`tick", "`") == '"back`tick"'
    assert quote("tab\there") == '"tab\\there"'
    assert regex_escape("a.b*c") == r"a\.b\*c"


def test_matcher_values_only_for_literal_alternations() -> None:
    assert matcher_values(Matcher("a", "=", "x")) == ["x"]
    assert matcher_values(Matcher("a", "=~", r"x|y\.z|w\\")) == ["x", "y.z", "w\\"]
    assert matcher_values(Matcher("a", "=~", "x.*")) is None
    assert matcher_values(Matcher("a", "=~", r"\d+")) is None
    assert matcher_values(Matcher("a", "!=", "x")) is None
    assert matcher_values(values_matcher("a", ["p\\", "q|"])) == ["p\\", "q|"]
    assert parse_query('{a="x", a!="y"}').label_values("a") is None


def test_problem_like_loki() -> None:
    assert parse_query('{app=~".*"}').problem() is not None
    assert parse_query('{app=~".+"}').problem() is None
    assert parse_query('{app=""}').problem() is not None
    assert parse_query('{app!="x", env="prod"}').problem() is None


def test_simulator_reads_the_printed_query_the_same_way() -> None:
    q = parse_query('{namespace="shop"}').set_label("app", ["checkout", "payments"]) \
        .with_filter("|=", "level=error").with_filter("!~", "retry (budget|later)")
    sim = parse_logql(q.to_logql())
    assert [(n, op, v) for n, op, v, _rx in sim.matchers] == [
        ("namespace", "=", "shop"), ("app", "=~", "checkout|payments")]
    assert [(op, v) for op, v, _rx in sim.filters] == [("|=", "level=error"),
                                                       ("!~", "retry (budget|later)")]


# ------------------------------------------------------------------------ property tests

NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
VALUES = st.text(st.characters(exclude_categories=("Cs",)), max_size=16)
QUOTES = st.sampled_from(['"', "`"])
RESTS = st.sampled_from(["", "| json", '| logfmt | level="error"', "| json | status >= 500",
                         '| line_format "{{.msg}}"', '|= ip("10.0.0.1")'])


@st.composite
def shaped_queries(draw: st.DrawFn) -> ShapedQuery:
    matchers = tuple(Matcher(draw(NAMES), draw(st.sampled_from(MATCHER_OPS)), draw(VALUES),
                             draw(QUOTES)) for _ in range(draw(st.integers(1, 4))))
    filters = []
    for _ in range(draw(st.integers(0, 3))):
        n = draw(st.integers(1, 3))
        filters.append(TextFilter(draw(st.sampled_from(FILTER_OPS)),
                                  tuple(draw(VALUES) for _ in range(n)),
                                  tuple(draw(QUOTES) for _ in range(n))))
    return ShapedQuery(matchers, tuple(filters), draw(RESTS))


@settings(max_examples=400, deadline=None)
@given(shaped_queries())
def test_print_then_parse_gives_the_same_query(q: ShapedQuery) -> None:
    text = q.to_logql()
    assert is_terminal_safe(text, multiline=False)
    again = parse_query(text)
    assert again == q
    assert again.to_logql() == text


TOKENS = st.sampled_from(['{', '}', ',', '=', '!=', '=~', '!~', '|=', '|~', '|>', '!>', '|',
                          'app', 'level', 'or', 'json', '"x"', '"a\\"b"', '`r`', '"\\n"', '(',
                          ')', '[5m]', '#', ' ', '\n', '"', '`', 'sum', '1', '>'])


@settings(max_examples=600, deadline=None)
@given(st.one_of(st.text(max_size=60),
                 st.lists(TOKENS, max_size=24).map("".join),
                 st.lists(TOKENS, max_size=20).map(lambda t: '{app="x"} ' + " ".join(t))))
def test_parsing_anything_is_refused_or_stable(text: str) -> None:
    try:
        q = parse_query(text)
    except QueryShapeError as exc:
        assert "\n" not in str(exc) and is_terminal_safe(str(exc))
        return
    printed = q.to_logql()
    assert parse_query(printed).to_logql() == printed
    assert parse_query(printed) == q


@settings(max_examples=200, deadline=None)
@given(NAMES, st.lists(VALUES, min_size=1, max_size=5))
def test_values_matcher_reads_back(name: str, values: list[str]) -> None:
    assume(all(v for v in values))
    q = parse_query('{job="x"}').set_label(name if name != "job" else "job2", values)
    label = name if name != "job" else "job2"
    assert parse_query(q.to_logql()).label_values(label) == list(dict.fromkeys(values))
