"""The recorded fixtures are vendored in tests/fixtures so a clone runs its tests on its own; when
the shared originals sit beside the repo, the copy must be identical (no silent drift)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "fixtures"
VENDORED = REPO / "tests" / "fixtures"


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/fixtures not beside this clone")
def test_vendored_fixtures_equal_the_shared_originals() -> None:
    shared = {p.name: p.read_bytes() for p in SHARED.iterdir() if p.is_file()}
    vendored = {p.name: p.read_bytes() for p in VENDORED.iterdir() if p.is_file()}
    assert sorted(vendored) == sorted(shared)
    assert [name for name in shared if shared[name] != vendored[name]] == []
