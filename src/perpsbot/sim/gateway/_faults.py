"""Fault injection of the simulated gateway: the Advanced Trade side's fault table, in
JSON-RPC terms.

Drops (every socket cut), errors (a method answered ``internal_server_error``), delays
(requests held before they reach the engine, so a ``valid_until`` can pass),
``too_many_requests`` (10028, and the socket closed, as the venue does), lost answers (the
order is placed, the answer never comes), book gaps, malformed frames and heartbeat test
requests. Labels are never deduplicated; ``duplicate_labels`` puts a stranger's order carrying
the bot's label at the venue just before the bot's own (another program on the account, or a
person, that reused it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from perpsbot.sim._countdown import Countdown, Delays
from perpsbot.sim.gateway._credits import MATCHING

_ORDERS = frozenset({"private/buy", "private/sell"})

if TYPE_CHECKING:
    from perpsbot.sim._engine import SimEngine


class GatewayFaults:
    """Arms faults from any thread; each counted fault applies to the next ``count`` requests."""

    def __init__(self, engine: SimEngine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._slow = Delays()
        self._rate_limited = Countdown()
        self._orders_rate_limited = Countdown()
        self._lost = Countdown()
        self._twins: tuple[int, int] = (0, 0)
        self._refused: dict[str, int] = {}
        self._book_gaps = Countdown()
        self.drop: Callable[[], None] = lambda: None
        self.push_raw: Callable[[str], None] = lambda text: None
        self.test_request_now: Callable[[], None] = lambda: None
        self.log: list[str] = []

    def drop_connections(self) -> None:
        """Cut every WebSocket now (no close frame), on both hosts."""
        self.log.append("drop_connections")
        self.drop()

    def slow_requests(self, delay_s: float, count: int = 1) -> None:
        """Hold the next ``count`` requests ``delay_s`` real seconds before the engine sees them."""
        self.log.append(f"slow_requests delay_s={delay_s} count={count}")
        self._slow.arm(delay_s, count)

    def too_many_requests(self, count: int = 1, *, orders_only: bool = False) -> None:
        """Answer the next ``count`` requests with 10028 and end their socket; with
        ``orders_only`` the next ``count`` buys and sells, whatever else is asked meanwhile
        (a socket's heartbeat answer, a read of another thread's)."""
        self.log.append(f"too_many_requests count={count} orders_only={orders_only}")
        (self._orders_rate_limited if orders_only else self._rate_limited).arm(count)

    def lose_answers(self, count: int = 1) -> None:
        """Carry out the next ``count`` matching requests (buy, sell, cancel) and never answer:
        over HTTP the connection closes, over a WebSocket the answer is simply not sent."""
        self.log.append(f"lose_answers count={count}")
        self._lost.arm(count)

    def refuse_method(self, method: str, count: int = 1) -> None:
        """Answer the next ``count`` requests of ``method`` with 11094 ``internal_server_error``
        (the Advanced Trade side's 5xx), without carrying them out."""
        if count < 1:
            raise ValueError(f"count must be a whole number >= 1, was {count}")
        self.log.append(f"refuse_method method={method} count={count}")
        with self._lock:
            self._refused[method] = self._refused.get(method, 0) + count

    def book_gap(self, count: int = 1) -> None:
        """Leave out the next ``count`` book changes (their change ids are spent): the next
        change a subscriber gets names a ``prev_change_id`` it never saw."""
        if count < 1:
            raise ValueError(f"count must be a whole number >= 1, was {count}")
        self.log.append(f"book_gap count={count}")
        self._book_gaps.arm(count)

    def duplicate_labels(self, count: int = 1, contracts: int = 1) -> None:
        """Precede each of the next ``count`` buys and sells by a stranger's order carrying the
        same label: the same instrument and side, ``contracts`` contracts, at the market."""
        if count < 1 or contracts < 1:
            raise ValueError(
                f"count and contracts must be whole numbers >= 1, were {count} and {contracts}"
            )
        self.log.append(f"duplicate_labels count={count} contracts={contracts}")
        with self._lock:
            self._twins = (self._twins[0] + count, contracts)

    def malformed_frame(
        self, text: str = '{"jsonrpc":"2.0","method":"subscription","params":'
    ) -> None:
        """Push ``text`` as one frame to every WebSocket."""
        self.log.append("malformed_frame")
        self.push_raw(text)

    def test_request(self) -> None:
        """Send every WebSocket a heartbeat ``test_request`` now (answer with ``public/test``)."""
        self.log.append("test_request")
        self.test_request_now()

    def delay_order_visibility(self, delay_s: float) -> None:
        """New orders stay out of every lookup for ``delay_s`` seconds after they are placed."""
        self.log.append(f"delay_order_visibility delay_s={delay_s}")
        with self._engine.lock:
            self._engine.visibility_delay_s = delay_s

    def clear(self) -> None:
        for countdown in (
            self._slow,
            self._rate_limited,
            self._orders_rate_limited,
            self._lost,
            self._book_gaps,
        ):
            countdown.clear()
        with self._lock:
            self._twins = (0, 0)
            self._refused = {}
        self.delay_order_visibility(0.0)

    # --- taken by the servers -------------------------------------------------------------------

    def take_delay_s(self) -> float:
        return self._slow.take_s()

    def take_rate_limited(self, method: str) -> bool:
        if method in _ORDERS and self._orders_rate_limited.take():
            return True
        return self._rate_limited.take()

    def take_lost(self, method: str) -> bool:
        return method in MATCHING and self._lost.take()

    def take_twin(self, method: str) -> int:
        """The contracts of a stranger's order to place before this request (0: none)."""
        with self._lock:
            count, contracts = self._twins
            if count <= 0 or method not in ("private/buy", "private/sell"):
                return 0
            self._twins = (count - 1, contracts)
            return contracts

    def take_refused(self, method: str) -> bool:
        with self._lock:
            left = self._refused.get(method, 0)
            if left <= 0:
                return False
            self._refused[method] = left - 1
            return True

    def take_book_gap(self) -> bool:
        return self._book_gaps.take()
