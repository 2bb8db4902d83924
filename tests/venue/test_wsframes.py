from __future__ import annotations

import socket
import threading

import pytest
import websocket
from websockets.sync.server import ServerConnection

from perpsbot.venue._wsframes import OPCODE_BINARY, OPCODE_CLOSE, OPCODE_TEXT, FrameReader
from tests.venue.loopback import ws_server


def _client(url: str) -> websocket.WebSocket:
    return websocket.create_connection(
        url, timeout=5, skip_utf8_validation=True, enable_multithread=False
    )


def test_reader_returns_text_and_binary_messages_in_order() -> None:
    def handler(conn: ServerConnection) -> None:
        conn.send("hello")
        conn.send(b"\x00\x01")
        conn.send("x" * 70_000)  # a 64-bit length header
        conn.send("y" * 300)  # a 16-bit length header
        conn.recv()

    with ws_server(handler) as url:
        ws = _client(url)
        reader = FrameReader(ws)
        assert reader.read() == (OPCODE_TEXT, b"hello")
        assert reader.read() == (OPCODE_BINARY, b"\x00\x01")
        assert reader.read() == (OPCODE_TEXT, b"x" * 70_000)
        assert reader.read() == (OPCODE_TEXT, b"y" * 300)
        ws.send("bye")
        ws.close()


def test_reader_reassembles_fragmented_messages() -> None:
    def handler(conn: ServerConnection) -> None:
        conn.send(["frag", "ment", "ed"])
        conn.send("after")
        conn.recv()

    with ws_server(handler) as url:
        ws = _client(url)
        reader = FrameReader(ws)
        assert reader.read() == (OPCODE_TEXT, b"fragmented")
        assert reader.read() == (OPCODE_TEXT, b"after")
        ws.send("bye")
        ws.close()


def test_reader_answers_pings_and_skips_them() -> None:
    ponged = threading.Event()

    def handler(conn: ServerConnection) -> None:
        waiter = conn.ping(b"are-you-there")
        conn.send("data")
        if waiter.wait(5):
            ponged.set()
        conn.send("done")
        conn.recv()

    with ws_server(handler) as url:
        ws = _client(url)
        reader = FrameReader(ws)
        assert reader.read() == (OPCODE_TEXT, b"data")
        assert reader.read() == (OPCODE_TEXT, b"done")
        assert ponged.is_set()
        ws.send("bye")
        ws.close()


def test_reader_hands_back_the_close_frame_with_its_code() -> None:
    def handler(conn: ServerConnection) -> None:
        conn.close(1011, "boom")

    with ws_server(handler) as url:
        ws = _client(url)
        opcode, payload = FrameReader(ws).read()
        assert opcode == OPCODE_CLOSE
        assert int.from_bytes(payload[:2], "big") == 1011
        ws.shutdown()


def test_reader_times_out_on_a_silent_socket() -> None:
    release = threading.Event()

    def handler(conn: ServerConnection) -> None:
        release.wait(5)

    with ws_server(handler) as url:
        ws = _client(url)
        ws.settimeout(0.05)
        with pytest.raises(TimeoutError):
            FrameReader(ws).read()
        release.set()
        ws.shutdown()


def test_reader_refuses_a_message_over_its_size_limit() -> None:
    def handler(conn: ServerConnection) -> None:
        conn.send("z" * 5000)
        conn.recv()

    with ws_server(handler) as url:
        ws = _client(url)
        with pytest.raises(ConnectionError, match="must fit in 1000 bytes, a frame announced 5000"):
            FrameReader(ws, max_message_bytes=1000).read()
        ws.shutdown()


def test_reader_reads_a_multi_megabyte_frame_whole() -> None:
    big = "b" * (6 * 1024 * 1024)

    def handler(conn: ServerConnection) -> None:
        conn.send(big)
        conn.send("small")
        conn.recv()

    with ws_server(handler) as url:
        ws = _client(url)
        reader = FrameReader(ws)
        opcode, payload = reader.read()
        assert opcode == OPCODE_TEXT
        assert len(payload) == len(big)
        assert payload == big.encode()
        assert reader.read() == (OPCODE_TEXT, b"small")
        ws.send("bye")
        ws.close()


def test_on_wait_runs_before_the_reader_blocks_on_a_big_frame() -> None:
    # What was read before a big message (a level2 snapshot) must be flushed before the
    # reader waits for the rest of it, or a consumer that batches per read holds it back.
    class _Ws:
        def __init__(self, sock: socket.socket) -> None:
            self.sock = sock

    ours, theirs = socket.socketpair()
    with ours, theirs:
        ours.settimeout(5)
        big = b"b" * 100_000
        theirs.sendall(
            bytes((0x81, 5)) + b"small" + bytes((0x81, 127)) + len(big).to_bytes(8, "big") + big
        )
        waits: list[int] = []
        reader = FrameReader(_Ws(ours), read_bytes=4096, on_wait=lambda: waits.append(1))
        assert reader.read() == (OPCODE_TEXT, b"small")
        waits.clear()
        assert reader.read() == (OPCODE_TEXT, big)
        assert waits  # flushed before the reads of the big message's rest
