"""The venue faults the memory suite injects, in turn, through the sim's control endpoint.

Each step is one or more ``POST /_sim/faults`` bodies (see :class:`perpsbot.sim.SimFaults`).
The schedule covers what a real venue does to a long-running bot: dropped sockets (clean and
abrupt, with refused reconnects, lost snapshots and refused subscribes), sequence gaps,
duplicate and malformed frames, a stalled feed, 429s and 500s, slow and half-sent answers,
lost order acks and orders that show up late. Price jumps in both directions between them
make the moving averages cross, so the bot keeps trading while the faults hit it.
"""

from __future__ import annotations

import threading
from typing import Any

import requests

PERP = "BIP-20DEC30-CDE"

# Each step: the fault bodies posted together. Steps run in turn, round and round.
SCHEDULE: tuple[tuple[dict[str, Any], ...], ...] = (
    ({"fault": "price_jump", "product_id": PERP, "fraction": 0.004},),
    ({"fault": "disconnect_all", "close_code": 1000},),
    ({"fault": "http_error", "status": 429, "retry_after_s": 1.0, "count": 3},),
    ({"fault": "sequence_gap", "n": 3},),
    ({"fault": "lose_order_ack", "count": 1},),
    ({"fault": "price_jump", "product_id": PERP, "fraction": -0.004},),
    ({"fault": "disconnect_all", "close_code": None}, {"fault": "drop_snapshots", "count": 1}),
    ({"fault": "http_error", "status": 500, "count": 3},),
    ({"fault": "duplicate_frames", "count": 5}, {"fault": "malformed_frame"}),
    ({"fault": "delay_order_visibility", "delay_s": 3.0},),
    ({"fault": "price_jump", "product_id": PERP, "fraction": 0.004},),
    ({"fault": "reset_mid_body", "count": 1}, {"fault": "slow_responses", "delay_s": 1.0}),
    ({"fault": "stale_feed", "heartbeats": True},),
    ({"fault": "resume_feed"},),
    ({"fault": "refuse_connections", "for_s": 2.0}, {"fault": "disconnect_all"}),
    ({"fault": "reject_subscribes", "count": 1}, {"fault": "disconnect_all"}),
    ({"fault": "price_jump", "product_id": PERP, "fraction": -0.004},),
    ({"fault": "clear"},),
)


class FaultSchedule:
    """Posts :data:`SCHEDULE`'s steps to ``control_url`` every ``every_s`` seconds on a thread
    until :meth:`stop`; counts the faults the sim accepted and the ones it refused."""

    def __init__(self, control_url: str, every_s: float) -> None:
        self._url = control_url
        self._every_s = every_s
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fault-schedule", daemon=True)
        self.injected = 0
        self.refused: list[str] = []

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        step = 0
        while not self._stopped.wait(self._every_s):
            for body in SCHEDULE[step % len(SCHEDULE)]:
                self._post(body)
            step += 1

    def _post(self, body: dict[str, Any]) -> None:
        try:
            answer = requests.post(self._url, json=body, timeout=10)
        except requests.RequestException as error:  # the sim busy or going away: say so
            self.refused.append(f"{body['fault']}: {error}")
            return
        if answer.ok:
            self.injected += 1
        else:
            self.refused.append(f"{body['fault']}: HTTP {answer.status_code} {answer.text[:200]}")
