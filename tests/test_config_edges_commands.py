"""Issue 16 item 10 through the real process: every hostile config gives one located line and
exit status 2 from every command that reads a config (``check``, ``snapshot``, ``logs``,
``postmortem`` and the cockpit UI in a pty), never a traceback, never a hang.

Before the fix: ``--config`` on a FIFO hung every command; ``user: !!binary …``,
``journal_dir: /etc/passwd``, ``window: 999999999999w``, the key ``ctrl+alt+shift+hyper+zzz``
and ``cockpit.quit: '1'`` were accepted without a word.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from test_pty_hostile import run_in_pty

pytestmark = [pytest.mark.slow]

BASE = "contexts:\n  prod:\n    providers:\n      prom: {type: prometheus, url: 'http://127.0.0.1:9'}\n"
SLO = ("    slos:\n      - name: checkout\n        provider: prom\n        objective: 99.9\n"
       "        window: 999999999999w\n        error_query: e\n        total_query: t\n")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def _fifo(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "config.fifo"
    os.mkfifo(path)
    return path, f"{path}: cannot read: a named pipe (FIFO), not a regular file; give the path of a YAML file"


def _symlink_to_fifo(tmp_path: Path) -> tuple[Path, str]:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "config.yaml"
    link.symlink_to(fifo)
    return link, f"{link}: cannot read: a named pipe (FIFO), not a regular file; give the path of a YAML file"


def _device(tmp_path: Path) -> tuple[Path, str]:
    link = tmp_path / "config.yaml"
    link.symlink_to("/dev/zero")
    return link, f"{link}: cannot read: a character device, not a regular file; give the path of a YAML file"


def _oversize(tmp_path: Path) -> tuple[Path, str]:
    path = _write(tmp_path, BASE + "# " + "x" * (5 * 1024 * 1024) + "\n")
    return path, f"{path}: cannot read: the file is 5.0 MiB; a config may be at most 4 MiB"


def _binary_tag(tmp_path: Path) -> tuple[Path, str]:
    path = _write(tmp_path, BASE + "user: !!binary aGVsbG8=\n")
    return path, (f"{path}:5:7: user: unsupported YAML tag '!!binary' (a config value is text, a "
                  "number, true/false or null; allowed tags: !!bool, !!float, !!int, !!null, "
                  "!!str)")


def _custom_tag(tmp_path: Path) -> tuple[Path, str]:
    path = _write(tmp_path, BASE + "user: !vault alice\n")
    return path, (f"{path}:5:7: user: unsupported YAML tag '!vault' (a config value is text, a "
                  "number, true/false or null; allowed tags: !!bool, !!float, !!int, !!null, "
                  "!!str)")


def _journal_dir_file(tmp_path: Path) -> tuple[Path, str]:
    path = _write(tmp_path, BASE + "journal_dir: /etc/passwd\n")
    return path, (f"{path}:5:14: journal_dir: /etc/passwd is a regular file, not a directory "
                  "(journal_dir is the directory the notes journal is kept in)")


def _window(tmp_path: Path) -> tuple[Path, str]:
    path = _write(tmp_path, BASE + SLO)
    return path, (f"{path}:9:17: contexts.prod.slos[0].window: duration '999999999999w' is too "
                  "long: at most 10y (3650d); no window, interval or timeout needs more, and far "
                  "longer spans overflow date arithmetic")


def _key_name(tmp_path: Path) -> tuple[Path, str]:
    path = _write(tmp_path, BASE + "keys:\n  cockpit.quit: ctrl+alt+shift+hyper+zzz\n")
    return path, (f"{path}:6:17: keys.cockpit.quit: unknown key 'zzz' in "
                  "'ctrl+alt+shift+hyper+zzz'; a key is a letter or digit (a, Q, 5), a "
                  "punctuation name (question_mark, full_stop) or a key name such as enter, "
                  "escape, space, tab, up, pageup, home, f1")


def _key_clash(tmp_path: Path) -> tuple[Path, str]:
    path = _write(tmp_path, BASE + "keys:\n  cockpit.quit: '1'\n")
    return path, (f"{path}:6:17: keys.cockpit.quit: '1' clashes with cockpit.pane_incidents, "
                  "which has that key in the cockpit's global keys; choose another key, or "
                  "remap cockpit.pane_incidents too")


def _alias_bomb(tmp_path: Path) -> tuple[Path, str]:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    path = _write(tmp_path, "\n".join(lines) + "\n" + BASE)
    return path, (f"{path}:6:10: a5[0]: aliases expand to more than 200000 nodes (an alias "
                  "bomb?); write the repeated parts out or use fewer aliases")


def _secret_fifo(tmp_path: Path) -> tuple[Path, str]:
    fifo = tmp_path / "token"
    os.mkfifo(fifo, 0o600)
    path = _write(tmp_path, "contexts:\n  prod:\n    providers:\n      pd: {type: pagerduty, "
                            "token: '${file:token}', from_email: a@b.c}\n")
    return path, (f"{path}:4:36: contexts.prod.providers.pd.token: secret file {fifo} is a "
                  "named pipe (FIFO), not a regular file")


CASES: dict[str, Callable[[Path], tuple[Path, str]]] = {
    "fifo": _fifo, "symlink-to-fifo": _symlink_to_fifo, "device": _device,
    "oversize": _oversize, "binary-tag": _binary_tag, "custom-tag": _custom_tag,
    "journal-dir-is-a-file": _journal_dir_file, "window-999999999999w": _window,
    "unknown-key-name": _key_name, "key-clash": _key_clash, "alias-bomb": _alias_bomb,
    "secret-file-fifo": _secret_fifo,
}
COMMANDS: dict[str, list[str]] = {
    "check": ["check"], "snapshot": ["snapshot"], "logs": ["logs"],
    "postmortem": ["postmortem", "INC-1"],
}


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("SRE_COCKPIT_CONFIG", "SRE_COCKPIT_DEBUG")}
    return env


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("case", list(CASES))
def test_headless_commands_give_one_located_line_and_exit_2(tmp_path: Path, case: str,
                                                            command: str) -> None:
    path, expected = CASES[case](tmp_path)
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "sre_cockpit", *COMMANDS[command],
                             "--config", str(path)], capture_output=True, text=True,
                            timeout=60, check=False, env=_env(), stdin=subprocess.DEVNULL)
    took = time.monotonic() - start
    assert (result.returncode, result.stderr, result.stdout) == (2, expected + "\n", ""), took
    assert took < 30


@pytest.mark.parametrize("case", list(CASES))
def test_the_cockpit_in_a_pty_gives_the_same_line_and_exit_2(tmp_path: Path, case: str) -> None:
    path, expected = CASES[case](tmp_path)
    out, status = run_in_pty([sys.executable, "-m", "sre_cockpit", "--config", str(path)], 40.0)
    text = out.decode("utf-8", errors="replace")
    assert status == 2, text[-2000:]
    assert expected in text.replace("\r\n", "\n")
    assert "Traceback" not in text


def test_the_config_named_by_the_environment_is_read_the_same_way(tmp_path: Path) -> None:
    path, expected = _fifo(tmp_path)
    result = subprocess.run([sys.executable, "-m", "sre_cockpit", "check"], capture_output=True,
                            text=True, timeout=60, check=False, stdin=subprocess.DEVNULL,
                            env={**_env(), "SRE_COCKPIT_CONFIG": str(path)})
    assert (result.returncode, result.stderr) == (2, expected + "\n")


def test_demo_refuses_a_config_it_would_not_read(tmp_path: Path) -> None:
    path, _expected = _fifo(tmp_path)
    result = subprocess.run([sys.executable, "-m", "sre_cockpit", "demo", "--config", str(path)],
                            capture_output=True, text=True, timeout=60, check=False,
                            env=_env(), stdin=subprocess.DEVNULL)
    assert result.returncode == 2
    assert result.stderr == ("sre-cockpit demo: the demo runs on the simulator's own config and "
                             "does not read --config; to open the cockpit on your config run "
                             "'sre-cockpit --config FILE'\n")
