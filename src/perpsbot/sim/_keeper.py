"""Keeping a simulated exchange's state in a directory, so its account lasts across runs.

:class:`StateKeeper` loads the state when the exchange starts (or creates a new account),
then saves what changed each time the engine's lock is let go by its outermost holder
(:class:`SavingLock`): the account, orders and fills after any call that changed them, before
the exchange answers it, so whatever a client was told survives a ``kill -9``; the market
every 10 s, and everything at stop. What is saved is
:mod:`perpsbot.sim._snapshot`'s; where, :mod:`perpsbot.sim._state_file`'s.
"""

from __future__ import annotations

import itertools
import logging
import sqlite3
import threading
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from perpsbot.clock import Clock
from perpsbot.ids import random_token, seeded_rng
from perpsbot.sim._codec import STR, StateFormatError, listing, mapping
from perpsbot.sim._config import derived_seed
from perpsbot.sim._events import FuturesBalanceChanged, OrderChanged, SimEvent
from perpsbot.sim._order_ops import finish_cancel
from perpsbot.sim._snapshot import (
    ACCOUNT,
    CANDLE,
    FILL,
    MARKET,
    MARKET_CLOCK,
    ORDER,
    restore_part,
    save_part,
)
from perpsbot.sim._state_file import Saved, StateDirectory, StateFile, Writes, unusable

if TYPE_CHECKING:
    from collections.abc import Callable

    from perpsbot.sim._engine import SimEngine

__all__ = ["SavingLock", "StateKeeper"]

_log = logging.getLogger("perpsbot.sim.state")
_FINAL = frozenset({"FILLED", "CANCELLED", "EXPIRED", "FAILED"})
_RESTING = mapping(listing(STR))
_CANDLES_KEPT_S = 25 * 3600  # a day of candles, and an hour to spare
MARKET_SAVE_INTERVAL_S = 10.0


class SavingLock:
    """A reentrant lock that runs ``on_release`` when its outermost holder lets go, while it
    still holds it: every change under the lock is saved before anyone sees its effect."""

    def __init__(self, on_release: Callable[[], None]) -> None:
        self._lock = threading.RLock()
        self._depth = 0  # only its holder touches it
        self._on_release = on_release

    def __enter__(self) -> bool:
        self._lock.acquire()
        self._depth += 1
        return True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._depth == 1:
                self._on_release()
        finally:
            self._depth -= 1
            self._lock.release()


