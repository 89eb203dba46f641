"""The simulator's PromQL lexer and parser: Prometheus 2.42's error text and column for malformed
queries, Go string escapes, and refusals of what the simulator does not evaluate.

The expected messages were read from a real Prometheus 2.42 (the version the simulator reports in
``/api/v1/status/buildinfo``); ``test_sim_promql_vs_prometheus.py`` asks a real one the same
queries over HTTP whenever the binary is installed.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator

import pytest
from sim_helpers import SimHandle, http, launch_simulator

from sre_cockpit.simulator import promql
from sre_cockpit.simulator.promql_ast import StringLit, VectorSel
from sre_cockpit.simulator.promql_lexer import lex

# query -> Prometheus 2.42's error, after 'invalid parameter "query": '
PROMETHEUS_ERRORS = {
    "sum(rate(up[5m])": "1:17: parse error: unclosed left parenthesis",
    "sum(": "1:5: parse error: unclosed left parenthesis",
    "(": "1:2: parse error: unclosed left parenthesis",
    "up)": "1:4: parse error: unexpected right parenthesis ')'",
    ")": "1:2: parse error: unexpected right parenthesis ')'",
    "sum(up) )": "1:10: parse error: unexpected right parenthesis ')'",
    "up]": "1:3: parse error: unexpected right bracket ']'",
    "up}": "1:3: parse error: unexpected character: '}'",
    "up[5m": "1:6: parse error: unclosed left bracket",
    "up{a": "1:5: parse error: unexpected end of input inside braces",
    'up{a="b"': "1:9: parse error: unexpected end of input inside braces",
    "up{,}": '1:4: parse error: unexpected "," in label matching, expected identifier or "}"',
    "1 +": "1:4: parse error: unexpected end of input",
    "up == bool": "1:11: parse error: unexpected end of input",
    "1 2": '1:3: parse error: unexpected number "2"',
    "(1 2)": '1:4: parse error: unexpected number "2"',
    "abs(up up": '1:8: parse error: unexpected identifier "up"',
    "(up)[5m]": "1:5: parse error: ranges only allowed for vector selectors",
    "((up))[5m]": "1:7: parse error: ranges only allowed for vector selectors",
    "up[5m][5m]": "1:7: parse error: ranges only allowed for vector selectors",
    "rate(up[0s])": "1:9: parse error: duration must be greater than 0",
    '-"a"': '1:1: parse error: unary expression only allowed on expressions of type scalar or '
            'instant vector, got "string"',
    "-up[5m]": '1:1: parse error: unary expression only allowed on expressions of type scalar or '
               'instant vector, got "range vector"',
    "rate(up)": '1:6: parse error: expected type range vector in call to function "rate", got '
                "instant vector",
    "histogram_quantile(0.9, up[5m])": "1:25: parse error: expected type instant vector in call to "
                                       'function "histogram_quantile", got range vector',
    "abs()": '1:1: parse error: expected 1 argument(s) in call to "abs", got 0',
    "rate(up[5m],)": "1:12: parse error: trailing commas not allowed in function call args",
    "sum(up, 1, 2)": "1:1: parse error: wrong number of arguments for aggregate expression "
                     "provided, expected 1, got 3",
    "sum by (a) (up) by (b)": "1:17: parse error: unexpected <by>",
    "sum(up) by (a) without (b)": "1:16: parse error: unexpected <without>",
    "sum by (a) up": '1:12: parse error: unexpected identifier "up" in aggregation',
    "sum(up[5m])": "1:5: parse error: expected type instant vector in aggregation expression, got "
                   "range vector",
    "up[5m] + 1": "1:1: parse error: binary expression must contain only scalar and instant vector "
                  "types",
    "1 + up[5m]": "1:5: parse error: binary expression must contain only scalar and instant vector "
                  "types",
    "up + on(a) 1": "1:1: parse error: vector matching only allowed between instant vectors",
    "up * bool up": "1:4: parse error: bool modifier can only be used on comparison operators",
    "1 > 2": "1:3: parse error: comparisons between scalars must use BOOL modifier",
    'up{a="\\8"}': "1:6: parse error: unknown escape sequence U+0038 '8'",
    'up{a="\\x4"}': "1:6: parse error: illegal character U+0022 '\"' in escape sequence",
    '"abc': "1:1: parse error: unterminated quoted string",
    "`abc": "1:1: parse error: unterminated raw string",
    "": "1:1: parse error: no expression found in input",
}


@pytest.mark.parametrize(("query", "message"), PROMETHEUS_ERRORS.items(),
                         ids=[repr(q) for q in PROMETHEUS_ERRORS])
def test_malformed_query_gets_prometheus_text_and_column(query: str, message: str) -> None:
    with pytest.raises(promql.ParseError) as info:
        promql.parse(query)
    assert str(info.value) == message


def test_a_syntax_error_before_an_unclosed_paren_is_reported_first() -> None:
    # the lexer's end-of-input error waits until the parser reads that far, as in Prometheus
    with pytest.raises(promql.ParseError) as info:
        promql.parse("sum(1 2")
    assert str(info.value) == '1:7: parse error: unexpected number "2" in aggregation'
    tokens = lex("sum(1 2")
    assert [t.kind for t in tokens] == ["ident", "op", "num", "num", "err"]
    assert (tokens[-1].col, tokens[-1].text) == (8, "unclosed left parenthesis")


def test_go_escapes_in_label_values() -> None:
    expr = promql.parse('up{a="\\x41\\101\\u0041\\U00000041\\t\\"", b=\'\\\'\', c=`\\n`}')
    assert isinstance(expr, VectorSel)
    values = {m.name: m.value for m in expr.matchers}
    assert values == {"__name__": "up", "a": 'AAAA\t"', "b": "'", "c": "\\n"}
    literal = promql.parse('"\\u00e9\\a"')
    assert isinstance(literal, StringLit) and literal.value == "é\a"


@pytest.mark.parametrize("query", ["(up)[5m:1m]", "sum(up)[5m:]", "up[5m:1m]", "up offset 5m",
                                   "up @ 100", "topk(2, up)",
                                   "up + on(a) group_left up"])
def test_what_prometheus_accepts_but_the_simulator_cannot_evaluate_says_so(query: str) -> None:
    with pytest.raises(promql.ParseError) as info:
        promql.parse(query)
    assert "not supported by the sre-cockpit simulator" in str(info.value)


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    handle = launch_simulator(seed=3)
    yield handle
    handle.stop()


@pytest.mark.parametrize("query", ["rate(up[0s])", "sum(", 'up{a="\\8"}', "(up)[5m]"])
def test_the_running_simulator_answers_400_bad_data_not_500(sim: SimHandle, query: str) -> None:
    # rate(up[0s]) used to escape the parser as a ValueError: HTTP 500 and a traceback
    for path in ("/api/v1/query", "/api/v1/query_range"):
        params = {"query": query, "start": "1000", "end": "1060", "step": "15"}
        status, _h, raw = http("GET", f"{sim.url}{path}?" + urllib.parse.urlencode(params))
        assert status == 400, (path, raw)
        assert json.loads(raw) == {"status": "error", "errorType": "bad_data",
                                   "error": f'invalid parameter "query": {PROMETHEUS_ERRORS[query]}'}
