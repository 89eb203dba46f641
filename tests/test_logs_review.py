"""Reviewer regression: a Loki that never answered is an error, not "stale"."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from loki_helpers import make_runtime
from textual.app import App, ComposeResult

from sre_cockpit.core.models import HealthState
from sre_cockpit.ui.logs.view import LogPane
from sre_cockpit.ui.pane import HealthLine


class _App(App[None]):
    def __init__(self, runtime: Any) -> None:
        super().__init__()
        self.runtime = runtime

    def compose(self) -> ComposeResult:
        yield LogPane(id="logs")

    def on_mount(self) -> None:
        self.query_one(LogPane).attach(self.runtime)


def _refused_url() -> str:
    with socket.socket() as sock:  # bound then closed: connections to it are refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


async def test_loki_refusing_from_the_start_is_an_error_not_stale() -> None:
    # `simulate --fault loki:refuse`: the header badge read "loki stale" although no line had
    # ever arrived; stale means "showing older data", and there was none.
    app = _App(make_runtime(_refused_url()))
    async with app.run_test(size=(100, 24)) as pilot:
        healths = app.query_one(LogPane).query_one(HealthLine).healths
        for _ in range(300):
            await pilot.pause(0.02)
            health = healths.get("loki")
            if health is not None and health.mode == "reconnecting":
                break
        await asyncio.sleep(0)
        health = healths["loki"]
        assert health.mode == "reconnecting", health
        assert health.state is HealthState.ERROR and health.error
