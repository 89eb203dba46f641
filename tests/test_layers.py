"""The package layout is the architecture: these tests read every module's imports (``ast``, all
imports, including the ones inside functions and under ``TYPE_CHECKING``) and hold the layers to
their rules. Nothing here is a list of modules: a new module is checked by the folder it is in.

    core       models, durations, sanitiser, maths        imports nothing of the cockpit
    providers  capability protocols, HTTP, plugins        core
    config     schema, files, Sloth import                core, providers (base, registry, http)
    feeds      polling, streams, journal, runtime         core, providers, config
    reports    snapshot, postmortem                       core, config, feeds
    ui         the Textual app and its views              core, config, feeds (not polling,
                                                          runtime, journal), reports
    cli        commands                                   everything
    simulator  the local backends                         core
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "sre_cockpit"

ALLOWED: dict[str, set[str]] = {
    "core": {"core"},
    "providers": {"core", "providers"},
    "config": {"core", "providers", "config"},
    "feeds": {"core", "providers", "config", "feeds"},
    "reports": {"core", "config", "feeds", "reports"},
    "ui": {"core", "config", "feeds", "reports", "ui"},
    "cli": {"core", "providers", "config", "feeds", "reports", "ui", "cli", "simulator"},
    "simulator": {"core", "simulator"},
    "": {"cli"},  # sre_cockpit/__init__.py and __main__.py
}
"""Which layers a layer may import from."""

UI_FORBIDDEN = ("sre_cockpit.feeds.polling", "sre_cockpit.feeds.runtime",
                "sre_cockpit.feeds.journal", "sre_cockpit.feeds.notes_store",
                "sre_cockpit.providers")
"""The views never poll, build providers, open the journal or talk to a provider."""

HEADLESS = {"core", "providers", "config", "feeds", "reports", "simulator"}
"""Layers that never import Textual (the CLI's headless commands and the feeds run without it)."""

PROVIDER_INFRA = {"sre_cockpit.providers", "sre_cockpit.providers.base",
                  "sre_cockpit.providers.registry", "sre_cockpit.providers.http",
                  "sre_cockpit.providers.incident_util", "sre_cockpit.providers.redaction",
                  "sre_cockpit.providers.credentials"}
"""The only provider modules other layers may name: a concrete provider is reached through
its capability protocols, never by its class or module."""

MAX_LINES = 500
"""A module longer than this is split (a view and its rendering helpers, a provider and its
decoders)."""

OVERSIZED: dict[str, int] = {
    "sre_cockpit.ui.incidents.view": 546,
}
"""Modules still over :data:`MAX_LINES`, each capped at its length when it was listed: they may
only shrink (and leave the list once under the limit); nothing new joins them."""

TRANSITIONAL: set[tuple[str, str]] = set()
"""(importer, imported) pairs that break a rule while the feeds redesign lands in stages; it
only shrinks, and is empty when the redesign is done."""


TRANSITIONAL_TYPE_NAMES: set[str] = set()
"""Views that still pick their providers by ``type:`` until the feeds redesign moves that out."""


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        yield ".".join(parts), path


def layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and PACKAGE.joinpath(parts[1]).is_dir()) else ""


def imports_of(module: str, path: Path, *, typing_only: bool = True) -> set[str]:
    """Every module ``module`` imports (absolute names; ``from x import y`` gives ``x.y`` when
    ``x.y`` is a module, else ``x``). ``typing_only=False`` leaves out the imports under
    ``if TYPE_CHECKING:`` (annotations only: they make no cycle at run time)."""
    tree = ast.parse(path.read_text("utf-8"), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    skipped: set[int] = set()
    if not typing_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                skipped.update(id(n) for child in node.body for n in ast.walk(child))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if _is_module(candidate) else base)
    return found


def _is_module(name: str) -> bool:
    if not name.startswith("sre_cockpit"):
        return False
    rel = PACKAGE.parent.joinpath(*name.split("."))
    return rel.with_suffix(".py").is_file() or (rel / "__init__.py").is_file()


