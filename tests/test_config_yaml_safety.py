"""What the config's YAML reader (``sre_cockpit/config/yamlread.py``) accepts and refuses, and where
it says a problem is: tags, aliases and their expansion count, ``<<`` merges, anchors, keys,
documents. Through the real process: ``tests/test_config_edges_commands.py``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from big_config import big_config_text
from config_helpers import error_of, write

import sre_cockpit.config.yamlread as configyaml
from sre_cockpit.config.model import load_config
from sre_cockpit.config.yamlread import MAX_ALIAS_NODES, YamlProblem, parse_yaml

ALLOWED = "allowed tags: !!bool, !!float, !!int, !!null, !!str"


def _problem(text: str) -> tuple[int | None, int | None, str, str]:
    with pytest.raises(YamlProblem) as info:
        parse_yaml(text)
    err = info.value
    return err.line, err.col, ".".join(str(p) for p in err.loc), err.message


# ------------------------------------------------------------------------------------ tags


@pytest.mark.parametrize(("text", "tag"), [
    ("user: !!binary aGVsbG8=", "!!binary"), ("user: !!timestamp 2024-01-01", "!!timestamp"),
    ("user: !!python/name:os.system", "!!python/name:os.system"), ("user: !vault x", "!vault"),
    ("user: !<tag:example.com,2024:secret> x", "tag:example.com,2024:secret"),
])
def test_non_standard_scalar_tags_are_refused(text: str, tag: str) -> None:
    assert _problem(text) == (1, 7, "user", f"unsupported YAML tag {tag!r} (a config value is "
                                            f"text, a number, true/false or null; {ALLOWED})")


@pytest.mark.parametrize(("text", "tag"), [
    ("a: !!set {x}", "!!set"), ("a: !!omap [x]", "!!omap"),
    ("a: !!python/object:os.system {}", "!!python/object:os.system"), ("a: !mine [1]", "!mine"),
])
def test_tagged_collections_are_refused(text: str, tag: str) -> None:
    assert _problem(text) == (1, 4, "a", f"unsupported YAML tag {tag!r}")


def test_tagged_keys_are_refused() -> None:
    assert _problem("!!binary a: b") == (1, 1, "", "unsupported YAML tag '!!binary' on a key")


def test_standard_tags_work() -> None:
    data = parse_yaml("a: !!str 5\nb: !!int '7'\nc: !!float 1\nd: !!bool yes\ne: !!null ''\n"
                      "f: !!map {x: 1}\ng: !!seq [1]\nh: ! 5\n").data
    assert data == {"a": "5", "b": 7, "c": 1.0, "d": True, "e": None, "f": {"x": 1}, "g": [1],
                    "h": 5}


@pytest.mark.parametrize(("text", "message"), [
    ("a: !!int abc", "invalid !!int value 'abc': not a whole number"),
    ("a: !!bool maybe", "invalid !!bool value 'maybe': not true or false"),
    ("a: !!float x", "invalid !!float value 'x': not a number"),
    ("a: " + "9" * 5000, f"invalid !!int value '{'9' * 39}…': too many digits (quote it to "
                         "write text)"),
    ("a: 2024-13-45", "invalid !!timestamp value '2024-13-45': month must be in 1..12 (quote it "
                      "to write text)"),
    ("a: .nan", "NaN is not a valid value"),
])
def test_scalars_that_cannot_be_built_are_located_errors(text: str, message: str) -> None:
    """(Before: a bad implicit timestamp or a 5000-digit number raised ValueError out of the
    loader: an internal error, not a config error.)"""
    assert _problem(text) == (1, 4, "a", message)


def test_implicit_types_are_yaml_1_1_as_before() -> None:
    data = parse_yaml("a: 2024-01-01\nb: yes\nc: 0x10\nd: ~\ne: '5'\nf: =\ng: <<\n").data
    assert data == {"a": dt.date(2024, 1, 1), "b": True, "c": 16, "d": None, "e": "5", "f": "=",
                    "g": "<<"}


# ------------------------------------------------------------------------ aliases, merges


def test_aliases_work_and_count_what_they_add() -> None:
    parsed = parse_yaml("base: &b {x: 1, y: [1, 2]}\none: *b\ntwo: *b\n")
    assert parsed.data["one"] == parsed.data["two"] == {"x": 1, "y": [1, 2]}
    assert parsed.alias_nodes == 2 * 5  # a mapping, two scalars, a list and its two items


def test_an_alias_bomb_is_stopped_at_the_alias_that_crosses_the_limit() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    line, col, where, message = _problem("\n".join(lines))
    assert (line, col, where) == (6, 10, "a5.0")
    assert message == (f"aliases expand to more than {MAX_ALIAS_NODES} nodes (an alias bomb?); "
                       "write the repeated parts out or use fewer aliases")


def test_many_honest_aliases_load() -> None:
    """5,000 SLOs sharing one alerting list (16 nodes each): 80,000 alias nodes."""
    rules = ("rules: &r [{long: 1h, short: 5m, burn_rate: 14.4, severity: critical}, "
             "{long: 6h, short: 30m, burn_rate: 6, severity: critical}, "
             "{long: 3d, short: 6h, burn_rate: 1, severity: warning}]\n")
    text = rules + "slos:\n" + "".join(f"  - {{name: s{i}, alerting: *r}}\n" for i in range(5000))
    parsed = parse_yaml(text)
    assert parsed.alias_nodes == 5000 * 16 < MAX_ALIAS_NODES
    assert parsed.data["slos"][4999]["alerting"][2]["severity"] == "warning"


@pytest.mark.parametrize(("text", "expected"), [
    ("a: &x [*x]", (1, 8, "a.0", "recursive alias *x (it is inside the node it names)")),
    ("a: *y", (1, 4, "a", "undefined alias *y (define it first with &y)")),
    ("a: &x 1\nb: &x 2", (2, 4, "b", "duplicate anchor &x (first defined on line 1)")),
    ("a: &x 1\n*x : 3", (2, 1, "", "a mapping key must be a plain string, not an alias")),
    ("? [a]\n: b", (1, 3, "", "a mapping key must be a plain string, not a list or mapping")),
    ("a: 1\na: 2", (2, 1, "a", "duplicate key 'a' (first defined on line 1)")),
    ("a: 1\n---\nb: 2", (2, 1, "", "a config is one YAML document; found a second one ('---')")),
    ("<<: 5", (1, 5, "", "'<<' merges only mappings (a mapping, an alias of one, or a list of "
                         "them)")),
    ("x: &l [1]\n<<: [*l]", (2, 6, "", "'<<' merges only mappings (a mapping, an alias of one, "
                                       "or a list of them)")),
])
def test_refused_structures(text: str, expected: tuple[int, int, str, str]) -> None:
    assert _problem(text) == expected


def test_merges_explicit_keys_win_then_earlier_merges() -> None:
    text = ("a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\n"
            "c:\n  <<: [*a, *b]\n  x: 3\n"
            "d:\n  <<: {w: 4}\n  <<: *b\n")
    data = parse_yaml(text).data
    assert data["c"] == {"x": 3, "y": 1, "z": 2}
    assert data["d"] == {"w": 4, "y": 2, "z": 2}


def test_positions_of_aliased_values(tmp_path: Path) -> None:
    path = write(tmp_path, """
        contexts:
          prod:
            providers:
              a: &prom {type: prometheus, url: 'http://h', timeout: 0s}
              b: *prom
              c:
                <<: *prom
                timeout: 5x
        """)
    with pytest.raises(Exception) as info:
        load_config(path)
    lines = [str(info.value), *info.value.more]  # type: ignore[attr-defined]
    assert lines == [
        # a's own text, b's alias (the value is a's text), c's explicit key wins over the merge
        f"{path}:4:61: contexts.prod.providers.a.timeout: must be greater than 0",
        f"{path}:4:61: contexts.prod.providers.b.timeout: must be greater than 0",
        f"{path}:8:18: contexts.prod.providers.c.timeout: invalid duration '5x': use a number "
        "and a unit (ms, s, m, h, d, w, y), e.g. 15s, 5m, 30d",
    ]


# ----------------------------------------------------------------------- syntax, parsers


def test_syntax_errors_keep_the_python_parsers_wording() -> None:
    """libyaml says "found character that cannot start any token"; the Python parser says it
    is a tab. Its wording is used when it stops at the same place."""
    assert _problem("contexts:\n\tprod: {}\n") == (
        2, 1, "", "invalid YAML: found character '\\t' that cannot start any token")
    assert _problem("contexts: " + "[" * 3000 + "]" * 3000) == (
        1, 1010, "", "invalid YAML: nested too deeply")


def test_block_nesting_is_limited_with_its_path() -> None:
    text = "".join("  " * i + f"k{i}:\n" for i in range(60)) + "  " * 60 + "v\n"
    line, col, where, message = _problem(text)
    assert (line, col, message) == (51, 101, "nested more than 50 levels deep")
    assert where.endswith("k49") and where.count(".") == 49


@pytest.mark.parametrize("sample", ["sample", "big"])
def test_libyaml_and_the_python_parser_give_the_same_result(monkeypatch: pytest.MonkeyPatch,
                                                            sample: str) -> None:
    if sample == "sample":
        text = (Path(__file__).parents[1] / "sample_config.yaml").read_text()
    else:
        text = big_config_text(300_000)
    assert configyaml.Loader is yaml.CSafeLoader  # the wheels ship libyaml
    fast = parse_yaml(text)
    monkeypatch.setattr(configyaml, "Loader", yaml.SafeLoader)
    slow = parse_yaml(text)
    assert (fast.data, fast.values, fast.keys) == (slow.data, slow.values, slow.keys)
    assert fast.data == yaml.safe_load(text)


def test_the_sample_config_still_loads() -> None:
    config = load_config(Path(__file__).parents[1] / "sample_config.yaml")
    assert set(config.contexts) == {"prod", "staging"}


def test_error_messages_keep_the_file_position(tmp_path: Path) -> None:
    path = write(tmp_path, "contexts: {prod: {}}\nuser: !!binary aGVsbG8=\n")
    assert error_of(path) == (f"{path}:2:7: user: unsupported YAML tag '!!binary' (a config "
                              f"value is text, a number, true/false or null; {ALLOWED})")
