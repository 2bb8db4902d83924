"""Shared output for benchmark suites: a printed table and the same figures as JSON."""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import resource
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from perpsbot.clock import SystemClock

RESULTS = Path(__file__).parent / "results"
#: Where quick and smoke runs write unless told (``--out``): outside the repository.
SCRATCH = Path(tempfile.gettempdir()) / "perpsbot-benchmarks"


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank."""
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float]) -> dict[str, float]:
    """The median of ``values`` and their range (per-repeat figures of one run)."""
    return {"median": median(values), "min": min(values), "max": max(values)}


def fmt_spread(figure: dict[str, float], digits: int = 2) -> str:
    """``median (min-max)``; just the median when there was one repeat."""
    if figure["min"] == figure["max"]:
        return f"{figure['median']:.{digits}f}"
    return f"{figure['median']:.{digits}f} ({figure['min']:.{digits}f}-{figure['max']:.{digits}f})"


def cpu_s() -> float:
    """CPU seconds this process has used (every thread, user and system)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def environment() -> dict[str, Any]:
    return {
        "python": sys.version.split()[0],
        "pykka": importlib.metadata.version("pykka"),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "affinity": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "when": SystemClock().now().isoformat(timespec="seconds"),
    }


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))


def results_folder(mode: str, out: Path | None = None) -> Path:
    """Where a run in ``mode`` writes its JSON: ``out`` if given, else ``benchmarks/results``
    for a full run and :data:`SCRATCH` for a quick or smoke one, whose figures only prove
    that a suite works and must never replace the committed ones the README quotes."""
    if out is not None:
        return out
    return RESULTS if mode == "full" else SCRATCH / mode


def write_json(name: str, figures: dict[str, Any], out: Path | None = None) -> Path:
    """Write ``figures`` to ``<name>.json`` in :func:`results_folder` of their mode."""
    folder = results_folder(figures["mode"], out)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps({"environment": environment(), **figures}, indent=2) + "\n")
    print(f"\nwrote {path}")
    return path
