"""A loopback Advanced Trade ``level2`` source in its own process (so it never takes our GIL).

The server does the websocket handshake with the ``websockets`` library, waits for a
``level2`` subscribe, then writes frames straight to the socket. What it sends is chosen per
connection by the URL's query string (:meth:`FrameSource.url`):

- ``mode=count&frames=N``: as fast as the socket takes them, N update frames pre-encoded in
  batches of a few thousand (only ``sequence_num`` and ``timestamp`` are patched per batch,
  the timestamp once per batch), written with one ``sendall`` per batch.
- ``mode=burst&seconds=S``: the same for S seconds of wall time.
- ``mode=paced&rate=R&seconds=S``: R frames/s, each written on its own with its send time
  (wall clock, nanoseconds) as its ``timestamp``, so the receiver can measure latency.

Every connection starts with a ``subscriptions`` frame and one ``snapshot`` per product, and
ends with one *sentinel* update per product whose mid (:func:`sentinel_mid`) the cycle never
produces, so a receiver knows the last frame arrived. ``end=close`` then sends a close frame;
``end=hold`` keeps sending heartbeats each second until the client goes away. Heartbeats
are also sent about once a second during the run, in the same sequence as everything else.

Every update moves the mid of its product: the frame adds a bid above the best bid (walking
up L ticks) or removes the best bid (walking back down), and also resizes one deeper ask,
which leaves the mid alone. Products take turns, so each update frame yields exactly one mark.
``sequence_num`` is padded with spaces to a fixed width (legal JSON whitespace) so it can be
patched in place; that is the only departure from Coinbase's byte layout.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
import urllib.parse
from decimal import Decimal
from typing import Any

from perpsbot.clock import SystemClock, stopwatch_ns
from perpsbot.venue.timestamps import format_rfc3339_ns

PRODUCTS = ("BTC-USD", "ETH-USD", "SOL-USD")
_BASE_TICKS = {"BTC-USD": 6_000_000, "ETH-USD": 300_000, "SOL-USD": 15_000}  # cents
_WALK = 50  # ticks the best bid walks up and back down
_ASK_GAP = _WALK + 5  # best ask, in ticks above the base
_DEPTH = 100  # levels per side in a snapshot
_SEQ_WIDTH = 10
_TS_WIDTH = 30  # "2026-11-24T11:21:45.123456789Z"
_BATCH_CYCLES = 10
_MAX_LIFETIME_S = 900.0  # the source process exits after this, whatever happens
_CLOCK = SystemClock()


def _price(ticks: int) -> str:
    return f"{ticks // 100}.{ticks % 100:02d}"


def sentinel_mid(product: str) -> Decimal:
    """The mid of the sentinel frame: a best bid the cycle never reaches, under the best ask."""
    base = _BASE_TICKS[product]
    return (Decimal(_price(base + _WALK + 2)) + Decimal(_price(base + _ASK_GAP))) / 2


def _ts(ns: int) -> bytes:
    return format_rfc3339_ns(ns).encode()  # always 9 fraction digits: _TS_WIDTH bytes


def _header(length: int) -> bytes:
    if length < 126:
        return bytes((0x81, length))
    if length < 65536:
        return bytes((0x81, 126)) + length.to_bytes(2, "big")
    return bytes((0x81, 127)) + length.to_bytes(8, "big")


_SEQ_MARK = "\x00SEQ\x00"
_TS_MARK = "\x00TS\x00"


def _envelope(channel: str, events: list[Any]) -> str:
    # Key order as Coinbase sends it; markers are replaced by fixed-width slots.
    body = json.dumps(events, separators=(",", ":"))
    return (
        f'{{"channel":"{channel}","client_id":"","timestamp":"{_TS_MARK}",'
        f'"sequence_num":{_SEQ_MARK},"events":{body}}}'
    )


class _Template:
    """Frames with fixed-width slots for ``timestamp`` and ``sequence_num``."""

    def __init__(self, texts: list[str]) -> None:
        buf = bytearray()
        self.seq_slots: list[int] = []
        self.ts_slots: list[int] = []
        self.payload_spans: list[tuple[int, int]] = []
        for text in texts:
            filled = text.replace(_TS_MARK, "T" * _TS_WIDTH).replace(_SEQ_MARK, " " * _SEQ_WIDTH)
            payload = filled.encode()
            head = _header(len(payload))
            start = len(buf) + len(head)
            self.ts_slots.append(start + payload.index(b"T" * _TS_WIDTH))
            self.seq_slots.append(start + payload.index(b" " * _SEQ_WIDTH))
            self.payload_spans.append((start, start + len(payload)))
            buf += head + payload
        self.buf = buf

    def __len__(self) -> int:
        return len(self.seq_slots)

    def fill(self, first_seq: int, ts: bytes) -> bytes:
        buf = self.buf
        for i, (s, t) in enumerate(zip(self.seq_slots, self.ts_slots, strict=True)):
            buf[s : s + _SEQ_WIDTH] = b"%10d" % (first_seq + i)
            buf[t : t + _TS_WIDTH] = ts
        return bytes(buf)


def _level(side: str, ticks: int, quantity: str, event_time: str) -> dict[str, str]:
    return {"side": side, "event_time": event_time, "price_level": _price(ticks),
            "new_quantity": quantity}  # fmt: skip


def _update(product: str, updates: list[dict[str, str]], kind: str = "update") -> str:
    return _envelope("l2_data", [{"type": kind, "product_id": product, "updates": updates}])


def _snapshot(product: str) -> str:
    base = _BASE_TICKS[product]
    epoch = "1970-01-01T00:00:00Z"
    bids = [_level("bid", base - 1 - i, f"{0.5 + i / 100:.8f}", epoch) for i in range(_DEPTH)]
    asks = [_level("offer", base + _ASK_GAP + i, f"{0.5 + i / 100:.8f}", epoch)
            for i in range(_DEPTH)]  # fmt: skip
    return _update(product, bids + asks, "snapshot")


def _cycle_frames() -> list[str]:
    """One full cycle: each product's best bid walks up _WALK ticks and back, in turns."""
    event_time = "2026-01-01T00:00:00.000000000Z"
    frames = []
    for step in range(2 * _WALK):
        for n, product in enumerate(PRODUCTS):
            base = _BASE_TICKS[product]
            if step < _WALK:  # add a bid above the best: the mid rises half a tick
                top = _level("bid", base + step, f"{0.1 + step / 1000:.8f}", event_time)
            else:  # remove the best bid: the mid falls back half a tick
                top = _level("bid", base + 2 * _WALK - 1 - step, "0.00000000", event_time)
            deeper = _level("offer", base + _ASK_GAP + 1 + (step + n) % 20,
                            f"{1 + step / 100:.8f}", event_time)  # fmt: skip
            frames.append(_update(product, [top, deeper]))
    return frames


