"""Subscribe and unsubscribe, as Advanced Trade answers them: acks, snapshots, flat errors."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from perpsbot.sim import _ws_frames as frames
from perpsbot.sim._wire import dumps

if TYPE_CHECKING:
    from perpsbot.sim._ws import WsHub
    from perpsbot.sim._ws_conn import WsClient

_log = logging.getLogger("perpsbot.sim.ws")
_NEED_PRODUCTS = frozenset({"level2", "ticker", "ticker_batch", "market_trades", "candles"})


def _error(client: WsClient, message: str) -> None:
    client.push_text(dumps({"type": "error", "message": message}).decode())


def handle_message(hub: WsHub, client: WsClient, message: Any) -> None:
    """Apply one client frame; anything but a valid (un)subscribe gets a flat error."""
    if not isinstance(message, dict) or message.get("type") not in ("subscribe", "unsubscribe"):
        _error(client, "failure to subscribe")
        return
    channel = message.get("channel")
    products = message.get("product_ids") or []
    if (
        channel not in frames.CHANNELS
        or not isinstance(products, list)
        or not all(isinstance(p, str) and p in hub.engine.specs for p in products)
    ):
        _log.info("sim ws: bad subscribe %r", message)
        _error(client, "failure to subscribe")
        return
    token = message.get("jwt")
    if channel in frames.AUTH_CHANNELS or token is not None:
        why = hub.verifier.check_ws(token)
        if why is not None:
            _log.info("sim ws: authentication failure on %s: %s", channel, why)
            _error(client, "authentication failure")
            return
    if hub.subscribe_rejections > 0:
        hub.subscribe_rejections -= 1
        _log.warning("sim fault: refusing subscribe to %s", channel)
        _error(client, "failure to subscribe")
        return
    if message["type"] == "unsubscribe":
        _unsubscribe(hub, client, channel, products)
        return
    if channel in _NEED_PRODUCTS and not products:
        _error(client, "failure to subscribe")
        return
    client.subscriptions.setdefault(channel, set()).update(products)
    hub.send(client, "subscriptions", [client.subscriptions_event()])
    _snapshot(hub, client, channel, products)


def _unsubscribe(hub: WsHub, client: WsClient, channel: str, products: list[str]) -> None:
    current = client.subscriptions.get(channel)
    if current is not None:
        if products:
            current.difference_update(products)
        if not products or not current:
            del client.subscriptions[channel]
    hub.send(client, "subscriptions", [client.subscriptions_event()])


def _snapshot(hub: WsHub, client: WsClient, channel: str, products: list[str]) -> None:
    engine = hub.engine
    pids = products or list(engine.specs)
    if channel == "level2":
        if hub.snapshot_drops > 0:
            hub.snapshot_drops -= 1
            _log.warning("sim fault: dropping the level2 snapshot of %s", products)
            return
        hub.send(client, "l2_data", [frames.l2_snapshot(engine, pid) for pid in products])
    elif channel == "ticker":
        hub.send(client, "ticker", [frames.ticker_snapshot(engine, products)])
    elif channel == "market_trades":
        with engine.lock:  # trades up to here are in the snapshot, later ones in updates
            client.trades_after = engine.last_trade_id
            snapshot = frames.trades_snapshot(engine, products)
        hub.send(client, "market_trades", [snapshot])
    elif channel == "ticker_batch":
        snapshot = frames.ticker_batch_snapshot(engine, products)
        client.last_batch.update({t["product_id"]: t for t in snapshot["tickers"]})
        hub.send(client, "ticker_batch", [snapshot])
    elif channel == "candles":
        hub.send(client, "candles", [frames.candles_event(engine, products, "snapshot")])
    elif channel == "status":
        hub.send(client, "status", [frames.status_snapshot(engine, pids)])
    elif channel == "user":
        for batch in frames.user_snapshots(engine, frozenset(products)):
            hub.send(client, "user", [batch])
    elif channel == "futures_balance_summary":
        with engine.lock:
            summary = engine.balance_ws_json()
        hub.send(client, "futures_balance_summary", [frames.balance_event("snapshot", summary)])
