"""``sre-cockpit`` without a subcommand: open the cockpit TUI.

The CLI imports this module to build its parser even for headless commands, so Textual is only
imported inside ``run_tui``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import termios
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sre_cockpit.cli.common import UsageError
from sre_cockpit.cli.preframe import PreFrame
from sre_cockpit.core.heap import hold_collector

if TYPE_CHECKING:
    from sre_cockpit.config.model import Config
    from sre_cockpit.ui.boot import BootInfo

MAX_PEEK_BYTES = 4 * 1024 * 1024  # the full load's cap (configfile.MAX_CONFIG_BYTES)

TERMINAL_RESET = (
    "\x18"  # CAN: ends an escape sequence a frame may have been cut in the middle of
    "\x1b[?2026l"  # end of a synchronized update (else the terminal keeps waiting for one)
    "\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1015l\x1b[?1006l\x1b[?1016l"  # mouse reporting off
    "\x1b[?2004l"  # bracketed paste off
    "\x1b[?1004l"  # focus in/out reports off
    "\x1b[?2048l"  # in-band resize reports off
    "\x1b[<u"  # the kitty keyboard protocol's flags popped
    "\x1b[?7h"  # line wrap back on
    "\x1b[0m"  # attributes reset
    "\x1b[?1049l"  # back from the alternate screen to the shell's
    "\x1b[?25h"  # cursor shown
)
"""Everything the cockpit's terminal driver turns on, turned off (what Textual does on a normal
exit), for an exit that does not go through it."""

HELP = "open the cockpit (the default when no command is given)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the TUI on top of the global ``--config/--context/--read-only/--low-bandwidth``."""
    parser.add_argument("--theme", metavar="NAME", default=None,
                        help="colour theme for this run: war-room (default), daylight, "
                             "high-contrast, ansi-16, or one of yours in "
                             "~/.config/sre-cockpit/themes (overrides ui.theme)")


def run(args: argparse.Namespace) -> int:
    """Entry point used by ``sre_cockpit.cli.main``."""
    return run_tui(getattr(args, "config", None), context=getattr(args, "context", None),
                   read_only=bool(getattr(args, "read_only", False)),
                   low_bandwidth=bool(getattr(args, "low_bandwidth", False)),
                   theme=getattr(args, "theme", None))


def use_the_terminal_size() -> None:
    """Forget exported ``COLUMNS``/``LINES``: the cockpit draws at the terminal's real size.

    Textual sizes the screen with :func:`shutil.get_terminal_size`, which prefers those
    variables to the terminal; an exported ``COLUMNS=80`` (a script, a CI runner, a wrapper) in
    a 120-column tmux pane drew an 80-column cockpit beside stale cells, and the cockpit never
    followed a resize. They describe output that is not a terminal; ours is one.
    """
    for name in ("COLUMNS", "LINES"):
        os.environ.pop(name, None)


