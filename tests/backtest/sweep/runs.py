"""Pure callables for the sweep's tests, importable by module and name (spawned processes and
Ray workers import them)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from decimal import Decimal
from typing import Any


def score(point: Mapping[str, str]) -> dict[str, Any]:
    """``net_pnl`` = x * y, with the process that computed it."""
    x, y = int(point["strategy.x"]), Decimal(point["strategy.y"])
    return {"net_pnl": str(x * y), "trades": x, "sharpe": None, "pid": os.getpid()}


def fails_on_three(point: Mapping[str, str]) -> dict[str, Any]:
    if point["strategy.x"] == "3":
        raise ValueError("three is not allowed")
    return score(point)
