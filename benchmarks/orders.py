"""Orders benchmark: the order path's parts, each against its one-thread floor, in one run.

Parts (each prints its table and fills one key of ``benchmarks/results/orders.json``):

- ``journal``: batched events per second and intent commit latency (RecordIntent to
  IntentRecorded), per durability setting (:mod:`benchmarks._orders_journal`).

A part is a function ``run(*, mode) -> dict`` (``mode``: full, quick or smoke); add one to
``PARTS`` to extend the suite.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import _orders_journal
from benchmarks._report import write_json

PARTS: dict[str, Callable[..., dict[str, Any]]] = {
    "journal": _orders_journal.run,
}


def main(*, mode: str = "full", out: Path | None = None) -> dict[str, Any]:
    figures: dict[str, Any] = {"mode": mode}
    figures.update((name, part(mode=mode)) for name, part in PARTS.items())
    write_json("orders", figures, out)
    return figures
