"""A complete message is handled without waiting: the reader takes what the socket holds
before it flushes and waits, and waits only on an empty socket or a message cut short. With
the trickle linger (opt-in), a trickle is read a batch at a time; a burst is never held back
for it."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import msgspec
import pytest

from perpsbot.clock import SystemClock
from perpsbot.runtime.testing import eventually
from perpsbot.venue import Backoff, Frame, VenueRateLimiter, WebSocketFeed
from perpsbot.venue._linger import read_ahead
from perpsbot.venue._wsframes import OPCODE_TEXT, FrameReader
from tests.venue.loopback import self_signed_tls
from tests.venue.raw_server import accept_handshake, encode_frame, raw_tcp_server


def _payload(seq: int, pad: int = 0) -> bytes:
    return msgspec.json.encode({
        "channel": "heartbeats", "client_id": "x" * pad, "timestamp": "2026-04-07T14:30:00.5Z",
        "sequence_num": seq, "events": [{"current_time": "x", "heartbeat_counter": seq}],
    })  # fmt: skip


def _heartbeat(seq: int, pad: int = 0) -> bytes:
    return encode_frame(_payload(seq, pad))


def _feed(
    address: str, frames: list[Frame], linger_s: float, on_wait: Callable[[], None]
) -> WebSocketFeed:
    feed = WebSocketFeed(
        url=f"ws://{address}/ws",
        channels=["ticker"],
        product_ids=["BTC-USD"],
        on_frame=frames.append,
        on_status=lambda status: None,
        on_wait=on_wait,
        limiter=VenueRateLimiter(clock=SystemClock()),
        clock=SystemClock(),
        backoff=Backoff(initial_s=5.0),
        linger_s=linger_s,
    )
    feed.start()
    return feed


@pytest.mark.parametrize(
    "pad",
    [0, 4_500],  # a heartbeat; a frame the size of the simulated exchange's level2 updates
)
def test_a_trickle_is_read_and_flushed_a_batch_at_a_time(pad: int) -> None:
    linger_s = 0.1
    clock = SystemClock()
    first_sent: list[float] = []

    def trickle(conn: socket.socket, stop: threading.Event) -> None:
        accept_handshake(conn)
        first_sent.append(clock.monotonic())
        for seq in range(30):  # one frame every 10 ms: 0.3 s in all, more on a busy machine
            if stop.wait(0.01):
                return
            conn.sendall(_heartbeat(seq, pad))
        stop.wait(10)

    frames: list[Frame] = []
    flushes: list[int] = []
    with raw_tcp_server(trickle) as address:
        feed = _feed(address, frames, linger_s, lambda: flushes.append(len(frames)))
        eventually(lambda: len(frames) == 30, 10, "thirty frames")
        took_s = clock.monotonic() - first_sent[0]
        assert feed.stop()
    batches = len({n for n in flushes if n})  # the frames delivered before each flush
    # Each batch but the last waited for the linger to pass or for 16 KiB to arrive, so
    # however slowly the frames came there are at most this many; a wake-up per frame would
    # flush 30 times.
    most = int(took_s / linger_s) + (30 * len(_heartbeat(0, pad))) // (16 * 1024) + 2
    assert batches <= most, f"{batches} batches in {took_s:.2f} s"


def test_a_burst_after_a_trickle_is_read_at_once_not_after_the_linger() -> None:
    burst_sent = threading.Event()

    def trickle_then_burst(conn: socket.socket, stop: threading.Event) -> None:
        accept_handshake(conn)
        conn.sendall(_heartbeat(0))  # a small read: the feed lingers after it
        stop.wait(0.2)
        conn.sendall(b"".join(_heartbeat(seq) for seq in range(1, 301)))  # ~45 KB at once
        burst_sent.set()
        stop.wait(60)

    frames: list[Frame] = []
    with raw_tcp_server(trickle_then_burst) as address:
        feed = _feed(address, frames, 30.0, lambda: None)
        assert burst_sent.wait(10)
        # Lingering runs until 16 KiB are waiting or the 30 s pass: the burst ends it at once.
        eventually(lambda: len(frames) == 301, 10, "the burst, long before the linger ends")
        assert feed.stop()


class _Socket:
    """A websocket-client stand-in whose ``sock`` is one end of a real socket pair."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def pong(self, payload: bytes) -> None:
        raise AssertionError("no ping is sent in these tests")


