"""Scriptable faults: what the next requests, frames and connections suffer."""

from __future__ import annotations

import logging
import threading
from typing import Any, Protocol

import attrs
from websockets.exceptions import ProtocolError
from websockets.frames import Close

from perpsbot.clock import Clock
from perpsbot.config import DuplicateClientOrderId
from perpsbot.errors import InvalidConfigError
from perpsbot.sim._countdown import Countdown, Delays
from perpsbot.sim._engine import SimEngine
from perpsbot.sim._fault_params import (
    Count,
    Fraction,
    FrameBytes,
    HttpStatus,
    PositiveCount,
    Seconds,
    SignedSeconds,
    checked,
)
from perpsbot.sim._order_ops import finish_cancel
from perpsbot.sim._wire import to_decimal

_log = logging.getLogger("perpsbot.sim.faults")


class WsControl(Protocol):
    def disconnect_all(self, close_code: int | None) -> None: ...
    def skip_sequence(self, n: int) -> None: ...
    def send_raw(self, text: str) -> None: ...
    def set_stale(self, mode: str | None) -> None: ...
    def reject_subscribes(self, count: int) -> None: ...
    def duplicate_frames(self, count: int) -> None: ...
    def drop_snapshots(self, count: int) -> None: ...


@attrs.frozen(kw_only=True)
class FaultRecord:
    """One injected fault, as logged."""

    kind: str
    detail: str
    time_ns: int


@attrs.define(kw_only=True)
class _HttpErrorRule:
    status: int
    remaining: int
    path: str | None
    retry_after_s: float | None
    body: str | None


