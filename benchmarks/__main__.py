"""Run a benchmark suite: ``python -m benchmarks runtime`` (or ``pipeline``, ``orders``, or
``all``)."""

from __future__ import annotations

import argparse
import importlib
import sys

SUITES = {
    "runtime": "benchmarks.runtime",
    "pipeline": "benchmarks.pipeline",
    "orders": "benchmarks.orders",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("suite", choices=[*SUITES, "all"])
    parser.add_argument("--quick", action="store_true", help="fewer messages and repeats")
    args = parser.parse_args(argv)
    names = list(SUITES) if args.suite == "all" else [args.suite]
    for name in names:
        importlib.import_module(SUITES[name]).main(quick=args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
