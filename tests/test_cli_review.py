"""Reviewer regressions for the command line."""

from __future__ import annotations

import pytest

from sre_cockpit.cli import main as cli


@pytest.mark.parametrize("argv", [["--theme", "daylight", "check"],
                                  ["--theme=ansi-16", "snapshot", "--format", "json"]])
def test_theme_before_a_subcommand_is_named_not_read_as_the_command(
        argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    # Used to say "argument COMMAND: invalid choice: 'daylight' (choose from 'check')".
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--theme applies to the cockpit UI only" in err and "invalid choice" not in err


def test_theme_is_still_a_cockpit_option() -> None:
    parser, _ = cli.build_parser(["--theme", "daylight"])
    assert parser.parse_args(["--theme", "daylight"]).theme == "daylight"