def _sentinels() -> list[str]:
    event_time = "2026-01-01T00:00:00.000000000Z"
    return [
        _update(p, [_level("bid", _BASE_TICKS[p] + _WALK + 2, "0.01000000", event_time)])
        for p in PRODUCTS
    ]


def _heartbeat(counter: int) -> str:
    return _envelope("heartbeats", [{"current_time": "", "heartbeat_counter": counter}])


def _subscriptions() -> str:
    subs = {"heartbeats": [], "level2": list(PRODUCTS)}
    return _envelope("subscriptions", [{"subscriptions": subs}])


class _Session:
    """One connection's frames, numbered from 0 in one sequence across channels."""

    def __init__(self, sock: Any, stop: Any) -> None:
        self.sock = sock
        self.stop = stop
        self.nap = threading.Event()  # never set: waits are pure sleeps
        self.seq = 0
        self.heartbeats = 0
        self.next_heartbeat_ns = stopwatch_ns() + 1_000_000_000

    def send(self, template: _Template, ts_ns: int | None = None) -> None:
        ts = _ts(_CLOCK.time_ns() if ts_ns is None else ts_ns)
        data = template.fill(self.seq, ts)
        self.seq += len(template)
        self.sock.sendall(data)

    def send_text(self, text: str) -> None:
        self.send(_Template([text]))

    def maybe_heartbeat(self) -> None:
        if stopwatch_ns() >= self.next_heartbeat_ns:
            self.heartbeats += 1
            self.next_heartbeat_ns += 1_000_000_000
            self.send_text(_heartbeat(self.heartbeats))


