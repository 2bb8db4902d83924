"""The websocket face: an asyncio ``websockets`` server in its own thread, fanning events out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import msgspec
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from perpsbot.config import SimConfig
from perpsbot.sim import _ws_frames as frames
from perpsbot.sim._auth import JwtVerifier
from perpsbot.sim._engine import SimEngine
from perpsbot.sim._events import (
    BookChanged,
    FuturesBalanceChanged,
    OrderChanged,
    SimEvent,
    TickerChanged,
    TradesPrinted,
)
from perpsbot.sim._loop_thread import LoopThread
from perpsbot.sim._subscribe import handle_message
from perpsbot.sim._ws_conn import WsClient
from perpsbot.sim._ws_periodic import Periodic

_log = logging.getLogger("perpsbot.sim.ws")
# Coinbase serves market data at the root of its host; "/ws" keeps a path for proxies.
PATHS = ("/", "/ws", "/ws-user")


class WsHub:
    """Runs the websocket server and the market clock on one event loop in one thread."""

    def __init__(self, *, config: SimConfig, engine: SimEngine, verifier: JwtVerifier) -> None:
        self.config = config
        self.engine = engine
        self.verifier = verifier
        self.refusing: Callable[[], bool] = lambda: False
        self.port = 0
        self.clients: set[WsClient] = set()
        self.stale: str | None = None
        self.subscribe_rejections = 0
        self.duplicates = 0
        self.snapshot_drops = 0
        self.periodic = Periodic(self)
        self._thread = LoopThread(self._main, name="perpsbot-sim-ws", what="sim websocket server")

    # --- lifecycle (any thread) ----------------------------------------------------------------

    def start(self, timeout_s: float = 10.0) -> None:
        self._thread.start(timeout_s)

    def stop(self, timeout_s: float = 5.0) -> None:
        if not self._thread.stop(timeout_s):
            raise TimeoutError(f"sim websocket thread did not stop within {timeout_s}s")

    def call(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the hub's loop (fault injection from other threads)."""
        self._thread.call(fn)

    def on_event(self, event: SimEvent) -> None:
        """Engine listener: hop onto the loop, keeping the engine's order."""
        self.call(lambda: self._dispatch(event))

    # --- the loop -------------------------------------------------------------------------------

    async def _main(self, thread: LoopThread) -> None:
        server: Server = await serve(
            self._serve_client,
            self.config.host,
            self.config.ws_port,
            process_request=self._process_request,
            max_size=self.config.max_frame_bytes,
            ping_interval=None,
            close_timeout=1.0,
        )
        self.port = next(iter(server.sockets)).getsockname()[1]
        config, periodic = self.config, self.periodic
        tasks = [
            asyncio.create_task(self._every(config.heartbeat_interval_s, periodic.heartbeat)),
            asyncio.create_task(self._every(config.trades_interval_s, periodic.flush_trades)),
            asyncio.create_task(self._every(config.candles_interval_s, periodic.candles)),
            asyncio.create_task(self._every(config.ticker_batch_interval_s, periodic.ticker_batch)),
        ]
        if self.config.tick_interval_s is not None:
            tasks.append(
                asyncio.create_task(self._every(self.config.tick_interval_s, self.engine.step))
            )
        thread.ready()
        try:
            await thread.stopped()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            server.close()
            await asyncio.wait_for(server.wait_closed(), timeout=3.0)

    async def _every(self, interval_s: float, fn: Callable[[], None]) -> None:
        # A fixed rate, not a fixed pause: at a 5 ms tick the step's own time would
        # otherwise cut 200 steps/s to about 150. A late step never bursts to catch up.
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            due = max(due + interval_s, loop.time())
            await asyncio.sleep(due - loop.time())
            fn()

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        path = request.path.split("?", 1)[0]
        if path not in PATHS:
            return connection.respond(404, f"no websocket at {path}; use /, /ws or /ws-user\n")
        if self.refusing():
            _log.warning(
                "sim fault: refusing websocket connection from %s", connection.remote_address
            )
            return connection.respond(503, "refusing connections (injected fault)\n")
        return None

    async def _serve_client(self, ws: ServerConnection) -> None:
        client = WsClient(ws, ws.request.path if ws.request else "")
        client.start()
        self.clients.add(client)
        try:
            await self._read(client)
        except ConnectionClosed:
            pass  # the client went away; cleanup below
        finally:
            self.clients.discard(client)
            await client.stop()

    async def _read(self, client: WsClient) -> None:
        timeout = self.config.subscribe_timeout_s
        if timeout is not None:
            try:
                async with asyncio.timeout(timeout):  # one deadline, however many bad frames
                    while not client.subscriptions:
                        self._handle(client, await client.ws.recv())
            except TimeoutError:
                _log.info(
                    "sim closing %s: no subscribe within %ss", client.ws.remote_address, timeout
                )
                await client.ws.close(1000, "no subscribe received")
                return
        async for raw in client.ws:
            self._handle(client, raw)

    def _handle(self, client: WsClient, raw: str | bytes) -> None:
        try:
            message: Any = msgspec.json.decode(raw)
        except (msgspec.DecodeError, RecursionError):  # too deep: refused too
            message = None
        handle_message(self, client, message)

    # --- fan-out (loop thread) ------------------------------------------------------------------

    def send(self, client: WsClient, channel: str, events: list[dict[str, Any]]) -> None:
        if self.stale == "all" or (self.stale == "data" and channel != "heartbeats"):
            return
        repeat = 1
        if self.duplicates > 0 and channel != "subscriptions":
            self.duplicates -= 1
            repeat = 2
        client.push(channel, events, self.engine.now_ns(), repeat=repeat)

    def _dispatch(self, event: SimEvent) -> None:
        if isinstance(event, BookChanged):
            body = frames.l2_update(event.product_id, event.changes, event.time_ns)
            for client in list(self.clients):
                if client.wants("level2", event.product_id):
                    self.send(client, "l2_data", [body])
        elif isinstance(event, TradesPrinted):
            self.periodic.add_trades(event.trades)
        elif isinstance(event, TickerChanged):
            for client in list(self.clients):
                if client.wants("ticker", event.product_id):
                    self.send(client, "ticker", [{"type": "update", "tickers": [event.ticker]}])
        elif isinstance(event, OrderChanged):
            for client in list(self.clients):
                if client.wants("user", event.order["product_id"]):
                    self.send(client, "user", [frames.user_update(event.order)])
        elif isinstance(event, FuturesBalanceChanged):
            for client in list(self.clients):
                if client.wants("futures_balance_summary"):
                    self.send(
                        client,
                        "futures_balance_summary",
                        [frames.balance_event("update", event.summary)],
                    )

    # --- faults (called through call(), so on the loop) ------------------------------------------

    def disconnect_all(self, close_code: int | None) -> None:
        self.call(lambda: self._disconnect(close_code))

    def _disconnect(self, close_code: int | None) -> None:
        for client in list(self.clients):
            if close_code is None:
                client.ws.transport.abort()
            else:
                asyncio.get_running_loop().create_task(
                    client.ws.close(close_code, "injected fault")
                )

    def skip_sequence(self, n: int) -> None:
        def skip() -> None:
            for client in self.clients:
                client.sequence += n

        self.call(skip)

    def send_raw(self, text: str) -> None:
        def push() -> None:
            for client in list(self.clients):
                client.push_text(text)

        self.call(push)

    def set_stale(self, mode: str | None) -> None:
        def apply() -> None:
            self.stale = mode

        self.call(apply)

    def reject_subscribes(self, count: int) -> None:
        def apply() -> None:
            self.subscribe_rejections = count

        self.call(apply)

    def drop_snapshots(self, count: int) -> None:
        def apply() -> None:
            self.snapshot_drops = count

        self.call(apply)

    def duplicate_frames(self, count: int) -> None:
        def apply() -> None:
            self.duplicates = count

        self.call(apply)
