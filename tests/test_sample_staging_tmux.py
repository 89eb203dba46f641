"""The ``staging`` sample context through the real cockpit in tmux: every header badge resolves
(no "○ prom …" for ever), and no pane says two contradictory things; a provider that no pane
uses is probed, against a REAL Prometheus: ok while it answers, not ok once it is gone."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from prom_helpers import have_prometheus, start_server
from tmux_helpers import TmuxPane, cockpit_argv

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
CONTRADICTIONS = ("failed to start", "every incident provider is failing")


def header(screen: str) -> str:
    return screen.splitlines()[0] if screen else ""


def resolved(screen: str, providers: tuple[str, ...]) -> bool:
    """Every provider's badge says ok, stale or error: none is still "…" (waiting)."""
    top = header(screen)
    return "…" not in top and "○" not in top and all(
        any(f"{mark} {name}" in top for mark in "●▲✖") for name in providers)


def test_sample_staging_badges_resolve_and_panes_agree(tmp_path: Path) -> None:
    command = (f"env SRE_COCKPIT_DATA_DIR={tmp_path / 'data'} "
               f"{cockpit_argv(REPO / 'sample_config.yaml', '--context', 'staging')}")
    with TmuxPane.start(command, cols=120, rows=40) as pane:
        # the SLO row is drawn by its pane, which gets the failed poll in a message after the
        # header has counted it (the feeds now poll while the panes are still being mounted)
        screen = pane.wait_for(lambda s: resolved(s, ("prom", "alerts"))
                               and "checkout-availa" in s, timeout=40)
        assert "READ-ONLY" in header(screen) and "ctx staging" in header(screen)
        # the context has an incident provider and an SLO: nothing claims they are missing
        assert "no incident provider configured" not in screen
        assert "no SLOs configured" not in screen


@pytest.mark.integration
@pytest.mark.skipif(not have_prometheus(), reason="prometheus/promtool not installed")
def test_a_provider_no_pane_uses_is_probed(tmp_path: Path) -> None:
    prom = start_server("# HELP up up\n# TYPE up gauge\nup 1 1795521600\n# EOF\n", tmp_path)
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "default_context": "staging", "refresh": {"slos": "1s"},
        "contexts": {"staging": {"read_only": True, "providers": {
            "prom": {"type": "prometheus", "url": prom.url, "timeout": "2s"}}}}}))
    config.chmod(0o600)
    command = f"env SRE_COCKPIT_DATA_DIR={tmp_path / 'data'} {cockpit_argv(config)}"
    try:
        with TmuxPane.start(command, cols=120, rows=40) as pane:
            screen = pane.wait_for(lambda s: "● prom ok" in header(s), timeout=30)
            assert "no incident provider configured" in screen
            assert not any(text in screen for text in CONTRADICTIONS)
            prom.stop()
            screen = pane.wait_for(lambda s: resolved(s, ("prom",))
                                   and "● prom" not in header(s), timeout=30)
            assert "no incident provider configured" in screen
            assert not any(text in screen for text in CONTRADICTIONS)
    finally:
        prom.stop()
