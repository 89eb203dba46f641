"""Layering rule: the core, the providers and the headless paths never import Textual."""

from __future__ import annotations

import importlib.util
import pkgutil
import subprocess
import sys

import sre_cockpit.providers

CORE = ["models", "config", "configfile", "durations", "sanitize", "polling", "runtime", "slo", "timeline",
        "journal", "slo_eval", "timeline_feed", "logstream", "simulator", "snapshot", "resources",
        "postmortem", "signals", "sloth", "cli", "commands", "commands.check",
        "commands.snapshot", "commands.providers", "commands.logs", "commands.postmortem",
        "commands.simulate", "commands.demo", "keyids", "themenames", "notes_store",
        "notes_store.records", "notes_store.safefile", "notes_store.db", "notes_store.legacy",
        "notes_store.drafts", "notes_store.store", "notes_store.journal", "notes_store.outbox"]


def core_modules() -> list[str]:
    names = [f"sre_cockpit.{m}" for m in CORE]
    names += [f"sre_cockpit.providers.{m.name}"
              for m in pkgutil.iter_modules(sre_cockpit.providers.__path__)]
    sim = importlib.util.find_spec("sre_cockpit.simulator")
    if sim is not None and sim.submodule_search_locations:
        names += [f"sre_cockpit.simulator.{m.name}"
                  for m in pkgutil.iter_modules(sim.submodule_search_locations)]
    return [n for n in names if importlib.util.find_spec(n) is not None]


def test_core_modules_do_not_import_textual() -> None:
    modules = core_modules()
    assert "sre_cockpit.config" in modules and "sre_cockpit.providers.http" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "    if 'textual' in sys.modules:\n"
        "        print('textual imported by', name)\n"
        "        raise SystemExit(1)\n"
        "print('ok', len(sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("ok")