class SimFaults:
    """The fault-injection handle of a :class:`SimExchange` (``sim.faults``).

    Each method arms a fault and logs it (logger ``perpsbot.sim.faults`` and :attr:`log`).
    Counted faults disarm themselves after ``count`` uses; :meth:`clear` disarms everything.
    Time windows are measured on the sim's injected clock. Parameters are checked against
    their bounds (and products against the catalogue) first: a bad one raises
    :class:`~perpsbot.errors.InvalidConfigError` and arms nothing.
    """

    def __init__(self, *, clock: Clock, engine: SimEngine, ws: WsControl) -> None:
        self._clock = clock
        self._engine = engine
        self._ws = ws
        self._lock = threading.Lock()
        self._records: list[FaultRecord] = []
        self._http_errors: list[_HttpErrorRule] = []
        self._slow = Delays()
        self._lost_acks = Countdown()
        self._resets = Countdown()
        self._refuse_until: float | None = None

    # --- websocket faults ---------------------------------------------------------------------

    @checked
    def disconnect_all(self, close_code: int | None = 1000) -> None:
        """Close every websocket: with ``close_code``, or abruptly (no close frame) if ``None``."""
        if close_code is not None:
            try:
                Close(close_code, "").check()
            except ProtocolError:
                raise InvalidConfigError(
                    f"disconnect_all.close_code must be a code a server may send "
                    f"(1000-1003, 1007-1014, 3000-4999), was {close_code}"
                ) from None
        self._record("disconnect_all", f"close_code={close_code}")
        self._ws.disconnect_all(close_code)

    @checked
    def refuse_connections(self, for_s: Seconds) -> None:
        """Answer new websocket handshakes with HTTP 503 for ``for_s`` seconds of sim clock."""
        self._record("refuse_connections", f"for_s={for_s}")
        with self._lock:
            self._refuse_until = self._clock.monotonic() + for_s

    @checked
    def sequence_gap(self, n: PositiveCount = 1) -> None:
        """Skip ``n`` sequence numbers on every open websocket's next message."""
        self._record("sequence_gap", f"n={n}")
        self._ws.skip_sequence(n)

    @checked
    def stale_feed(self, heartbeats: bool = True) -> None:
        """Stop market and user data; keep heartbeats if ``heartbeats``, else stop everything."""
        self._record("stale_feed", f"heartbeats={heartbeats}")
        self._ws.set_stale("data" if heartbeats else "all")

    def resume_feed(self) -> None:
        """Undo :meth:`stale_feed`."""
        self._record("resume_feed", "")
        self._ws.set_stale(None)

    @checked
    def malformed_frame(self, text: str = '{"channel":"l2_data","events":[') -> None:
        """Send one frame of broken JSON to every open websocket."""
        self._record("malformed_frame", repr(text))
        self._ws.send_raw(text)

    @checked
    def oversized_frame(self, size_bytes: FrameBytes = 11 * 1024 * 1024) -> None:
        """Send every open websocket one valid JSON frame of about ``size_bytes`` (<= 64 MiB)."""
        self._record("oversized_frame", f"size_bytes={size_bytes}")
        self._ws.send_raw('{"channel":"padding","events":[],"padding":"' + "x" * size_bytes + '"}')

    @checked
    def reject_subscribes(self, count: Count = 1) -> None:
        """Answer the next ``count`` (un)subscribes with ``failure to subscribe``."""
        self._record("reject_subscribes", f"count={count}")
        self._ws.reject_subscribes(count)

    @checked
    def duplicate_frames(self, count: Count = 1) -> None:
        """Send the next ``count`` data messages twice, with the same ``sequence_num``."""
        self._record("duplicate_frames", f"count={count}")
        self._ws.duplicate_frames(count)

    # --- REST faults --------------------------------------------------------------------------

    @checked
    def http_error(
        self,
        status: HttpStatus = 429,
        *,
        retry_after_s: Seconds | None = None,
        count: PositiveCount = 1,
        path: str | None = None,
        body: str | None = None,
    ) -> None:
        """Answer the next ``count`` REST requests (whose path contains ``path``) with ``status``.

        429 comes with an empty body unless ``body`` is given; other statuses get a JSON error
        body. ``retry_after_s`` adds a ``Retry-After`` header.
        """
        self._record(
            "http_error", f"status={status} count={count} path={path} retry_after_s={retry_after_s}"
        )
        with self._lock:
            self._http_errors.append(
                _HttpErrorRule(
                    status=status,
                    remaining=count,
                    path=path,
                    retry_after_s=retry_after_s,
                    body=body,
                )
            )

    @checked
    def slow_responses(self, delay_s: Seconds, count: Count = 1) -> None:
        """Hold the next ``count`` REST responses back for ``delay_s`` real seconds."""
        self._record("slow_responses", f"delay_s={delay_s} count={count}")
        self._slow.arm(delay_s, count)

    @checked
    def lose_order_ack(self, count: Count = 1) -> None:
        """Create the next ``count`` orders but drop the connection instead of answering."""
        self._record("lose_order_ack", f"count={count}")
        self._lost_acks.arm(count)

    @checked
    def reset_mid_body(self, count: Count = 1) -> None:
        """Send the headers and half the body of the next ``count`` answers, then hang up."""
        self._record("reset_mid_body", f"count={count}")
        self._resets.arm(count)

    @checked
    def delay_order_visibility(self, delay_s: Seconds) -> None:
        """Hide orders created from now on from GET, list, fills and cancel for ``delay_s``."""
        self._record("delay_order_visibility", f"delay_s={delay_s}")
        with self._engine.lock:
            self._engine.visibility_delay_s = delay_s

    @checked
    def duplicate_client_order_id(self, behaviour: DuplicateClientOrderId) -> None:
        """Answer an order with a ``client_order_id`` already used by ``behaviour`` from now
        on: ``return_existing`` or ``reject`` (``sim.duplicate_client_order_id`` until
        :meth:`clear`)."""
        self._record("duplicate_client_order_id", f"behaviour={behaviour.value}")
        with self._engine.lock:
            self._engine.duplicate_ids = behaviour

    # --- market faults ------------------------------------------------------------------------

    @checked
    def price_jump(self, product_id: str, fraction: Fraction) -> None:
        """Move ``product_id``'s fair price by ``fraction`` (0.05 = +5 %) at the next step."""
        self._check_product("price_jump", product_id)
        self._record("price_jump", f"{product_id} fraction={fraction}")
        with self._engine.lock:
            self._engine.markets[product_id].fair *= 1.0 + fraction

    @checked
    def trading_disabled(self, product_id: str, disabled: bool = True) -> None:
        """Flip ``trading_disabled`` on ``product_id``: new orders fail with UNTRADABLE_PRODUCT."""
        self._check_product("trading_disabled", product_id)
        self._record("trading_disabled", f"{product_id} disabled={disabled}")
        with self._engine.lock:
            (
                self._engine.trading_disabled.add
                if disabled
                else self._engine.trading_disabled.discard
            )(product_id)

    @checked
    def funding_rate(self, product_id: str, rate: str) -> None:
        """Set ``product_id``'s funding rate (a decimal string, at most 1 either way) per hour,
        from the next funding hour on."""
        self._check_product("funding_rate", product_id)
        if product_id not in self._engine.funding.rates:
            raise InvalidConfigError(
                "funding_rate.product_id must be a perpetual-style future, one of"
                f" {sorted(self._engine.funding.rates)}, was {product_id!r}"
            )
        try:
            value = to_decimal(rate, "funding_rate.rate")
        except ValueError as exc:
            raise InvalidConfigError(str(exc)) from None
        if abs(value) > 1:
            raise InvalidConfigError(f"funding_rate.rate must be within -1 and 1, was {rate!r}")
        self._record("funding_rate", f"{product_id} rate={rate}")
        with self._engine.lock:
            self._engine.catch_up()  # the hours already due were charged at the old rate
            self._engine.funding.rates[product_id] = value

    @checked
    def cancel_only(self, product_id: str, on: bool = True) -> None:
        """Flip ``cancel_only`` on ``product_id``: new orders fail with ORDER_ENTRY_DISABLED."""
        self._check_product("cancel_only", product_id)
        self._record("cancel_only", f"{product_id} on={on}")
        with self._engine.lock:
            (self._engine.cancel_only.add if on else self._engine.cancel_only.discard)(product_id)

    @checked
    def stuck_cancels(self, count: Count = 1) -> None:
        """Leave the next ``count`` cancelled orders in CANCEL_QUEUED until :meth:`clear`."""
        self._record("stuck_cancels", f"count={count}")
        with self._engine.lock:
            self._engine.stuck_cancels += count

    @checked
    def drop_snapshots(self, count: Count = 1) -> None:
        """Skip the next ``count`` level2 snapshots (no frame, no sequence number used)."""
        self._record("drop_snapshots", f"count={count}")
        self._ws.drop_snapshots(count)

    @checked
    def clock_skew(self, offset_s: SignedSeconds) -> None:
        """Run the exchange's wall clock ``offset_s`` ahead (negative: behind) of the injected one.

        ``/time``, timestamps and JWT ``nbf``/``exp`` checks all use the skewed clock.
        """
        self._record("clock_skew", f"offset_s={offset_s}")
        with self._engine.lock:
            self._engine.clock_skew_ns = int(offset_s * 1e9)

    def clear(self) -> None:
        """Disarm every fault and resume a stale feed."""
        self._record("clear", "")
        with self._lock:
            self._http_errors.clear()
            self._refuse_until = None
        for countdown in (self._slow, self._lost_acks, self._resets):
            countdown.clear()
        with self._engine.lock:
            self._engine.visibility_delay_s = 0.0
            self._engine.duplicate_ids = self._engine.config.duplicate_client_order_id
            self._engine.clock_skew_ns = 0
            self._engine.cancel_only.clear()
            self._engine.stuck_cancels = 0
            stuck, self._engine.stuck_orders = self._engine.stuck_orders, []
            for order in stuck:
                finish_cancel(self._engine, order)
            self._engine.trading_disabled.clear()
        self._ws.set_stale(None)
        self._ws.reject_subscribes(0)
        self._ws.duplicate_frames(0)
        self._ws.drop_snapshots(0)

    @property
    def log(self) -> tuple[FaultRecord, ...]:
        """Every fault injected so far, oldest first."""
        with self._lock:
            return tuple(self._records)

    # --- used by the servers ------------------------------------------------------------------

    def refusing(self) -> bool:
        with self._lock:
            return self._refuse_until is not None and self._clock.monotonic() < self._refuse_until

    def take_http_error(self, path: str) -> _HttpErrorRule | None:
        with self._lock:
            for rule in self._http_errors:
                if rule.path is None or rule.path in path:
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._http_errors.remove(rule)
                    return rule
        return None

    def take_delay_s(self) -> float:
        return self._slow.take_s()

    def take_reset(self) -> bool:
        return self._resets.take()

    def take_lost_ack(self) -> bool:
        return self._lost_acks.take()

    def apply(self, request: dict[str, Any]) -> None:
        """Arm a fault from a control-endpoint body: ``{"fault": "<method>", ...kwargs}``."""
        name = request.get("fault")
        if name not in _CONTROL_METHODS:
            raise InvalidConfigError(
                f"fault must be one of {sorted(_CONTROL_METHODS)}, was {name!r}"
            )
        kwargs = {k: v for k, v in request.items() if k != "fault"}
        getattr(self, str(name))(**kwargs)  # each method checks its own arguments

    def _check_product(self, fault: str, product_id: str) -> None:
        if product_id not in self._engine.specs:
            raise InvalidConfigError(
                f"{fault}.product_id must be one of {sorted(self._engine.specs)}, "
                f"was {product_id!r}"
            )

    def _record(self, kind: str, detail: str) -> None:
        record = FaultRecord(kind=kind, detail=detail, time_ns=self._clock.time_ns())
        _log.warning("sim fault injected: %s %s", kind, detail)
        with self._lock:
            self._records.append(record)


_CONTROL_METHODS = frozenset(
    {
        "disconnect_all",
        "refuse_connections",
        "sequence_gap",
        "stale_feed",
        "resume_feed",
        "malformed_frame",
        "oversized_frame",
        "reject_subscribes",
        "duplicate_frames",
        "reset_mid_body",
        "funding_rate",
        "clock_skew",
        "cancel_only",
        "stuck_cancels",
        "drop_snapshots",
        "http_error",
        "slow_responses",
        "lose_order_ack",
        "delay_order_visibility",
        "duplicate_client_order_id",
        "price_jump",
        "trading_disabled",
        "clear",
    }
)