def _run_session(session: _Session, params: dict[str, str]) -> None:
    mode = params.get("mode", "count")
    session.send_text(_subscriptions())
    for product in PRODUCTS:
        session.send_text(_snapshot(product))
    cycle = _cycle_frames()
    if mode == "paced":
        rate = float(params["rate"])
        total = int(rate * float(params["seconds"]))
        singles = [_Template([text]) for text in cycle]
        started = stopwatch_ns()
        interval_ns = 1e9 / rate
        sent = 0
        while sent < total and not session.stop.is_set():
            due = min(total, int((stopwatch_ns() - started) / interval_ns) + 1)
            while sent < due:
                session.send(singles[sent % len(singles)])
                sent += 1
            session.maybe_heartbeat()
            wait_ns = started + sent * interval_ns - stopwatch_ns()
            if wait_ns > 0:
                session.nap.wait(wait_ns / 1e9)
    else:
        batch = _Template(cycle * _BATCH_CYCLES)
        if mode == "burst":
            deadline = stopwatch_ns() + int(float(params["seconds"]) * 1e9)
            while stopwatch_ns() < deadline and not session.stop.is_set():
                session.send(batch)
                session.maybe_heartbeat()
        else:
            batches = max(1, round(int(params["frames"]) / len(batch)))
            for _ in range(batches):
                if session.stop.is_set():
                    break
                session.send(batch)
                session.maybe_heartbeat()
    session.send(_Template(_sentinels()))
    if params.get("end", "hold") == "close":
        session.sock.sendall(b"\x88\x02\x03\xe8")  # close 1000
        return
    deadline = stopwatch_ns() + 120 * 1_000_000_000
    while stopwatch_ns() < deadline and not session.stop.wait(1.0):
        session.send_text(_heartbeat(session.heartbeats + 1))
        session.heartbeats += 1


def session_payloads(ts_ns: int) -> list[bytes]:
    """What a connection carries before its heartbeats, as websocket payloads: subscriptions,
    snapshots, one cycle of updates, the sentinels (for tests of the source itself)."""
    texts = [_subscriptions(), *map(_snapshot, PRODUCTS), *_cycle_frames(), *_sentinels()]
    template = _Template(texts)
    data = template.fill(0, _ts(ts_ns))
    return [data[start:end] for start, end in template.payload_spans]


def frames_per_batch() -> int:
    """How many update frames one full-speed batch holds (``frames`` is rounded to it)."""
    return 2 * _WALK * len(PRODUCTS) * _BATCH_CYCLES


def _handler_for(stop: Any) -> Any:
    def handler(connection: Any) -> None:
        query = urllib.parse.urlsplit(connection.request.path).query
        params = dict(urllib.parse.parse_qsl(query))
        try:
            while True:  # wait for the level2 subscribe (heartbeats and ticker come too)
                message = json.loads(connection.recv(timeout=10))
                if message.get("channel") == "level2":
                    break
            _run_session(_Session(connection.socket, stop), params)
        except (OSError, TimeoutError):
            return  # the client went away: nothing to clean up but the connection
        except Exception as exc:  # websockets' ConnectionClosed and the like: same
            if type(exc).__name__.startswith("Connection"):
                return
            raise

    return handler


def _serve(port_queue: Any, stop: Any) -> None:
    from websockets.sync.server import serve  # noqa: PLC0415  (only in the child process)

    parent = os.getppid()
    with serve(
        _handler_for(stop), "127.0.0.1", 0, compression=None, ping_interval=None,
        close_timeout=1, max_size=1 << 20,
    ) as server:  # fmt: skip
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port_queue.put(server.socket.getsockname()[1])
        deadline = stopwatch_ns() + int(_MAX_LIFETIME_S * 1e9)
        while not stop.wait(0.5):
            if os.getppid() != parent or stopwatch_ns() > deadline:
                break
        server.shutdown()


class FrameSource:
    """The source process; use as a context manager. It always ends: on exit, when its parent
    dies, or after 15 minutes."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        self._ports = context.Queue()
        self._process = context.Process(
            target=_serve, args=(self._ports, self._stop), name="frame-source", daemon=True
        )
        self.port = 0

    def __enter__(self) -> FrameSource:
        self._process.start()
        self.port = self._ports.get(timeout=60)
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._process.join(5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(5)

    def url(self, mode: str, *, end: str = "hold", **params: float) -> str:
        query = urllib.parse.urlencode({"mode": mode, "end": end, **params})
        return f"ws://127.0.0.1:{self.port}/?{query}"