GRAPH = {name: imports_of(name, path) for name, path in modules()}
"""Every import, annotations included (the layering rules)."""
RUNTIME_GRAPH = {name: imports_of(name, path, typing_only=False) for name, path in modules()}
"""The imports that run (the cycle rule)."""


def _violations() -> list[str]:
    problems: list[str] = []
    for importer, imported in GRAPH.items():
        layer = layer_of(importer)
        for target in sorted(imported):
            pair = (importer, target)
            if pair in TRANSITIONAL:
                continue
            if target.split(".")[0] == "textual":
                if layer in HEADLESS:
                    problems.append(f"{importer} ({layer}) imports {target}")
                continue
            if not target.startswith("sre_cockpit."):
                continue
            target_layer = layer_of(target)
            if target_layer not in ALLOWED.get(layer, set()):
                problems.append(f"{importer} ({layer or 'top'}) imports {target} "
                                f"({target_layer or 'top'})")
            elif layer == "ui" and target.startswith(UI_FORBIDDEN):
                problems.append(f"{importer} (ui) imports {target}")
            elif (target_layer == "providers" and layer != "providers"
                  and target not in PROVIDER_INFRA):
                problems.append(f"{importer} names the concrete provider module {target}")
    return problems


def test_every_layer_imports_only_what_it_may() -> None:
    assert {layer_of(m) for m in GRAPH} >= {"core", "providers", "config", "feeds", "reports",
                                            "ui", "cli", "simulator"}
    problems = _violations()
    assert not problems, "\n".join(problems)


def test_transitional_exceptions_are_still_needed() -> None:
    """An exception that no longer breaks a rule is dropped from the list."""
    for importer, imported in TRANSITIONAL:
        assert imported in GRAPH.get(importer, set()), f"{importer} -> {imported} is gone"


def _cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in RUNTIME_GRAPH.get(node, ()):
            if nxt not in RUNTIME_GRAPH or (node, nxt) in TRANSITIONAL:
                continue
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in GRAPH:
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles() -> None:
    cycles = [c for c in _cycles() if not any(m.endswith("__init__") for m in c)]
    assert not cycles, "\n".join(" <-> ".join(c) for c in cycles)


def test_no_module_names_a_concrete_provider_by_type_string() -> None:
    """Outside ``providers/`` (and the simulator, which *is* those backends, and the CLI's
    sample-config writer), no code compares a provider's ``type:`` string."""
    names = ("prometheus", "loki", "alertmanager", "pagerduty")
    problems = []
    for module, path in modules():
        layer = layer_of(module)
        if layer in ("providers", "simulator", "cli") or module in TRANSITIONAL_TYPE_NAMES:
            continue
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare):
                for side in [node.left, *node.comparators]:
                    for const in ast.walk(side):
                        if isinstance(const, ast.Constant) and const.value in names:
                            problems.append(f"{module}:{node.lineno} compares with {const.value!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_headless_layers_really_run_without_textual() -> None:
    """Import every headless module in a fresh interpreter: Textual must not load."""
    headless = [m for m in GRAPH if layer_of(m) in HEADLESS or m in ("sre_cockpit",)]
    headless += [m for m in GRAPH if layer_of(m) == "cli" and m.split(".")[-1] in
                 ("main", "common", "check", "snapshot", "providers", "logs", "postmortem",
                  "simulate", "demo")]
    code = (
        "import importlib, sys\n"
        f"for name in {sorted(headless)!r}:\n"
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


def test_modules_stay_under_the_line_limit() -> None:
    problems = []
    for module, path in modules():
        lines = len(path.read_text("utf-8").splitlines())
        cap = OVERSIZED.get(module, MAX_LINES)
        if lines > cap:
            problems.append(f"{module}: {lines} lines (limit {cap})")
        elif module in OVERSIZED and lines <= MAX_LINES:
            problems.append(f"{module} is under {MAX_LINES} lines now: remove it from OVERSIZED")
    assert not problems, "\n".join(problems)
