"""Provider registry: entry points listed without importing, suggestions for unknown types,
broken third-party plugins reported as one warning line (never a crash)."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from config_helpers import FakeProvider

from sre_cockpit.providers import registry
from sre_cockpit.providers.base import Provider

BUILTINS = {"prometheus", "loki", "alertmanager", "pagerduty", "http"}


@pytest.fixture
def plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Three fake third-party plugins on sys.path, declared as entry points: one good, one
    that raises at import, one that is not a Provider subclass."""
    (tmp_path / "good_plugin.py").write_text(textwrap.dedent("""
        from sre_cockpit.providers.base import Provider, StrictModel
        class Opts(StrictModel):
            type: str
        class Good(Provider):
            TYPE = "good"
            Options = Opts
        """))
    (tmp_path / "crashing_plugin.py").write_text("raise RuntimeError('boom\\nsecond line')\n")
    (tmp_path / "wrong_plugin.py").write_text("class NotAProvider:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    extra = [
        importlib.metadata.EntryPoint("good", "good_plugin:Good", registry.GROUP),
        importlib.metadata.EntryPoint("crashing", "crashing_plugin:X", registry.GROUP),
        importlib.metadata.EntryPoint("wrong", "wrong_plugin:NotAProvider", registry.GROUP),
        importlib.metadata.EntryPoint("missing", "no_such_plugin_module:X", registry.GROUP),
    ]
    original = registry._entry_points
    monkeypatch.setattr(registry, "_entry_points", lambda: [*original(), *extra])
    registry.reset()
    yield tmp_path
    registry.reset()
    for name in ("good_plugin", "crashing_plugin", "wrong_plugin"):
        sys.modules.pop(name, None)


def test_builtins_are_declared_through_entry_points() -> None:
    assert set(registry.available()) >= BUILTINS
    infos = {i.name: i for i in registry.plugins()}
    assert infos["prometheus"].builtin
    assert infos["prometheus"].module == "sre_cockpit.providers.prometheus"


def test_listing_does_not_import_plugins() -> None:
    code = ("import sys; from sre_cockpit.providers import registry; registry.plugins(); "
            "registry.available(); "
            "print(sorted(m for m in sys.modules if m.startswith('sre_cockpit.providers.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "['sre_cockpit.providers.base', 'sre_cockpit.providers.registry']"


def test_unknown_type_suggests() -> None:
    with pytest.raises(registry.UnknownProviderType) as info:
        registry.load_provider_class("promethus")
    assert str(info.value) == "unknown provider type 'promethus' (did you mean 'prometheus'?)"
    with pytest.raises(registry.UnknownProviderType) as info:
        registry.load_provider_class("zzzz")
    assert str(info.value).startswith("unknown provider type 'zzzz' (known types: ")
    assert "prometheus" in str(info.value)


def test_good_third_party_plugin_loads(plugins: Path) -> None:
    cls = registry.load_provider_class("good")
    assert issubclass(cls, Provider) and cls.TYPE == "good"
    assert registry.load_provider_class("good") is cls
    info = {i.name: i for i in registry.plugins()}["good"]
    assert not info.builtin and info.module == "good_plugin"
    assert registry.warnings() == []


def test_broken_plugins_are_one_warning_line_each(plugins: Path) -> None:
    with pytest.raises(registry.BrokenProvider) as info:
        registry.load_provider_class("crashing")
    assert str(info.value) == ("provider plugin 'crashing' (crashing_plugin:X) cannot be loaded: "
                               "RuntimeError: boom")
    with pytest.raises(registry.BrokenProvider) as info:
        registry.load_provider_class("wrong")
    assert str(info.value) == ("provider plugin 'wrong' (wrong_plugin:NotAProvider) is not a "
                               "Provider subclass (got type)")
    with pytest.raises(registry.BrokenProvider):
        registry.load_provider_class("missing")
    with pytest.raises(registry.BrokenProvider):
        registry.load_provider_class("crashing")  # twice: still one warning
    warnings = registry.warnings()
    assert len(warnings) == 3
    assert all("\n" not in w for w in warnings)
    assert warnings[2] == ("provider plugin 'missing' (no_such_plugin_module:X) cannot be loaded: "
                           "ModuleNotFoundError: No module named 'no_such_plugin_module'")
    # the good plugin still works next to the broken ones
    assert registry.load_provider_class("good").TYPE == "good"
    registry.clear_warnings()
    assert registry.warnings() == []


def test_broken_plugin_in_cli_is_a_failed_row_and_one_stderr_line(
        plugins: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sre_cockpit.cli.main import main

    config = tmp_path / "c.yaml"
    config.write_text("contexts:\n  p:\n    providers:\n      c: {type: crashing}\n"
                      "      g: {type: good}\n")
    assert main(["check", "--config", str(config)]) == 1
    out, err = capsys.readouterr()
    assert "c     crashing  FAIL" in out
    assert "g     good      FAIL" in out  # Good has no probe(): a failed row, not a crash
    assert "not implemented by this provider" in out
    assert err.count("cannot be loaded: RuntimeError: boom") == 1
    assert "Traceback" not in out + err


def test_providers_command_verbose_reports_load_status(
        plugins: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sre_cockpit.cli.main import main

    assert main(["providers"]) == 0
    out = capsys.readouterr().out
    assert "crashing" in out and "not loaded" in out and "third-party" in out
    assert main(["providers", "--verbose"]) == 1
    out, err = capsys.readouterr()
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert lines["crashing"].endswith("broken: RuntimeError: boom")
    assert "broken: not a Provider subclass" not in lines["wrong"]
    assert "is not a Provider subclass" in lines["wrong"]
    assert lines["good"].endswith("ok (none)")
    assert err == ""  # already in the table: not repeated on stderr


def test_register_hook_wins_and_validates() -> None:
    registry.register("prometheus-test", FakeProvider)
    try:
        assert registry.load_provider_class("prometheus-test") is FakeProvider
        assert "prometheus-test" in registry.known_types()
    finally:
        registry.unregister("prometheus-test")
    with pytest.raises(TypeError):
        registry.register("x", object)  # type: ignore[arg-type]


def test_builtin_wins_a_name_clash(monkeypatch: pytest.MonkeyPatch) -> None:
    impostor = importlib.metadata.EntryPoint("prometheus", "evil_plugin:Prom", registry.GROUP)
    original = registry._entry_points
    monkeypatch.setattr(registry, "_entry_points", lambda: [impostor, *original()])
    registry.reset()
    try:
        assert registry.available()["prometheus"].value == (
            "sre_cockpit.providers.prometheus:PrometheusProvider")
        assert registry.warnings() == [
            "provider plugin 'prometheus': declared twice (sre_cockpit.providers.prometheus:"
            "PrometheusProvider and evil_plugin:Prom); using sre_cockpit.providers.prometheus:"
            "PrometheusProvider"]
    finally:
        registry.reset()


def test_unreadable_metadata_is_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(group: str) -> list[importlib.metadata.EntryPoint]:
        raise ValueError("bad METADATA")

    monkeypatch.setattr(importlib.metadata, "entry_points", broken)
    registry.reset()
    try:
        assert registry.available() == {}
        assert registry.warnings() == ["cannot read provider plugin entry points: ValueError: "
                                       "bad METADATA"]
    finally:
        registry.reset()