class StateKeeper:
    """Loads and saves one engine's state in ``directory`` (see the module docstring).

    Args:
        engine: the exchange's engine; :meth:`open` gives it a :class:`SavingLock`.
        directory: where the state lives; created (0700) when missing.
        clock: paces the market's saves.
        fresh: discard any saved state and start a new account.
        read_only: load the state and never write anything (``perpsbot account``).
    """

    def __init__(
        self,
        engine: SimEngine,
        directory: Path,
        *,
        clock: Clock,
        fresh: bool = False,
        read_only: bool = False,
    ) -> None:
        self.directory = StateDirectory(directory)
        self._engine = engine
        self._clock = clock
        self._fresh = fresh
        self._read_only = read_only
        self._file: StateFile | None = None
        self._failing = False
        # What the file holds: order id -> its row's seq, orders that may still change,
        # fills saved, candles from which minute on may still change.
        self._order_seq: dict[str, int] = {}
        self._live: set[str] = set()
        self._changed: set[str] = set()
        self._dirty = False
        self._fills_saved = 0
        self._candles_from: dict[str, int] = {}
        self._next_market_save = 0.0

    @property
    def state_file(self) -> Path:
        return self.directory.state_file

    # --- opening and closing -----------------------------------------------------------------

    def open(self) -> None:
        """Take the directory's lock and load the state, or create a new account in it.

        Raises:
            SimStateInUseError: another exchange runs on this state.
            SimStateError: the state cannot be used (named, with the way out), or, read-only,
                there is none.
        """
        if self._read_only:
            if not self.state_file.is_file():
                raise unusable(self.state_file, "there is no such file")
            file = StateFile(self.state_file, read_only=True)
            try:
                self._load(file)
            finally:
                file.close()
            return
        self.directory.lock()
        try:
            if self._fresh:
                self.directory.discard_state()
            self._file = StateFile(self.state_file, read_only=False)
            if self._file.is_new:
                self._create()
            else:
                self._load(self._file)
                for order in self._engine.orders.values():
                    if order.status == "CANCEL_QUEUED":  # held back by an earlier run's fault
                        finish_cancel(self._engine, order)
                self._save(market=True)
        except BaseException:
            self._release()
            raise
        self._engine.lock = SavingLock(self._after_change)

    def _create(self) -> None:
        assert self._file is not None
        account_id = random_token(8)
        seed = self._engine.config.seed
        self._file.create({"account_id": account_id, "seed": str(seed)})
        # A new account never hands out an earlier account's ids (a journal may hold them).
        self._engine._ids = seeded_rng(derived_seed(seed, "ids", account_id))
        self._save(market=True)
        _log.info("sim state %s: a new account (%s)", self.state_file, account_id)

    def publish(self, endpoint: dict[str, str]) -> None:
        """Say where the exchange running on this state answers (until :meth:`close`)."""
        if not self._read_only:
            self.directory.publish_endpoint(endpoint)

    def close(self, *, save: bool = True) -> None:
        """Save everything (unless ``save`` is false: a start that failed) and let go."""
        if self._file is None:
            return
        if save:
            with self._engine.lock:
                self._save(market=True)
        self._release()

    def _release(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            file.close()
        self.directory.withdraw_endpoint()
        self.directory.unlock()

    # --- loading -----------------------------------------------------------------------------

    def _load(self, file: StateFile) -> None:
        saved = file.read()
        try:
            self._restore(saved)
        except StateFormatError as error:
            raise unusable(file.path, str(error)) from None
        engine = self._engine
        self._order_seq = {order_id: seq for seq, order_id in enumerate(engine.orders)}
        self._saved(set(engine.orders), market=True)
        positions = {
            pid: f"{pos.contracts} @ {pos.avg_entry}"
            for pid, pos in engine.futures.positions.items()
            if pos.contracts
        }
        _log.log(
            logging.DEBUG if self._read_only else logging.INFO,
            "sim state %s: loaded account %s: %d orders, %d fills, futures positions %s",
            file.path,
            saved.meta.get("account_id", "?"),
            len(engine.orders),
            len(engine.fills),
            positions or "none",
        )

    def _restore(self, saved: Saved) -> None:
        engine = self._engine
        account = saved.parts.get("account", {})
        restore_part(engine, ACCOUNT, account, "account")
        unknown = set(engine.futures.positions) - set(engine.specs)
        if unknown:
            raise StateFormatError(
                "account.futures.positions",
                f"positions in products the exchange lists ({', '.join(engine.specs)})",
                sorted(unknown),
            )
        markets = saved.parts.get("markets", {})
        if not isinstance(markets, dict):
            raise StateFormatError("markets", "an object of markets by product", markets)
        for pid, data in markets.items():
            market = engine.markets.get(pid)
            if market is None:
                raise StateFormatError("markets", "markets of listed products", pid)
            restore_part(market, MARKET, data, f"markets[{pid}]")
        restore_part(engine, MARKET_CLOCK, saved.parts.get("clock", {}), "clock")
        for pid, candles in saved.candles.items():
            if pid in engine.markets:
                engine.markets[pid].candles = {
                    minute: list(CANDLE.decode(body, f"candles[{pid}][{minute}]"))
                    for minute, body in candles.items()
                }
        engine.orders.clear()
        engine.by_client_id.clear()
        for i, body in enumerate(saved.orders):
            order = ORDER.decode(body, f"orders[{i}]")
            engine.orders[order.order_id] = order
            engine.by_client_id[order.client_order_id] = order.order_id
        engine.fills.replace(FILL.decode(body, f"fills[{i}]") for i, body in enumerate(saved.fills))
        for pid, order_ids in _RESTING.decode(account.get("resting", []), "resting").items():
            for order_id in order_ids:
                if order_id not in engine.orders or pid not in engine.markets:
                    raise StateFormatError("resting", "ids of saved orders", order_id)
                engine.rest(engine.orders[order_id])
        for pid in engine.markets:  # the published book and ticker follow the restored market
            engine.publish_book(pid)
            engine.publish_ticker(pid)

    # --- saving ------------------------------------------------------------------------------

    def on_event(self, event: SimEvent) -> None:
        """Engine listener: note which orders and balances changed (the lock is held)."""
        if isinstance(event, OrderChanged):
            self._changed.add(str(event.order["order_id"]))
            self._dirty = True
        elif isinstance(event, FuturesBalanceChanged):
            self._dirty = True

    def _after_change(self) -> None:
        if self._file is None:
            return
        engine = self._engine
        account_due = (
            self._dirty
            or len(engine.fills) != self._fills_saved
            or len(engine.orders) != len(self._order_seq)
        )
        market_due = self._clock.monotonic() >= self._next_market_save
        if account_due or market_due:
            self._save(market=market_due)

    def _save(self, *, market: bool) -> None:
        """Write the account with the orders and fills that changed, and with ``market`` the
        market and candles too; the engine's lock is held.

        A write that fails is logged and tried again at the next change; it never fails the
        call that made the change.
        """
        assert self._file is not None
        engine = self._engine
        account = save_part(engine, ACCOUNT)
        account["resting"] = _RESTING.encode(
            {pid: [o.order_id for o in engine.resting_orders(pid)] for pid in engine.markets}
        )
        parts: dict[str, Any] = {"account": account}
        # Orders are only ever added: the ones past those saved are new.
        new = itertools.islice(engine.orders, len(self._order_seq), None)
        seqs: dict[str, int] = {}
        orders = []
        for order_id in dict.fromkeys([*new, *self._live, *self._changed]):
            seq = self._order_seq.get(order_id)
            if seq is None:
                seq = seqs[order_id] = len(self._order_seq) + len(seqs)
            orders.append((order_id, seq, ORDER.encode(engine.orders[order_id])))
        first_fill = self._fills_saved
        fills = [(i, FILL.encode(f)) for i, f in enumerate(engine.fills[first_fill:], first_fill)]
        candles: list[tuple[str, int, Any]] = []
        candles_before = None
        if market:
            parts["clock"] = save_part(engine, MARKET_CLOCK)
            parts["markets"] = {pid: save_part(m, MARKET) for pid, m in engine.markets.items()}
            for pid, m in engine.markets.items():
                since = self._candles_from.get(pid, 0)
                candles += [
                    (pid, minute, CANDLE.encode(c)) for minute, c in m.candles.items()
                    if minute >= since
                ]  # fmt: skip
            candles_before = engine.now_ns() // 10**9 - _CANDLES_KEPT_S
        writes = Writes(
            parts=parts,
            orders=orders,
            fills=fills,
            candles=candles,
            candles_before=candles_before,
        )
        try:
            self._file.write(writes)
        except sqlite3.Error as error:
            self._failed(error)
            return
        self._order_seq.update(seqs)
        self._saved({order_id for order_id, _, _ in orders}, market=market)

    def _saved(self, orders: set[str], *, market: bool) -> None:
        """Note what the file holds now."""
        engine = self._engine
        self._live = {
            order_id for order_id in orders if engine.orders[order_id].status not in _FINAL
        }
        self._changed.clear()
        self._dirty = False
        self._fills_saved = len(engine.fills)
        if market:
            self._candles_from = {
                pid: max(m.candles, default=0) for pid, m in engine.markets.items()
            }
            self._next_market_save = self._clock.monotonic() + MARKET_SAVE_INTERVAL_S
        if self._failing:
            self._failing = False
            _log.info("sim state %s: saved again", self.state_file)

    def _failed(self, error: BaseException) -> None:
        if not self._failing:
            self._failing = True
            _log.error(
                "sim state %s: saving failed (%s: %s); retried at every change until it works",
                self.state_file,
                type(error).__name__,
                error,
            )
