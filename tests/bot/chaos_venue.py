"""What a chaos run does to the venue, on background threads: BTC's price jumps (the BIP
future follows it) and venue faults armed through the sim's ``/_sim/faults`` API."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable

from tests.bot.processes import SimProcess

_UP = 0.05
_DOWN = 1 / (1 + _UP) - 1  # back to the price before the jump


class Repeating:
    """Calls ``step`` on a thread, waiting ``pause()`` seconds before each, until stopped."""

    def __init__(self, step: Callable[[], object], pause: Callable[[], float]) -> None:
        self._step = step
        self._pause = pause
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.error: BaseException | None = None

    def __enter__(self) -> Repeating:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(30)
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        try:
            while not self._stop.wait(self._pause()):
                self._step()
        except BaseException as error:  # reported by __exit__, on the caller's thread
            self.error = error


class Prices:
    """Up, up, down, down: each jump a cross the strategy trades (entry, hold, exit, nothing)."""

    def __init__(self, sim: SimProcess) -> None:
        self._sim = sim
        self._n = 0

    def step(self) -> None:
        self._sim.jump(_UP if self._n % 4 < 2 else _DOWN)
        self._n += 1


class Faults:
    """One random venue fault at a time; the lasting ones (visibility, duplicate ids) are
    undone at the next step."""

    def __init__(self, sim: SimProcess, rng: random.Random) -> None:
        self._sim = sim
        self._rng = rng
        self._lock = threading.Lock()
        self.armed: Counter[str] = Counter()

    def step(self) -> str:
        with self._lock:
            sim, rng = self._sim, self._rng
            sim.fault("delay_order_visibility", delay_s=0.0)
            sim.fault("duplicate_client_order_id", behaviour="return_existing")
            name = rng.choice(_FAULTS)
            match name:
                case "5xx on /orders":
                    status = rng.choice((500, 502, 503))
                    sim.fault("http_error", status=status, count=rng.randint(1, 3), path="/orders")
                case "429 on /orders":
                    retry = rng.choice((None, 0.5, 1.0))
                    count = rng.randint(1, 3)
                    sim.fault(
                        "http_error", status=429, retry_after_s=retry, count=count, path="/orders"
                    )
                case "lost order ack":
                    sim.fault("lose_order_ack", count=1)
                case "fills failing":
                    path = "/orders/historical/fills"
                    sim.fault("http_error", status=503, count=rng.randint(1, 5), path=path)
                case "order visibility delayed":
                    sim.fault("delay_order_visibility", delay_s=round(rng.uniform(0.5, 3.0), 2))
                case "slow answer":
                    sim.fault("slow_responses", delay_s=round(rng.uniform(0.5, 3.0), 2), count=1)
                case "answer cut mid-body":
                    sim.fault("reset_mid_body", count=1)
                case "duplicate ids rejected":
                    sim.fault("duplicate_client_order_id", behaviour="reject")
            self.armed[name] += 1
            return name


_FAULTS = (
    "5xx on /orders",
    "429 on /orders",
    "lost order ack",
    "fills failing",
    "order visibility delayed",
    "slow answer",
    "answer cut mid-body",
    "duplicate ids rejected",
)
