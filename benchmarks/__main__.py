"""Run a benchmark suite: ``python -m benchmarks runtime`` (or ``pipeline``, ``daemon``,
``orders``, ``memory``, ``backtest``, or ``all``).

A full run writes its JSON to ``benchmarks/results/`` (what the README quotes). ``--quick``
and ``--smoke`` run smaller sizes; their figures are for checking that a suite works, not for
quoting, so they go to ``perpsbot-benchmarks/<mode>/`` in the temporary directory instead.
``--out DIR`` writes the JSON there, whatever the mode.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from benchmarks import _readme

SUITES = {
    "runtime": "benchmarks.runtime",
    "pipeline": "benchmarks.pipeline",
    "daemon": "benchmarks.daemon",
    "orders": "benchmarks.orders",
    "memory": "benchmarks.memory",
    "backtest": "benchmarks.backtest",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "suite",
        choices=[*SUITES, "all", "readme"],
        help="a suite, all of them, or readme: rewrite the README's figures from results/",
    )
    sizes = parser.add_mutually_exclusive_group()
    sizes.add_argument("--quick", action="store_true", help="fewer messages and repeats")
    sizes.add_argument(
        "--smoke", action="store_true", help="the smallest run of every part (tests use it)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where to write the JSON (default: results/ for a full run, a temporary"
        " directory's perpsbot-benchmarks/MODE/ for --quick and --smoke)",
    )
    parser.add_argument(
        "--check", action="store_true", help="readme: fail if the README's figures are stale"
    )
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="memory: trace the bot's allocations and report the sites that grew",
    )
    args = parser.parse_args(argv)
    if args.tracemalloc and args.suite != "memory":
        parser.error(f"--tracemalloc is an option of the memory suite, not of {args.suite!r}")
    if args.suite == "readme":
        if not args.check:
            _readme.update()
            return 0
        if _readme.block_in(_readme.README.read_text()) != _readme.committed():
            print("README.md's benchmark figures differ from benchmarks/results/*.json; "
                  "run: python -m benchmarks readme", file=sys.stderr)  # fmt: skip
            return 1
        return 0
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    names = list(SUITES) if args.suite == "all" else [args.suite]
    for name in names:
        extra = {"traced": True} if args.tracemalloc else {}
        importlib.import_module(SUITES[name]).main(mode=mode, out=args.out, **extra)
    return 0


if __name__ == "__main__":
    sys.exit(main())
