"""``sre-cockpit`` command line: global options, subcommands, and the one place that turns
errors into one line on stderr and an exit status (2 bad input, 1 failure, 130 Ctrl-C).

Subcommands are modules ``sre_cockpit.cli.<name>`` with ``HELP``, ``add_arguments(parser)``
and ``run(args) -> int``. A module that does not exist (yet) is left out silently; no subcommand
runs the cockpit UI (``sre_cockpit.cli.tui``).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from types import ModuleType
from typing import Any, NoReturn

from sre_cockpit import __version__

COMMANDS: tuple[str, ...] = (
    "check",
    "snapshot",
    "providers",
    "simulate",
    "demo",
    "logs",
    "postmortem",
)
"""Subcommand module names, in the order ``--help`` lists them."""

UI_COMMAND = "tui"
DEBUG_ENV = "SRE_COCKPIT_DEBUG"
PROG = "sre-cockpit"


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors on one line (``sre-cockpit check: unrecognized …``)."""

    def error(self, message: str) -> NoReturn:
        one_line = " ".join(message.split())
        self.exit(2, f"{self.prog}: {one_line} (see '{self.prog} --help')\n")


class _BrokenCommand:
    """Stands in for a command module that exists but fails to import."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        self.HELP = f"(unavailable: {reason})"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)

    def run(self, args: argparse.Namespace) -> int:
        print(f"{PROG}: internal error: command {self.name!r} cannot be loaded: {self.reason}",
              file=sys.stderr)
        return 1


def _import_command(name: str) -> ModuleType | _BrokenCommand | None:
    module_name = f"sre_cockpit.cli.{name}"
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return None
        return _BrokenCommand(name, f"{type(exc).__name__}: {exc}")
    except Exception as exc:
        return _BrokenCommand(name, f"{type(exc).__name__}: {exc}".splitlines()[0])


def _global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """Options accepted before and after the subcommand (``sre-cockpit check --config x``)."""
    default: Any = argparse.SUPPRESS if suppress else None
    parser.add_argument("--config", metavar="FILE", default=default,
                        help="config file (default: $SRE_COCKPIT_CONFIG, then the platform "
                             "config dir, e.g. ~/.config/sre-cockpit/config.yaml)")
    parser.add_argument("--context", metavar="NAME", default=default,
                        help="context to use (default: default_context in the config)")
    parser.add_argument("--read-only", action="store_true",
                        default=argparse.SUPPRESS if suppress else False,
                        help="never change anything (no ack, resolve, note or silence)")
    parser.add_argument("--low-bandwidth", action="store_true",
                        default=argparse.SUPPRESS if suppress else False,
                        help="repaint at most once a second (slow SSH links)")


def _first_positional(argv: Sequence[str]) -> str | None:
    """The subcommand word in ``argv`` (skipping global options and their values), if any."""
    takes_value = {"--config", "--context", "--theme"}
    skip = False
    for token in argv:
        if skip:
            skip = False
            continue
        if token == "--":
            return None
        if token in takes_value:
            skip = True
            continue
        if token.startswith("-"):
            continue
        return token
    return None


def build_parser(argv: Sequence[str] | None = None) -> tuple[argparse.ArgumentParser,
                                                              dict[str, Any]]:
    """The argument parser and the command modules it dispatches to.

    Only the modules ``argv`` needs are imported: the chosen subcommand's, or the cockpit UI's
    when there is none (so headless commands never import Textual); ``--help``, an unknown
    word or ``argv=None`` import them all.
    """
    parser = _Parser(
        prog=PROG,
        description="A terminal incident cockpit: incidents, logs, SLO burn rates and a "
                    "timeline on one screen. Without a command, opens the cockpit.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    _global_options(parser, suppress=False)
    wanted: Sequence[str] = COMMANDS
    want_ui = True
    if argv is not None:
        word = _first_positional(argv)
        asks_help = any(t in ("-h", "--help") for t in argv)
        if word in COMMANDS:
            wanted, want_ui = (word,), False
        elif word is None and not asks_help:
            wanted = ()
    modules: dict[str, Any] = {}
    if want_ui:
        ui = _import_command(UI_COMMAND)
        if ui is not None and not isinstance(ui, _BrokenCommand):
            with contextlib.suppress(argparse.ArgumentError):  # an option we already provide
                ui.add_arguments(parser)
        modules[UI_COMMAND] = ui
    else:  # known here too, or "--theme X check" reads as the unknown command "X"
        parser.add_argument("--theme", metavar="NAME", default=None, help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in wanted:
        module = _import_command(name)
        if module is None:
            continue
        help_text = str(getattr(module, "HELP", ""))
        child = sub.add_parser(name, help=help_text, description=help_text)
        _global_options(child, suppress=True)
        module.add_arguments(child)
        modules[name] = module
    return parser, modules


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status (never raises, never prints a traceback unless
    ``SRE_COCKPIT_DEBUG=1``)."""
    from sre_cockpit.cli.common import UsageError
    from sre_cockpit.config.files import ConfigError  # not config: its models load after the UI

    debug = os.environ.get(DEBUG_ENV, "") not in ("", "0")
    try:
        if argv is None:
            argv = sys.argv[1:]
        parser, modules = build_parser(argv)
        args = parser.parse_args(argv)
        name = args.command or UI_COMMAND
        module = modules.get(name)
        if name != UI_COMMAND and getattr(args, "theme", None) is not None:
            raise UsageError(f"--theme applies to the cockpit UI only, not to '{name}'")
        if name != UI_COMMAND:
            logging.basicConfig(level=logging.WARNING, format=f"{PROG}: %(message)s")
            from sre_cockpit.providers.http import install_log_redaction

            install_log_redaction()
            _tolerant_streams()
        if module is None:
            print(f"{PROG}: the cockpit UI is not available in this build; try "
                  f"'{PROG} check' or '{PROG} --help'", file=sys.stderr)
            return 2
        status = int(module.run(args))
    except ConfigError as exc:
        _say(str(exc))
        status = 2
    except UsageError as exc:
        _say(f"{PROG}: {exc}")
        status = 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        status = 130
    except BrokenPipeError:
        _silence_stdout()
        status = 141
    except SystemExit as exc:  # argparse: --help, --version, usage errors (already printed)
        code = exc.code
        status = code if isinstance(code, int) else (0 if code is None else 2)
    except Exception as exc:
        if debug:
            traceback.print_exc()
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())
        _say(f"{PROG}: internal error: {reason} (run with {DEBUG_ENV}=1 for a traceback)")
        status = 1
    _print_plugin_warnings()
    return status


def _print_plugin_warnings() -> None:
    from sre_cockpit.providers import registry

    for line in registry.warnings():
        _say(f"{PROG}: warning: {line}")
    registry.clear_warnings()


def _say(line: str) -> None:
    """One terminal-safe, redacted line on stderr (config text and plugin errors are untrusted)."""
    from sre_cockpit.core.sanitize import sanitize_line
    from sre_cockpit.providers.http import redact

    with contextlib.suppress(OSError, ValueError):
        print(sanitize_line(redact(line), max_bytes=None), file=sys.stderr)


def _tolerant_streams() -> None:
    """Never die on a character the terminal's encoding cannot show (e.g. LANG=C, "—")."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(Exception):
                reconfigure(errors="backslashreplace")


def _silence_stdout() -> None:
    """After EPIPE (``| head``), stop Python from complaining when it flushes stdout at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
