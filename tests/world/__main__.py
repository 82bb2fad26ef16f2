"""Start or stop a simulated cluster from the command line:

    python3 -m tests.world start DIR    # then: . DIR/env && doit bootstrap
    python3 -m tests.world start --charts stand-in DIR    # stand-in charts instead of ../shared/charts
    python3 -m tests.world stop DIR
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tests.world.world import World


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m tests.world", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("start", "stop"))
    parser.add_argument("dir", type=Path)
    parser.add_argument("--charts", choices=("real", "stand-in"),
                        help="the real charts of ../shared/charts (the default when present) or stand-ins")
    args = parser.parse_args(argv)
    world = World(args.dir.resolve(), charts=args.charts)
    if args.command == "start":
        started = time.monotonic()
        world.start()
        print(f"world started in {time.monotonic() - started:.1f}s with {world.charts} charts from "
              f"{world.chart_source}: . {world.dir / 'env'}", file=sys.stderr)
    else:
        world.stop()
        print(f"world in {world.dir} stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
