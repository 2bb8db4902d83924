"""The orders benchmark's exchange, in a process of its own as a venue is: its HTTP server,
matching and market steps do not compete with the contenders for their interpreter.

``python -m benchmarks._orders_exchange SEED`` runs a :class:`~perpsbot.sim.SimExchange`
(lenient auth, no rate limits: the closed loop is not what is measured), prints its URLs as
one JSON line and serves until its standard input closes. It stamps an order's creation with
the wall clock (``SystemClock``), which the contenders read too: the same clock across the two
processes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import attrs

from perpsbot.clock import SystemClock
from perpsbot.sim import SimConfig, SimExchange

__all__ = ["ExchangeUrls", "separate_exchange"]

_REPOSITORY = Path(__file__).resolve().parents[1]


@attrs.frozen(kw_only=True)
class ExchangeUrls:
    """Where the exchange listens (what a ``VenueLink`` needs of it)."""

    rest_base_url: str
    market_ws_url: str
    user_ws_url: str


@contextmanager
def separate_exchange(seed: int) -> Iterator[ExchangeUrls]:
    """Start the exchange in a child process; stop it as the block ends."""
    child = subprocess.Popen(
        [sys.executable, "-m", "benchmarks._orders_exchange", str(seed)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=_REPOSITORY,
    )
    assert child.stdin is not None
    assert child.stdout is not None
    try:
        line = child.stdout.readline()
        if not line:
            raise RuntimeError(f"the exchange process ended (code {child.wait()}) before its URLs")
        yield ExchangeUrls(**json.loads(line))
    finally:
        child.stdin.close()  # its signal to stop
        child.wait(timeout=30)


def main(seed: int) -> None:
    config = SimConfig(verify_auth=False, enforce_rate_limits=False, seed=seed)
    with SimExchange(config, clock=SystemClock()) as sim:
        urls = ExchangeUrls(
            rest_base_url=sim.rest_base_url,
            market_ws_url=sim.market_ws_url,
            user_ws_url=sim.user_ws_url,
        )
        print(json.dumps(attrs.asdict(urls)), flush=True)
        sys.stdin.read()  # until the benchmark closes it


if __name__ == "__main__":
    main(int(sys.argv[1]))
