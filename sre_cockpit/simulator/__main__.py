"""``python -m sre_cockpit.simulator``: the same as ``sre-cockpit simulate`` (used by the demo)."""

from __future__ import annotations

import argparse

from sre_cockpit.simulator import main as simulate


def main() -> int:
    """Parse the simulate options and serve."""
    parser = argparse.ArgumentParser(prog="python -m sre_cockpit.simulator", description=simulate.HELP)
    simulate.add_arguments(parser)
    return simulate.run(parser.parse_args())


if __name__ == "__main__":
    raise SystemExit(main())
