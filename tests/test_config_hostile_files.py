"""Config files that are not what they seem: FIFOs, devices, oversize files, a huge honest file,
an alias bomb. Each is refused (or loaded) without blocking and without reading without end, by
the full load and by the TUI's fast start (``commands/tui.py`` ``peek``). The one-line errors
through every command: ``tests/test_config_edges_commands.py``."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyte
import pytest
from big_config import big_config_text, write_big_config
from config_helpers import error_of, write

from sre_cockpit.cli.tui import peek
from sre_cockpit.config.files import MAX_CONFIG_BYTES
from sre_cockpit.config.model import load_config
from sre_cockpit.config.yamlread import MAX_ALIAS_NODES, parse_yaml
from sre_cockpit.core.regularfile import (
    FileTooLarge,
    NotRegularFile,
    describe_mode,
    format_size,
    read_limited,
    read_regular_file,
)


def _within(seconds: float, call: Callable[[], Any]) -> Any:
    """``call()`` in a thread; fails (instead of hanging the suite) when it blocks."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"blocked for more than {seconds}s"
    if "error" in box:
        raise box["error"]
    return box.get("value")


# ------------------------------------------------------------------------- regularfile.py


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(NotRegularFile) as info:
        _within(5, lambda: read_regular_file(fifo, 100))
    assert str(info.value) == "a named pipe (FIFO), not a regular file"
    assert info.value.kind == "a named pipe (FIFO)" and not info.value.is_dir


def test_devices_directories_and_sockets_are_named(tmp_path: Path) -> None:
    with pytest.raises(NotRegularFile) as info:
        read_regular_file("/dev/zero", 100)
    assert info.value.kind == "a character device"
    with pytest.raises(NotRegularFile) as info:
        read_regular_file(tmp_path, 100)
    assert info.value.is_dir
    assert describe_mode(stat.S_IFSOCK) == "a socket"
    assert describe_mode(stat.S_IFBLK) == "a block device"


def test_size_is_capped_before_and_while_reading(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 101)
    with pytest.raises(FileTooLarge) as info:
        read_regular_file(path, 100)
    assert (info.value.size, info.value.limit) == (101, 100)
    assert read_regular_file(path, 101) == b"x" * 101
    # a file that grew after fstat (st_size says 10) is still cut at the limit
    small = os.stat_result((stat.S_IFREG | 0o600, 0, 0, 1, 0, 0, 10, 0, 0, 0))
    fd = os.open(path, os.O_RDONLY)
    try:
        with pytest.raises(FileTooLarge) as info:
            read_limited(fd, small, 50)
    finally:
        os.close(fd)
    assert info.value.size == 51


@pytest.mark.parametrize(("size", "text"), [(5, "5 bytes"), (64 * 1024, "64 KiB"),
                                            (4 * 1024 * 1024, "4 MiB"),
                                            (5 * 1024 * 1024 + 60, "5.0 MiB"),
                                            (1536, "1.5 KiB")])
def test_format_size(size: int, text: str) -> None:
    assert format_size(size) == text


# ---------------------------------------------------------------------------- full load


def test_config_fifo_and_device_are_one_line_errors(tmp_path: Path) -> None:
    fifo = tmp_path / "config.yaml"
    os.mkfifo(fifo)
    message = _within(10, lambda: error_of(fifo))
    assert message == (f"{fifo}: cannot read: a named pipe (FIFO), not a regular file; give the "
                       "path of a YAML file")
    assert error_of("/dev/zero") == ("/dev/zero: cannot read: a character device, not a regular "
                                     "file; give the path of a YAML file")
    assert error_of(tmp_path) == f"{tmp_path}: cannot read: Is a directory"


def test_oversize_config_names_its_size_and_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (MAX_CONFIG_BYTES + 1))
    assert error_of(path) == f"{path}: cannot read: the file is 4.0 MiB; a config may be at most 4 MiB"
    path.write_bytes(b"#" * (6 * 1024 * 1024))
    assert error_of(path) == f"{path}: cannot read: the file is 6 MiB; a config may be at most 4 MiB"


def test_a_secret_file_that_is_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    token = tmp_path / "token"
    os.mkfifo(token, 0o600)
    path = write(tmp_path, """
        contexts:
          prod:
            providers:
              pd: {type: fake, url: "http://h", auth: {bearer_token: "${file:token}"}}
        """)
    message = _within(10, lambda: error_of(path))
    assert message == (f"{path}:4:62: contexts.prod.providers.pd.auth.bearer_token: secret file "
                       f"{token} is a named pipe (FIFO), not a regular file")