def run_tui(config_path: str | os.PathLike[str] | None, *, context: str | None,
            read_only: bool, low_bandwidth: bool, theme: str | None = None) -> int:
    """Load the config and run the cockpit until the operator quits.

    The header is drawn from a quick read of the YAML (context, provider names, theme, keys)
    before Textual even loads (:mod:`sre_cockpit.cli.preframe`); the UI's first frame follows
    from the same read, and the full validation, the provider plugins and the panes load right
    after it. A config that turns out invalid ends the UI with the usual one-line error.

    Args:
        config_path: ``--config`` (None: ``$SRE_COCKPIT_CONFIG``, then the platform dir).
        context: ``--context`` (None: ``default_context``).
        read_only: ``--read-only``.
        low_bandwidth: ``--low-bandwidth``.
        theme: ``--theme`` (None: ``ui.theme``).

    Returns:
        The exit status (0 normal quit, 128+N after signal N).

    Raises:
        ConfigError: invalid config or unknown context (the CLI prints one line, exit 2).
        UsageError: unknown theme or no terminal (one line, exit 2).
    """
    from sre_cockpit.config.files import resolve_config_path  # the schema loads after the frame

    path = resolve_config_path(config_path)
    boot = peek(path, context=context, read_only=read_only, low_bandwidth=low_bandwidth,
                theme=theme)
    if boot is None:  # the quick read failed: report the real error before the UI starts
        from sre_cockpit.config.model import load_config, resolve_context

        config = load_config(config_path)
        name = resolve_context(config, context)
        if theme is not None:
            config = config.model_copy(update={"ui": config.ui.model_copy(update={"theme": theme})})
        _check_theme(config.ui.theme, None if theme is not None else config.source)
    elif not shipped_theme(boot.theme):  # a shipped theme always loads: no Textual import yet
        _check_theme(boot.theme, None if theme is not None else str(path))
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError("the cockpit needs a terminal; for scripts use 'sre-cockpit snapshot'")
    use_the_terminal_size()
    frame_rate(low_bandwidth or (boot.low_bandwidth if boot is not None
                                 else config.ui.low_bandwidth))
    hold_collector()  # until the cockpit has started (the app then calls settle_heap)
    # The header goes on screen now; Textual, the app and its first layout take ~0.3 s more.
    frame = PreFrame.show(boot) if boot is not None else None
    try:
        from sre_cockpit.ui.app import boot_app, make_app

        if boot is None:
            app = make_app(config, name, read_only=read_only, low_bandwidth=low_bandwidth)
        else:
            def load() -> Config:
                from sre_cockpit.config.model import load_config

                loaded = load_config(config_path)
                if theme is not None:
                    loaded = loaded.model_copy(update={"ui": loaded.ui.model_copy(
                        update={"theme": theme})})
                if low_bandwidth and not loaded.ui.low_bandwidth:
                    loaded = loaded.model_copy(update={"ui": loaded.ui.model_copy(
                        update={"low_bandwidth": True})})
                return loaded

            app = boot_app(boot, load, read_only=read_only)
        restore = restore_terminal_on_sigquit()
    except BaseException:
        if frame is not None:
            frame.abort()
        raise
    if frame is not None:
        frame.release()  # Textual saves the terminal's modes as it finds them, to restore them
    try:
        result = app.run()
    finally:
        restore()
    if app.boot_error is not None:
        raise app.boot_error
    if app.return_code not in (None, 0):
        return int(app.return_code)
    return int(result or 0)


FRAME_RATE = 120
"""Most frames a second Textual draws (its default is 60), unless ``TEXTUAL_FPS`` is set."""


def frame_rate(low_bandwidth: bool) -> None:
    """Let Textual draw up to :data:`FRAME_RATE` frames a second (not with ``--low-bandwidth``,
    nor when ``TEXTUAL_FPS`` is set): call before Textual is imported.

    A frame is drawn on a timer of period 1/fps. A key pressed just after a frame (at 1,000 log
    lines a second, one is drawn for every batch of lines and every key) waited up to a whole
    period for the next one: at 60 fps key → paint was 32.9 ms at p95 and 42.2 ms at p99; at
    120 fps 23.9 and 30.0 ms (``benchmarks/run.py --quick --only 1k``). Frames are drawn only
    when something changed, so a quiet screen draws no more than before."""
    if not low_bandwidth:
        os.environ.setdefault("TEXTUAL_FPS", str(FRAME_RATE))


def restore_terminal_on_sigquit() -> Callable[[], None]:
    """Make SIGQUIT leave the terminal as it was before the cockpit started, then end the
    process as SIGQUIT does (status 131, "Quit" in the shell).

    SIGQUIT's default action ends the process on the spot, leaving the terminal in the
    alternate screen with mouse reporting on and no echo. The handler (a plain signal handler:
    it runs even while the event loop is busy) stops the cockpit's frames from reaching the
    terminal (its output descriptor now writes to /dev/null), writes :data:`TERMINAL_RESET`,
    restores the terminal's settings saved here, saves what the notes store and the note editor
    hold (``feeds.signals.flush_all``, at most ``EXIT_DEADLINE_S``), then re-delivers the signal
    with its default action.

    Returns:
        A function putting the previous handler back (after a normal exit).
    """
    in_fd = sys.__stdin__.fileno() if sys.__stdin__ is not None else 0
    out_fd = sys.__stderr__.fileno() if sys.__stderr__ is not None else 2  # Textual draws there
    try:
        saved: list[Any] | None = termios.tcgetattr(in_fd)
    except termios.error:
        saved = None

    def handle(signum: int, _frame: object) -> None:
        from sre_cockpit.feeds.signals import EXIT_DEADLINE_S, flush_all

        with contextlib.suppress(OSError):
            terminal = os.dup(out_fd)
            sink = os.open(os.devnull, os.O_WRONLY)
            os.dup2(sink, out_fd)  # a frame being written now goes nowhere, not after the reset
            os.close(sink)
            os.write(terminal, TERMINAL_RESET.encode())
            os.close(terminal)
        if saved is not None:
            with contextlib.suppress(termios.error, OSError):
                termios.tcsetattr(in_fd, termios.TCSANOW, saved)
        # the terminal is back first; a flush stuck on a hung disk cannot keep the process
        timer = threading.Timer(EXIT_DEADLINE_S, os._exit, args=(128 + signum,))
        timer.daemon = True
        timer.start()
        flush_all()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    previous = signal.signal(signal.SIGQUIT, handle)

    def restore() -> None:
        signal.signal(signal.SIGQUIT, previous)

    return restore


