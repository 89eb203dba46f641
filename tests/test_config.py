"""Config loader: good configs load; every bad one is refused with one exact line
``FILE:LINE:COL: key.path: what is wrong`` and never shows a secret."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from config_helpers import CANARY, FakeProvider, error_of, write

from sre_cockpit.config.model import (
    ConfigError,
    default_config_path,
    load_config,
    load_for_cli,
    resolve_config_path,
    resolve_context,
)
from sre_cockpit.providers import registry

GOOD = """
default_context: prod
contexts:
  prod:
    read_only: false
    providers:
      prom:   {type: fake, url: "http://127.0.0.1:9090"}
      pd:     {type: fake, url: "https://api.example.com", auth: {bearer_token: "${env:PD_TOKEN}"}}
    slos:
      - name: checkout-availability
        provider: prom
        objective: 99.9
        window: 30d
        error_query: sum(rate(x{code=~"5.."}[{{.window}}]))
        total_query: sum(rate(x[{{.window}}]))
  staging:
    read_only: true
refresh: {incidents: 15s, slos: 500ms, timeline: 1h30m}
ui: {theme: war-room}
"""


@pytest.fixture(autouse=True)
def fake_provider() -> Iterator[None]:
    registry.register("fake", FakeProvider)
    yield
    registry.unregister("fake")


def test_good_config_loads_with_durations_and_env(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PD_TOKEN", CANARY)
    path = write(tmp_path, GOOD)
    config = load_config(path)
    assert config.source == str(path)
    assert config.default_context == "prod"
    assert list(config.contexts) == ["prod", "staging"]
    assert config.refresh.incidents == 15.0
    assert config.refresh.slos == 0.5
    assert config.refresh.timeline == 5400.0
    slo = config.contexts["prod"].slos[0]
    assert slo.window == 30 * 86400 and slo.objective == 99.9
    assert config.contexts["prod"].providers["pd"]["auth"]["bearer_token"] == CANARY
    assert config.contexts["staging"].read_only is True


def test_secret_file_reference_with_tilde(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    secret = tmp_path / ".pd-token"
    secret.write_text(CANARY + "\n")
    secret.chmod(0o600)
    path = write(tmp_path, """
        contexts:
          prod:
            providers:
              pd: {type: fake, url: "http://h", auth: {bearer_token: "${file:~/.pd-token}"}}
        """)
    config = load_config(path)
    assert config.contexts["prod"].providers["pd"]["auth"]["bearer_token"] == CANARY


def test_env_default_escape_and_untouched_templates(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOPE_UNSET", raising=False)
    monkeypatch.setenv("TENANT", "team-a")
    path = write(tmp_path, """
        contexts:
          prod:
            providers:
              prom:
                type: fake
                url: "http://h"
                headers: {X-Scope-OrgID: "${env:TENANT}", X-Other: "${env:NOPE_UNSET:-fallback}"}
                query: 'label_replace(up, "x", "${1}", "job", "(.*)") $${env:LITERAL}'
        """)
    prov = load_config(path).contexts["prod"].providers["prom"]
    assert prov["headers"] == {"X-Scope-OrgID": "team-a", "X-Other": "fallback"}
    assert prov["query"] == 'label_replace(up, "x", "${1}", "job", "(.*)") ${env:LITERAL}'


def test_merge_keys_and_anchors(tmp_path: Path) -> None:
    path = write(tmp_path, """
        base: &base {type: fake, timeout: 3s}
        contexts:
          prod:
            providers:
              a: {<<: *base, url: "http://a"}
              b: {<<: *base, url: "http://b", timeout: 5s}
        """)
    # "base" is not a config key: anchors must live inside known keys
    assert error_of(path) == f"{path}:1:1: base: unknown key 'base'"
    path = write(tmp_path, """
        contexts:
          prod:
            providers:
              a: &base {type: fake, url: "http://a", timeout: 3s}
              b: {<<: *base, url: "http://b", timeout: 5s}
        """)
    providers = load_config(path).contexts["prod"].providers
    assert providers["b"] == {"type": "fake", "url": "http://b", "timeout": "5s"}


def test_sample_config_loads() -> None:
    from sre_cockpit.core.resources import sample_config_path

    config = load_config(sample_config_path())
    assert config.default_context in config.contexts
    prod = config.contexts["prod"]
    assert set(prod.providers) == {"prom", "loki", "alerts", "pd"}
    assert len(prod.slos) == 2


# ------------------------------------------------------------------------- bad configs


BAD: list[tuple[str, str, str]] = [
    ("unknown top-level key",
     "defualt_context: prod\ncontexts: {prod: {}}\n",
     "1:1: defualt_context: unknown key 'defualt_context' (did you mean 'default_context'?)"),
    ("unknown provider option",
     "contexts:\n  prod:\n    providers:\n      prom: {type: fake, url: 'http://h', timout: 5s}\n",
     "4:43: contexts.prod.providers.prom.timout: unknown key 'timout' (did you mean 'timeout'?)"),
    ("unknown nested key",
     "contexts:\n  prod:\n    slos:\n      - name: a\n        provider: p\n        objective: 99\n"
     "        total_query: t\n        eror_query: e\n",
     "8:9: contexts.prod.slos[0].eror_query: unknown key 'eror_query' (did you mean 'error_query'?)"),
    ("bad duration",
     "contexts: {prod: {}}\nrefresh:\n  incidents: 15x\n",
     "3:14: refresh.incidents: invalid duration '15x': use a number and a unit (ms, s, m, h, d, "
     "w, y), e.g. 15s, 5m, 30d"),
    ("zero timeout",
     "contexts:\n  prod:\n    providers:\n      prom: {type: fake, url: 'http://h', timeout: 0s}\n",
     "4:52: contexts.prod.providers.prom.timeout: must be greater than 0"),
    ("YAML syntax error",
     "contexts:\n  prod: {providers: {a: 1}\n",
     "3:1: invalid YAML: expected ',' or '}', but got '<stream end>'"),
    ("tab indentation",
     "contexts:\n\tprod: {}\n",
     "2:1: invalid YAML: found character '\\t' that cannot start any token"),
    ("wrong type",
     "contexts:\n  prod:\n    read_only: maybe\n",
     "3:16: contexts.prod.read_only: expected true or false"),
    ("list instead of mapping",
     "contexts:\n  prod:\n    providers: [prom]\n",
     "3:16: contexts.prod.providers: expected a mapping (got a list)"),
    ("unknown provider type",
     "contexts:\n  prod:\n    providers:\n      prom: {type: promethus, url: 'http://h'}\n",
     "4:20: contexts.prod.providers.prom.type: unknown provider type 'promethus' (did you mean "
     "'prometheus'?)"),
    ("provider without type",
     "contexts:\n  prod:\n    providers:\n      prom: {url: 'http://h'}\n",
     "4:13: contexts.prod.providers.prom: required key 'type' is missing (e.g. type: prometheus)"),
    ("bad url",
     "contexts:\n  prod:\n    providers:\n      prom: {type: fake, url: 'localhost:9090'}\n",
     "4:31: contexts.prod.providers.prom.url: must be an http:// or https:// URL with a host, "
     "e.g. http://127.0.0.1:9090"),
    ("two auth methods",
     "contexts:\n  prod:\n    providers:\n      p:\n        type: fake\n        url: http://h\n"
     "        auth:\n          bearer_token: abc\n          basic: {username: u, password: pw}\n",
     "8:11: contexts.prod.providers.p.auth: set either bearer_token or basic, not both"),
    ("SLO naming a missing provider",
     "contexts:\n  prod:\n    providers:\n      prom: {type: fake, url: 'http://h'}\n    slos:\n"
     "      - {name: a, provider: promm, objective: 99.9, error_query: e, total_query: t}\n",
     "6:29: contexts.prod.slos[0].provider: unknown provider 'promm' (did you mean 'prom'?); "
     "providers in context 'prod': prom"),
    ("SLO objective out of range",
     "contexts:\n  prod:\n    slos:\n      - {name: a, provider: p, objective: 120, "
     "error_query: e, total_query: t}\n",
     "4:43: contexts.prod.slos[0].objective: objective is a percentage between 0 and 100 "
     "(exclusive), e.g. 99.9; got 120"),
    ("SLO with both queries",
     "contexts:\n  prod:\n    slos:\n      - {name: a, provider: p, objective: 99, "
     "error_query: e, good_query: g, total_query: t}\n",
     "4:9: contexts.prod.slos[0]: error_query and good_query are mutually exclusive; keep one"),
    ("SLO missing total_query",
     "contexts:\n  prod:\n    slos:\n      - {name: a, provider: p, objective: 99, "
     "error_query: e}\n",
     "4:9: contexts.prod.slos[0].total_query: required key 'total_query' is missing"),
    ("duplicate SLO name",
     "contexts:\n  prod:\n    providers: {p: {type: fake, url: 'http://h'}}\n    slos:\n"
     "      - {name: a, provider: p, objective: 99, error_query: e, total_query: t}\n"
     "      - {name: a, provider: p, objective: 99, error_query: e, total_query: t}\n",
     "6:16: contexts.prod.slos[1].name: duplicate SLO name 'a' (also slos[0])"),
    ("bad default_context",
     "default_context: prd\ncontexts:\n  prod: {}\n  staging: {}\n",
     "1:18: default_context: unknown context 'prd' (did you mean 'prod'?); known contexts: "
     "prod, staging"),
    ("missing contexts",
     "ui: {theme: war-room}\n",
     "1:1: contexts: required key 'contexts' is missing"),
    ("empty contexts",
     "contexts: {}\n",
     "1:11: contexts: at least one context is required"),
    ("duplicate key",
     "contexts:\n  prod: {}\n  prod: {}\n",
     "3:3: contexts.prod: duplicate key 'prod' (first defined on line 2)"),
    ("top-level list",
     "- a\n- b\n",
     "1:1: expected a mapping at the top level, got a list"),
    ("unknown ui value",
     "contexts: {prod: {}}\nui: {timezone: mars}\n",
     "2:16: ui.timezone: expected 'utc' or 'local'"),
    ("service naming unknown SLO",
     "contexts:\n  prod:\n    services:\n      checkout: {slos: [avail]}\n",
     "4:25: contexts.prod.services.checkout.slos[0]: unknown SLO 'avail'"),
    ("deploy naming unknown provider",
     "contexts:\n  prod:\n    deploys:\n      - {provider: prom, query: q}\n",
     "4:20: contexts.prod.deploys[0].provider: unknown provider 'prom'; providers in context "
     "'prod': none"),
    ("null context",
     "contexts:\n  prod:\n",
     "2:8: contexts.prod: expected a mapping (got null)"),
    ("number where a string belongs",
     "contexts:\n  prod:\n    providers:\n      p: {type: fake, url: 'http://h', headers: {a: 1}}\n",
     "4:53: contexts.prod.providers.p.headers.a: expected a string (got a number)"),
    ("too deep",
     "contexts: " + "[" * 3000 + "]" * 3000 + "\n",
     "1:1010: invalid YAML: nested too deeply"),
    ("transposed letters",
     "contexts:\n  p:\n    services:\n      checkout: {lgos: x}\n",
     "4:18: contexts.p.services.checkout.lgos: unknown key 'lgos' (did you mean 'logs'?)"),
    ("misspelled required key explains the missing one",
     "contexts:\n  p:\n    providers:\n      a:\n        type: fake\n        url: http://h\n"
     "        auth: {basic: {username: u, pasword: x}}\n",
     "7:37: contexts.p.providers.a.auth.basic.pasword: unknown key 'pasword' (did you mean "
     "'password'?)"),
    ("python tag",
     "contexts: !!python/object:os.system {}\n",
     "1:11: contexts: unsupported YAML tag '!!python/object:os.system'"),
    ("unknown env-ish reference name",
     "contexts:\n  prod:\n    providers:\n      p: {type: fake, url: '${env:1BAD}'}\n",
     "4:28: contexts.prod.providers.p.url: ${env:1BAD}: not a valid environment variable name"),
]


@pytest.mark.parametrize(("text", "expected"), [(t, e) for _, t, e in BAD],
                         ids=[name for name, _, _ in BAD])
def test_bad_config_exact_message(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    assert error_of(path) == f"{path}:{expected}"


def test_first_error_in_file_order_and_the_rest_kept(tmp_path: Path) -> None:
    path = write(tmp_path, "contexts:\n  prod:\n    read_only: maybe\nrefresh: {slos: 1x}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}:3:16: contexts.prod.read_only:")
    assert info.value.more == [f"{path}:4:17: refresh.slos: invalid duration '1x': use a number "
                               "and a unit (ms, s, m, h, d, w, y), e.g. 15s, 5m, 30d"]


def test_unset_env_var_names_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PD_TOKEN", raising=False)
    path = write(tmp_path, """
        contexts:
          prod:
            providers:
              pd: {type: fake, url: "http://h", auth: {bearer_token: "${env:PD_TOKEN}"}}
        """)
    assert error_of(path) == (f"{path}:4:62: contexts.prod.providers.pd.auth.bearer_token: "
                              "environment variable PD_TOKEN is not set (referenced as "
                              "${env:PD_TOKEN})")


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_too_open_secret_file_is_refused_like_ssh(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text(CANARY)
    secret.chmod(0o644)
    path = write(tmp_path, """
        contexts:
          prod:
            providers:
              pd: {type: fake, url: "http://h", auth: {bearer_token: "${file:token}"}}
        """)
    message = error_of(path)
    assert message == (f"{path}:4:62: contexts.prod.providers.pd.auth.bearer_token: secret file "
                       f"{secret}: permissions 0644 are too open; chmod 600 {secret}")
    assert CANARY not in message
    secret.chmod(0o640)
    assert "permissions 0640 are too open" in error_of(path)
    secret.chmod(0o400)
    assert load_config(path).contexts["prod"].providers["pd"]["auth"]["bearer_token"] == CANARY


def test_missing_secret_file(tmp_path: Path) -> None:
    path = write(tmp_path, """
        contexts:
          prod:
            providers:
              pd: {type: fake, url: "http://h", auth: {bearer_token: "${file:/nonexistent/t}"}}
        """)
    assert error_of(path) == (f"{path}:4:62: contexts.prod.providers.pd.auth.bearer_token: "
                              "cannot read secret file /nonexistent/t: No such file or directory")


def test_missing_file_has_no_line(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    assert error_of(missing) == f"{missing}: cannot read: No such file or directory"


def test_directory_and_empty_file_and_binary(tmp_path: Path) -> None:
    assert error_of(tmp_path) == f"{tmp_path}: cannot read: Is a directory"
    empty = write(tmp_path, "", "empty.yaml")
    assert error_of(empty) == f"{empty}: the file is empty; expected a mapping with 'contexts'"
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"contexts:\n  prod: {}\n  \xff: 1\n")
    assert error_of(binary) == f"{binary}:3:3: not UTF-8 text (byte 0xff)"


def test_alias_bomb_is_refused(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    path = write(tmp_path, "\n".join(lines) + "\ncontexts: {prod: {}}\n")
    assert "alias bomb" in error_of(path)


def test_secret_values_never_appear_in_errors(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANARY_ENV", CANARY)
    secret = tmp_path / "tok"
    secret.write_text(CANARY)
    secret.chmod(0o600)
    cases = [
        # a secret used where a duration is expected: the duration error would echo it
        "contexts:\n  p:\n    providers:\n      a: {type: fake, url: 'http://h', "
        "timeout: '${env:CANARY_ENV}'}\n",
        "contexts:\n  p:\n    providers:\n      a: {type: fake, url: 'http://h', "
        "timeout: '${file:tok}'}\n",
        # a literal token in the file, next to an unrelated error
        "contexts:\n  p:\n    providers:\n      a: {type: fake, url: 'http://h', "
        f"auth: {{bearer_token: {CANARY}}}, tiemout: 1s}}\n",
        # a literal password in a URL that is invalid
        f"contexts:\n  p:\n    providers:\n      a: {{type: fake, url: 'ftp://u:{CANARY}@h'}}\n",
        # a secret in a mistyped ui value
        "contexts: {p: {}}\nui: {timezone: '${env:CANARY_ENV}'}\n",
        "contexts: {p: {}}\nrefresh: {slos: '${env:CANARY_ENV}'}\n",
    ]
    for i, text in enumerate(cases):
        path = write(tmp_path, text, f"c{i}.yaml")
        message = error_of(path)
        assert message.startswith(f"{path}:")
        assert CANARY not in message, message
    assert "invalid duration '***'" in error_of(tmp_path / "c0.yaml")


def test_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = write(tmp_path, "contexts: {env: {}}\n", "env.yaml")
    cli_file = write(tmp_path, "contexts: {cli: {}}\n", "cli.yaml")
    monkeypatch.setenv("SRE_COCKPIT_CONFIG", str(env_file))
    assert resolve_config_path(str(cli_file)) == cli_file
    assert resolve_config_path(None) == env_file
    assert list(load_config(None).contexts) == ["env"]
    monkeypatch.delenv("SRE_COCKPIT_CONFIG")
    default = default_config_path()
    assert resolve_config_path(None) == default
    assert default.name == "config.yaml" and "sre-cockpit" in str(default)
    assert error_of(None) == (f"{default}: cannot read: No such file or directory (no --config "
                              "given and $SRE_COCKPIT_CONFIG is not set)")
    default.parent.mkdir(parents=True)
    default.write_text("contexts: {platform: {}}\n")
    assert list(load_config(None).contexts) == ["platform"]


def test_context_selection(tmp_path: Path) -> None:
    path = write(tmp_path, "default_context: b\ncontexts: {a: {}, b: {}, prod-eu: {}}\n")
    config = load_config(path)
    assert resolve_context(config, None) == "b"
    assert resolve_context(config, "a") == "a"
    with pytest.raises(ConfigError) as info:
        resolve_context(config, "prod")
    assert str(info.value) == (f"{path}: --context: unknown context 'prod' (did you mean "
                               "'prod-eu'?); known contexts: a, b, prod-eu")

    class Args:
        config = str(path)
        context = "prod-eu"

    assert load_for_cli(Args())[1] == "prod-eu"
    no_default = write(tmp_path, "contexts: {x: {}, y: {}}\n", "nd.yaml")
    assert resolve_context(load_config(no_default), None) == "x"


def test_broken_builtin_plugin_is_not_a_config_error(tmp_path: Path) -> None:
    """A declared plugin whose module fails to import is reported by check, not by the loader."""
    import importlib.metadata

    ep = importlib.metadata.EntryPoint("ghost", "sre_cockpit_no_such_module:X",
                                       registry.GROUP)
    original = registry._entry_points
    registry._entry_points = lambda: [*original(), ep]  # type: ignore[assignment]
    try:
        path = write(tmp_path, "contexts:\n  p:\n    providers:\n      g: {type: ghost, x: 1}\n")
        assert load_config(path).contexts["p"].providers["g"] == {"type": "ghost", "x": 1}
    finally:
        registry._entry_points = original  # type: ignore[method-assign]
        registry.reset()


def test_plugin_validator_crash_is_a_config_error(tmp_path: Path) -> None:
    from config_helpers import FakeOptions
    from pydantic import field_validator

    class CrashingOptions(FakeOptions):
        @field_validator("url")
        @classmethod
        def _boom(cls, value: str) -> str:
            raise TypeError("plugin bug")

    class Crashing(FakeProvider):
        Options = CrashingOptions

    registry.register("crashing", Crashing)
    try:
        path = write(tmp_path, "contexts:\n  p:\n    providers:\n      c: {type: crashing, "
                               "url: 'http://h'}\n")
        assert error_of(path) == (f"{path}:4:10: contexts.p.providers.c: the crashing plugin "
                                  "rejected these options: TypeError: plugin bug")
    finally:
        registry.unregister("crashing")
