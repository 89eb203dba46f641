"""Helpers for the config/CLI tests: write a config, load it, capture the one-line error, and a
tiny in-process provider registered through the registry's test hook."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import ClassVar

from sre_cockpit.config.model import ConfigError, load_config
from sre_cockpit.core.models import Incident, ProbeResult
from sre_cockpit.providers.base import Capability, Provider, ProviderError
from sre_cockpit.providers.http import HttpOptions

CANARY = "canary-S3cr3t-7f3a9c"


def write(directory: Path, text: str, name: str = "config.yaml") -> Path:
    """Write dedented YAML and return its path."""
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def error_of(path: Path | str | None) -> str:
    """The one-line ConfigError message of loading ``path`` (fails if it loads)."""
    try:
        load_config(path)
    except ConfigError as exc:
        text = str(exc)
        assert "\n" not in text
        return text
    raise AssertionError(f"{path} loaded but should have failed")


class FakeOptions(HttpOptions):
    """Options of the fake provider: the HTTP options plus a query."""

    query: str | None = None
    fail: bool = False


class FakeProvider(Provider):
    """A provider that answers from memory (fails when ``fail: true``)."""

    TYPE: ClassVar[str] = "fake"
    Options: ClassVar[type[FakeOptions]] = FakeOptions
    CAPABILITIES: ClassVar[frozenset[Capability]] = frozenset({Capability.INCIDENTS, Capability.METRICS})
    incidents: ClassVar[list[Incident]] = []

    def _error(self) -> ProviderError:
        extra = f" for query {self.options.query}" if self.options.query else ""
        return ProviderError(f"{self.name}: HTTP 503 from {self.options.url}{extra}")

    async def probe(self) -> ProbeResult:
        if self.options.fail:
            raise self._error()
        return ProbeResult(self.name, self.TYPE, True, 1.5, detail="fake 1.0")

    async def list_incidents(self) -> list[Incident]:
        if self.options.fail:
            raise self._error()
        return list(self.incidents)
