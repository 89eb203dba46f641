"""Shared test fixtures (owned by the lead; area helpers live in tests/<area>_helpers.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/<area>_helpers.py importable


def _fixtures_dir() -> Path:
    env = os.environ.get("SRE_COCKPIT_FIXTURES")
    candidates = [Path(env)] if env else []
    candidates += [REPO.parent / "shared" / "fixtures", REPO / "tests" / "fixtures"]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise RuntimeError("recorded fixtures not found: expected ../shared/fixtures next to the repo "
                       "(or set SRE_COCKPIT_FIXTURES)")


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """The recorded wire payloads (``../shared/fixtures``)."""
    return _fixtures_dir()


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the developer's real config or journal from a test."""
    base = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("SRE_COCKPIT_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(base / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(base / "xdg-data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(base / "xdg-state"))
    monkeypatch.delenv("SRE_COCKPIT_CONFIG", raising=False)
