"""The gateway's two WebSockets on one asyncio loop in its own thread: trading (every method,
``user.*`` channels) and streams (market data only), docs/venues/global-derivatives.md 1.2."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from perpsbot.sim._events import SimEvent
from perpsbot.sim._loop_thread import LoopThread
from perpsbot.sim.gateway import _rpc as rpc
from perpsbot.sim.gateway._api import STREAMS, TRADING, GatewayApi, Session
from perpsbot.sim.gateway._faults import GatewayFaults
from perpsbot.sim.gateway._notices import Notice, NoticeMaker
from perpsbot.sim.gateway._requests import respond

_log = logging.getLogger("perpsbot.sim.gateway.ws")
_TEST_REQUEST = rpc.encode(
    {"jsonrpc": "2.0", "method": "heartbeat", "params": {"type": "test_request"}}
).decode()


class _Peer:
    """One connection: its session, its outbound queue and its book snapshots' change ids."""

    def __init__(self, ws: ServerConnection, host: str) -> None:
        self.ws = ws
        self.session = Session(host=host)
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.snapshot_ids: dict[str, int] = {}
        self.tested = True  # the last test_request was answered
        self.heartbeat: asyncio.Task[None] | None = None

    def wants(self, notice: Notice) -> str | None:
        """The channel ``notice`` goes out on for this peer, or None."""
        for channel in self.session.channels:
            if channel == notice.prefix or channel.startswith(notice.prefix):
                if notice.change_id and notice.change_id <= self.snapshot_ids.get(channel, -1):
                    return None  # the snapshot already holds this change
                return channel
        return None

    def send(self, text: str) -> None:
        self.queue.put_nowait(text)


class GatewayWsHub:
    """Serves both sockets; engine events reach subscribers in the engine's order."""

    def __init__(
        self, *, api: GatewayApi, faults: GatewayFaults, host: str, ports: tuple[int, int]
    ) -> None:
        self.api = api
        self.faults = faults
        self.maker = NoticeMaker(api)
        self.host = host
        self.ports = ports
        self.bound: dict[str, int] = {}
        self.peers: set[_Peer] = set()
        self.tests_answered = 0
        self._thread = LoopThread(
            self._main, name="perpsbot-sim-gateway-ws", what="sim gateway websockets"
        )
        faults.drop = lambda: self.call(self._drop_all)
        faults.push_raw = lambda text: self.call(lambda: self._push_all(text))
        faults.test_request_now = lambda: self.call(self._test_all)

    # --- lifecycle --------------------------------------------------------------------------

    def start(self, timeout_s: float = 10.0) -> None:
        self._thread.start(timeout_s)

    def stop(self, timeout_s: float = 5.0) -> None:
        self._thread.stop(timeout_s)  # one still closing its sockets ends on its own (a daemon)

    def call(self, fn: Callable[[], None]) -> None:
        self._thread.call(fn)

    def on_event(self, event: SimEvent) -> None:
        """Engine listener (engine thread, under its lock): build now, deliver on the loop."""
        notices = [
            n
            for n in self.maker.notices(event)
            if not (n.prefix.startswith("book.") and self.faults.take_book_gap())
        ]
        if notices:
            self.call(lambda: self._deliver(notices))

    async def _main(self, thread: LoopThread) -> None:
        servers: list[Server] = []
        for host, port in zip((TRADING, STREAMS), self.ports, strict=True):
            server = await serve(
                functools.partial(self._serve, host=host),
                self.host,
                port,
                max_size=None,  # the gateway's own cap answers with an error instead
                ping_interval=None,
                close_timeout=1.0,
            )
            self.bound[host] = next(iter(server.sockets)).getsockname()[1]
            servers.append(server)
        thread.ready()
        try:
            await thread.stopped()
        finally:
            for server in servers:
                server.close()
            for server in servers:
                await asyncio.wait_for(server.wait_closed(), timeout=3.0)

    # --- one connection ---------------------------------------------------------------------

    async def _serve(self, ws: ServerConnection, *, host: str) -> None:
        peer = _Peer(ws, host)
        self.peers.add(peer)
        writer = asyncio.create_task(self._write(peer))
        try:
            async for raw in ws:
                delay_s = self.faults.take_delay_s()
                if delay_s > 0:
                    asyncio.get_running_loop().call_later(delay_s, self._handle, peer, raw)
                else:
                    self._handle(peer, raw)
        except ConnectionClosed:
            pass  # the client went away; cleanup below
        finally:
            self.peers.discard(peer)
            if peer.heartbeat is not None:
                peer.heartbeat.cancel()
            peer.queue.put_nowait(None)
            await asyncio.gather(writer, return_exceptions=True)

    async def _write(self, peer: _Peer) -> None:
        while (text := await peer.queue.get()) is not None:
            try:
                await peer.ws.send(text)
            except ConnectionClosed:
                return

    def _handle(self, peer: _Peer, raw: str | bytes) -> None:
        if peer not in self.peers:
            return  # gone while its request was held
        if len(raw) > self.api.config.max_request_bytes:
            error = rpc.RpcError(
                rpc.INVALID_REQUEST, "Invalid Request", {"reason": "frame > 32 KB"}
            )
            peer.send(rpc.encode(rpc.error_answer(None, error)).decode())
            return
        before = set(peer.session.channels)
        heartbeat_before = peer.session.heartbeat_s
        reply = respond(self.api, self.faults, peer.session, raw)
        if reply.method == "public/test":
            peer.tested = True
            self.tests_answered += 1
        if reply.answer is not None:
            peer.send(rpc.encode(reply.answer).decode())
        for channel in sorted(peer.session.channels - before):
            if channel.startswith("book."):
                notice = self.maker.snapshot(channel.split(".")[1])
                peer.snapshot_ids[channel] = notice.change_id
                peer.send(rpc.encode(rpc.notification(channel, notice.data)).decode())
        if peer.session.heartbeat_s != heartbeat_before:
            self._restart_heartbeat(peer)
        if reply.close:
            asyncio.get_running_loop().create_task(peer.ws.close(1008, "too_many_requests"))

    def _restart_heartbeat(self, peer: _Peer) -> None:
        if peer.heartbeat is not None:
            peer.heartbeat.cancel()
            peer.heartbeat = None
        if peer.session.heartbeat_s is not None:
            peer.heartbeat = asyncio.get_running_loop().create_task(
                self._beat(peer, peer.session.heartbeat_s)
            )

    async def _beat(self, peer: _Peer, interval_s: float) -> None:
        """A test request every interval; one left unanswered closes the connection."""
        while True:
            await asyncio.sleep(interval_s)
            if not peer.tested:
                _log.info(
                    "sim gateway: test_request unanswered, closing %s", peer.ws.remote_address
                )
                await peer.ws.close(1000, "heartbeat test_request unanswered")
                return
            peer.tested = False
            peer.send(_TEST_REQUEST)

    # --- fan-out and faults (loop thread) ---------------------------------------------------------

    def _deliver(self, notices: list[Notice]) -> None:
        for notice in notices:
            for peer in list(self.peers):
                channel = peer.wants(notice)
                if channel is not None:
                    peer.send(rpc.encode(rpc.notification(channel, notice.data)).decode())

    def _drop_all(self) -> None:
        for peer in list(self.peers):
            peer.ws.transport.abort()

    def _push_all(self, text: str) -> None:
        for peer in list(self.peers):
            peer.send(text)

    def _test_all(self) -> None:
        for peer in list(self.peers):
            peer.tested = False
            peer.send(_TEST_REQUEST)
