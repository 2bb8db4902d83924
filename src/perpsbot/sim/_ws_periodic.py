"""The websocket messages sent on a timer: heartbeats, trade batches, candles, ticker batches."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from perpsbot.sim import _ws_frames as frames
from perpsbot.sim._market import Trade
from perpsbot.sim._wire import go_time_string

if TYPE_CHECKING:
    from perpsbot.sim._ws import WsHub


class Periodic:
    """Runs on the hub's loop only."""

    def __init__(self, hub: WsHub) -> None:
        self._hub = hub
        self._heartbeat_counter = 0
        self._pending_trades: list[Trade] = []

    def add_trades(self, trades: Iterable[Trade]) -> None:
        self._pending_trades.extend(trades)

    def heartbeat(self) -> None:
        """One heartbeat to every subscriber; the counter rises even while the feed is stale."""
        self._heartbeat_counter += 1
        now = self._hub.engine.now_ns()
        event = frames.heartbeat_event(self._heartbeat_counter, go_time_string(now))
        for client in list(self._hub.clients):
            if client.wants("heartbeats"):
                self._hub.send(client, "heartbeats", [event])

    def flush_trades(self) -> None:
        """Trades since the last batch, to each subscriber of their products."""
        trades, self._pending_trades = self._pending_trades, []
        if not trades:
            return
        by_product = frames.trades_by_product(trades)
        for client in list(self._hub.clients):
            mine = [
                t
                for pid, ts in by_product.items()
                if client.wants("market_trades", pid)
                for t in ts
                if int(t.trade_id) > client.trades_after
            ]
            if mine:
                body = {"type": "update", "trades": [frames.trade_json(t) for t in reversed(mine)]}
                self._hub.send(client, "market_trades", [body])

    def candles(self) -> None:
        """The current five-minute candle of each subscribed product."""
        for client in list(self._hub.clients):
            pids = client.subscriptions.get("candles")
            if pids:
                event = frames.candles_event(self._hub.engine, sorted(pids), "update")
                self._hub.send(client, "candles", [event])

    def ticker_batch(self) -> None:
        """Tickers without best bid/ask, for products whose ticker moved since the last batch."""
        engine = self._hub.engine
        for client in list(self._hub.clients):
            pids = client.subscriptions.get("ticker_batch")
            if not pids:
                continue
            with engine.lock:
                tickers = {
                    pid: frames.batch_ticker(engine.ticker_json(pid)) for pid in sorted(pids)
                }
            moved: list[dict[str, Any]] = [
                t for pid, t in tickers.items() if client.last_batch.get(pid) != t
            ]
            client.last_batch.update(tickers)
            if moved:
                self._hub.send(client, "ticker_batch", [{"type": "update", "tickers": moved}])