def peek(path: Path, *, context: str | None, read_only: bool, low_bandwidth: bool,
         theme: str | None) -> BootInfo | None:
    """What the first frame needs, from a plain YAML read (no schema, no plugins, no ``${…}``
    expansion). The file is read and parsed as the full load does (:mod:`sre_cockpit.core.regularfile`,
    :mod:`sre_cockpit.config.yamlread`): a FIFO, device or oversize file is never waited on or read.

    Returns:
        None when anything looks wrong: the caller then validates fully before starting.
    """
    from sre_cockpit.config.yamlread import parse_yaml
    from sre_cockpit.core.keyids import BINDING_IDS, binding_clashes, key_string_problem
    from sre_cockpit.core.regularfile import read_regular_file
    from sre_cockpit.ui.boot import BootInfo

    try:
        # never blocks on a FIFO, never reads a device or more than the cap, refuses what the
        # full load refuses (tags, alias bombs); any refusal falls back to the full load, which
        # words it
        text = read_regular_file(path, MAX_PEEK_BYTES).decode("utf-8-sig")
        data = parse_yaml(text).data
        contexts = data["contexts"]
        name = context or data.get("default_context") or next(iter(contexts))
        ctx = contexts[name]
        ctx = {} if ctx is None else ctx
        ui = data.get("ui") or {}
        keys = data.get("keys") or {}
        providers = ctx.get("providers") or {}
        if not (isinstance(name, str) and isinstance(ctx, dict) and isinstance(ui, dict)
                and isinstance(keys, dict) and isinstance(providers, dict)
                and all(isinstance(k, str) and isinstance(v, str) for k, v in keys.items())):
            return None
        if (any(k not in BINDING_IDS or key_string_problem(v) is not None
                for k, v in keys.items()) or binding_clashes(keys)):
            return None  # the full load says what is wrong before the UI starts
        danger = ctx.get("danger", False) is True
        lowered = name.lower()
        return BootInfo(
            context=name,
            danger=danger or any(word in lowered for word in ("prod", "prd", "live")),
            read_only=read_only or ctx.get("read_only", False) is True,
            providers=tuple(str(p) for p in providers),
            theme=str(theme or ui.get("theme") or "war-room"),
            keys=dict(keys),
            low_bandwidth=low_bandwidth or ui.get("low_bandwidth", False) is True)
    except Exception:  # anything odd: take the slow, fully validated path
        return None


def shipped_theme(wanted: str) -> bool:
    """A theme shipped with the cockpit that no user theme file replaces: it always loads (the
    tests load every shipped theme), so checking it can wait for the UI."""
    from sre_cockpit.core.themenames import shipped_theme_names, user_themes_dir

    try:
        return wanted in shipped_theme_names() and not (user_themes_dir()
                                                        / f"{wanted}.yaml").exists()
    except OSError:
        return False


def _check_theme(wanted: str, source: str | None) -> None:
    """``--theme`` / ``ui.theme`` must name a cockpit theme that loads (shipped, or the user's
    own under ``themes/`` in the config dir); Textual's built-in themes are refused.

    Args:
        wanted: the theme asked for.
        source: the config file that asked (None: ``--theme`` did).

    Raises:
        UsageError: one line naming the problem and the themes there are.
    """
    from sre_cockpit.core.suggest import did_you_mean
    from sre_cockpit.core.themenames import builtin_theme_problem
    from sre_cockpit.ui.themes import load_cockpit_themes

    themes, errors = load_cockpit_themes()
    if wanted in themes:
        return
    where = f"{source}: ui.theme" if source else "--theme"
    names = sorted(themes)
    listed = f"themes: {', '.join(names)}"
    broken = [error for error in errors if f"/{wanted}.yaml" in error.split(":", 1)[0]]
    if broken:  # its file is there but invalid: say what is wrong with it
        raise UsageError(f"{where}: theme {wanted!r} cannot be used: {broken[0]}")
    builtin = builtin_theme_problem(wanted)
    if builtin is not None:
        raise UsageError(f"{where}: {builtin}; {listed}")
    did = did_you_mean(wanted, names)
    raise UsageError(f"{where}: unknown theme {wanted!r}{did}; {listed}")