@pytest.fixture(params=[5.0, None], ids=["with a timeout", "blocking"])
def pair(request: pytest.FixtureRequest) -> Iterator[tuple[socket.socket, socket.socket]]:
    """(the reader's end, the server's end): what the server sends is in the reader's socket
    once ``sendall`` returns (a Unix socket pair), so the tests need no timing."""
    ours, theirs = socket.socketpair()
    ours.settimeout(request.param)
    with ours, theirs:
        yield ours, theirs


def _reader(sock: socket.socket, waits: list[str]) -> FrameReader:
    """A reader that notes each flush and each linger in ``waits``."""
    return FrameReader(
        _Socket(sock),
        read_bytes=32 * 1024,
        on_wait=lambda: waits.append("flush"),
        linger=lambda last_read: waits.append("linger"),
        read_ahead=read_ahead(sock),
    )


def _text(seq: int) -> tuple[int, bytes]:
    return OPCODE_TEXT, _payload(seq)


def test_a_complete_frame_in_the_socket_is_read_without_a_flush_or_a_wait(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    ours, theirs = pair
    waits: list[str] = []
    read = _reader(ours, waits).read
    theirs.sendall(_heartbeat(0))
    assert read() == _text(0)
    # Two frames arrive while the first is handled: both are read at once, in its batch.
    theirs.sendall(_heartbeat(1) + _heartbeat(2))
    assert [read(), read()] == [_text(1), _text(2)]
    assert waits == []


@pytest.mark.parametrize("cut", [1, 20], ids=["in its header", "in its payload"])
def test_the_reader_flushes_and_waits_only_on_a_frame_cut_short(
    pair: tuple[socket.socket, socket.socket], cut: int
) -> None:
    ours, theirs = pair
    frame = _heartbeat(7)
    waits: list[str] = []

    def flush() -> None:  # the reader is about to wait: the server sends the rest
        waits.append("flush")
        theirs.sendall(frame[cut:])

    reader = FrameReader(
        _Socket(ours), read_bytes=32 * 1024, on_wait=flush, read_ahead=read_ahead(ours)
    )
    theirs.sendall(_heartbeat(6) + frame[:cut])  # one frame and the start of the next
    assert reader.read() == _text(6)
    assert waits == []
    assert reader.read() == _text(7)
    assert waits == ["flush"]


class _TlsServerEnd:
    """The server's end of a TLS connection over a socket pair, its records in hand: what it
    encrypts is sent raw, so a test can cut a record short."""

    def __init__(self, sock: socket.socket, context: ssl.SSLContext) -> None:
        self.sock = sock
        self._in, self._out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._in, self._out, server_side=True)

    def handshake(self) -> None:
        while True:
            try:
                self._tls.do_handshake()
            except ssl.SSLWantReadError:
                self.sock.sendall(self._out.read())
                self._in.write(self.sock.recv(65536))
                continue
            self.sock.sendall(self._out.read())
            return

    def record(self, data: bytes) -> bytes:
        """``data`` encrypted, as the bytes to send."""
        self._tls.write(data)
        return self._out.read()


def test_a_tls_record_cut_short_is_not_waited_for_before_the_flush(tmp_path: Path) -> None:
    server_context, ca = self_signed_tls(tmp_path)
    client_context = ssl.create_default_context(cafile=str(ca))
    ours, theirs = socket.socketpair()
    ours.settimeout(5.0)
    server = _TlsServerEnd(theirs, server_context)
    shaking = threading.Thread(target=server.handshake)
    shaking.start()
    with client_context.wrap_socket(ours, server_hostname="127.0.0.1") as tls, theirs:
        shaking.join(5.0)
        read: list[tuple[int, bytes]] = []
        first, following = server.record(_heartbeat(1)), server.record(_heartbeat(2))

        def flush() -> None:  # once the first frame is handled, the server sends the rest
            if read:
                theirs.sendall(following[20:])

        reader = FrameReader(
            _Socket(tls), read_bytes=32 * 1024, on_wait=flush, read_ahead=read_ahead(tls)
        )
        theirs.sendall(first + following[:20])  # a record and a bit of the next
        read.append(reader.read())
        # The bit is no message yet: the reader flushes (and then waits) instead of waiting
        # in its read-ahead, before the flush, for the rest of the record.
        read.append(reader.read())
        assert read == [_text(1), _text(2)]