def test_a_big_honest_config_loads_and_is_no_alias_bomb(tmp_path: Path) -> None:
    """The issue's case: 3.9 MB of contexts and SLOs, no aliases. The old loader counted every
    node against a 200,000-node "alias bomb" limit; this file has more nodes than that."""
    text = big_config_text()
    assert 3_800_000 < len(text.encode()) < MAX_CONFIG_BYTES
    parsed = parse_yaml(text)
    assert parsed.nodes > 200_000 and parsed.alias_nodes == 0
    config = load_config(write_big_config(tmp_path / "big.yaml"))
    assert len(config.contexts) == 114
    assert sum(len(c.slos) for c in config.contexts.values()) == 5700
    assert config.contexts["ctx113"].slos[-1].window == 30 * 86400


def test_the_alias_bomb_is_still_refused_by_counting_expansions(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    path = write(tmp_path, "\n".join(lines) + "\ncontexts: {prod: {}}\n")
    assert error_of(path) == (f"{path}:6:10: a5[0]: aliases expand to more than "
                              f"{MAX_ALIAS_NODES} nodes (an alias bomb?); write the repeated "
                              "parts out or use fewer aliases")


def test_a_big_honest_config_through_check(tmp_path: Path) -> None:
    path = write_big_config(tmp_path / "big.yaml")
    env = {k: v for k, v in os.environ.items() if k != "SRE_COCKPIT_CONFIG"}
    result = subprocess.run([sys.executable, "-m", "sre_cockpit", "check", "--config", str(path),
                             "--context", "ctx001"], capture_output=True, text=True, timeout=120,
                            check=False, env=env)
    # the providers point at local ports that may or may not answer: 0 or 1, never 2
    assert result.returncode in (0, 1), result.stderr
    assert result.stdout.startswith(f"config: {path}  context: ctx001\n")
    assert "alias bomb" not in result.stderr


@pytest.mark.slow
def test_the_cockpit_starts_on_a_big_honest_config(tmp_path: Path) -> None:
    from test_pty_hostile import run_in_pty

    path = write_big_config(tmp_path / "big.yaml")
    screen = pyte.Screen(120, 40)
    out, status = run_in_pty([sys.executable, "-m", "sre_cockpit", "--config", str(path),
                              "--context", "ctx002"], 25.0, emulate=screen,
                             keys=[(8.0, b"")], keys_after=b"ctx002", stop_after_keys=True)
    shown = "\n".join(screen.display)
    assert status is None, out[-2000:]  # still running: the full load did not end it
    assert "ctx002" in shown and "alias bomb" not in shown


# ------------------------------------------------------------------- the TUI's fast start


def _peek(path: Path) -> Any:
    return _within(10, lambda: peek(path, context=None, read_only=False, low_bandwidth=False,
                                    theme=None))


def test_peek_never_blocks_on_a_fifo_or_reads_a_device(tmp_path: Path) -> None:
    fifo = tmp_path / "config.yaml"
    os.mkfifo(fifo)
    assert _peek(fifo) is None  # the full load then words the error
    link = tmp_path / "zero.yaml"
    link.symlink_to("/dev/zero")
    assert _peek(link) is None


def test_peek_refuses_oversize_and_hostile_yaml(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"contexts: {prod: {}}\n#" + b"x" * MAX_CONFIG_BYTES)
    assert _peek(big) is None
    tagged = write(tmp_path, "contexts: {prod: {}}\nuser: !!binary aGVsbG8=\n", "tag.yaml")
    assert _peek(tagged) is None
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    bomb = write(tmp_path, "\n".join(lines) + "\ncontexts: {prod: {}}\n", "bomb.yaml")
    assert _peek(bomb) is None


@pytest.mark.parametrize("keys", ["{cockpit.quit: '1'}", "{cockpit.quit: ctrl+alt+shift+hyper+zzz}",
                                  "{cockpit.quitt: q}"])
def test_peek_leaves_bad_keys_to_the_full_load(tmp_path: Path, keys: str) -> None:
    """So the error is printed before the UI starts instead of after a first frame."""
    path = write(tmp_path, f"contexts: {{prod: {{}}}}\nkeys: {keys}\n")
    assert _peek(path) is None


def test_peek_reads_a_good_config(tmp_path: Path) -> None:
    path = write(tmp_path, "default_context: prod\ncontexts:\n  prod:\n    providers:\n"
                           "      prom: {type: prometheus, url: 'http://h'}\n"
                           "keys: {cockpit.quit: 'ctrl+x,f10'}\n")
    boot = _peek(path)
    assert boot is not None
    assert (boot.context, boot.providers, boot.keys) == ("prod", ("prom",),
                                                         {"cockpit.quit": "ctrl+x,f10"})
