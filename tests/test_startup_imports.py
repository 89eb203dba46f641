"""What the first frame imports: the cockpit's UI and its first frame leave the providers, the
HTTP stack, pydantic, the notes store and the simulator for after it.

These imports cost ~0.25 s before the first frame when ``ui.commands`` pulled in the postmortem
export (notes store → providers' HTTP layer → httpx, pydantic). The figure itself is the
benchmark's job (``benchmarks/startup.py``); this only keeps the heavy modules out.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

NOT_BEFORE_THE_FIRST_FRAME = (
    "httpx", "pydantic", "aiohttp", "sqlite3", "sre_cockpit.providers.base",
    "sre_cockpit.providers.http", "sre_cockpit.feeds.notes_store", "sre_cockpit.feeds.journal",
    "sre_cockpit.config.model", "sre_cockpit.simulator", "sre_cockpit.reports.export",
)


def loaded_after(code: str) -> set[str]:
    """Modules (of the list above) imported by ``code`` in a fresh interpreter."""
    probe = (f"{code}\nimport sys\n"
             f"print(' '.join(m for m in {NOT_BEFORE_THE_FIRST_FRAME!r} if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=60, check=True)
    return set(result.stdout.split())


def test_the_ui_and_the_tui_command_import_nothing_heavy() -> None:
    assert loaded_after("import sre_cockpit.ui.app, sre_cockpit.cli.tui") == set()


def test_the_signal_handlers_import_no_notes_store() -> None:
    # installed on the UI thread right after the first frame, before the feeds load in a thread
    assert loaded_after("import sre_cockpit.feeds.signals") == set()


def test_the_ui_reaches_them_once_it_builds_the_feeds() -> None:
    # the list is not vacuous: building the cockpit does load them
    loaded = loaded_after("import sre_cockpit.ui.app, sre_cockpit.feeds.cockpit")
    assert {"httpx", "pydantic", "sre_cockpit.providers.http"} <= loaded


def test_the_header_drawn_before_the_ui_needs_no_textual(tmp_path: Path) -> None:
    # peek (the quick read of the config) and the pre-frame run before Textual is imported
    config = tmp_path / "config.yaml"
    config.write_text("contexts:\n  prod:\n    providers: {prom: {type: prometheus, url: x}}\n")
    code = ("import sys\nfrom pathlib import Path\nfrom sre_cockpit.cli import tui, preframe\n"
            f"boot = tui.peek(Path({str(config)!r}), context=None, read_only=False, "
            "low_bandwidth=False, theme=None)\n"
            "assert boot is not None and boot.danger and tui.shipped_theme(boot.theme)\n"
            "preframe.header_line(boot, 80)\n"
            "print(sorted(m for m in ('textual', 'rich', 'pydantic', 'httpx') "
            "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=True, env={**os.environ,
                                                         "XDG_CONFIG_HOME": str(tmp_path)})
    assert result.stdout.strip() == "[]"
