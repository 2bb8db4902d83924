"""The frame reader keeps RFC 6455's rules as websocket-client does, in linear time and memory.

Each case is played over a real socket by a raw server, in one write and a byte per write.
A property test feeds arbitrary bytes and arbitrary frame sequences to the reader.
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from types import FrameType
from typing import Any

import attrs
import pytest
import websocket
from hypothesis import given, settings
from hypothesis import strategies as st

from perpsbot.venue._wsframes import (
    OPCODE_BINARY,
    OPCODE_CLOSE,
    OPCODE_TEXT,
    ConnectionClosedError,
    FrameReader,
    WebSocketProtocolError,
)
from tests.venue.raw_server import encode_frame, raw_ws_server

_MAX = 1000


def _ping(payload: bytes = b"hi") -> bytes:
    return encode_frame(payload, 0x9)


def _close(payload: bytes) -> bytes:
    return encode_frame(payload, OPCODE_CLOSE)


@attrs.frozen
class Case:
    stream: bytes
    messages: tuple[tuple[int, bytes], ...] = ()
    error: str = ""  # a protocol error matching this, after the messages


CASES: dict[str, Case] = {
    "fragments with a ping between them make one message": Case(
        encode_frame(b"fr", fin=False) + _ping() + encode_frame(b"ag", 0x0),
        messages=((OPCODE_TEXT, b"frag"),),
    ),
    "a binary message in three fragments": Case(
        encode_frame(b"\x00", OPCODE_BINARY, fin=False)
        + encode_frame(b"", 0x0, fin=False)
        + encode_frame(b"\x01", 0x0),
        messages=((OPCODE_BINARY, b"\x00\x01"),),
    ),
    "a text message beyond ASCII": Case(
        encode_frame("prix: 68 900 €".encode()),
        messages=((OPCODE_TEXT, "prix: 68 900 €".encode()),),
    ),
    "a character split between two fragments": Case(
        encode_frame(b"\xe2\x82", fin=False) + encode_frame(b"\xac", 0x0),
        messages=((OPCODE_TEXT, "€".encode()),),
    ),
    "a masked frame (a server must not mask)": Case(
        encode_frame(b"masked", mask=b"\x01\x02\x03\x04"), error="must not be masked"
    ),
    "a text frame that is not UTF-8": Case(
        encode_frame(b'{"price": "\xff"}'),
        error=r"must be UTF-8 \(RFC 6455 8.1\), was not: invalid start byte at byte 11",
    ),
    "a fragmented text message that is not UTF-8": Case(
        encode_frame(b"\xe2\x82", fin=False) + encode_frame(b"x", 0x0),
        error="text message must be UTF-8",
    ),
    "binary that is not UTF-8": Case(
        encode_frame(b"\xff\xfe", OPCODE_BINARY), messages=((OPCODE_BINARY, b"\xff\xfe"),)
    ),
    "a close with a code and a reason": Case(
        _close(b"\x03\xe8bye"), messages=((OPCODE_CLOSE, b"\x03\xe8bye"),)
    ),
    "an empty close": Case(_close(b""), messages=((OPCODE_CLOSE, b""),)),
    "a close with an application code": Case(
        _close((4000).to_bytes(2, "big")), messages=((OPCODE_CLOSE, b"\x0f\xa0"),)
    ),
    "RSV1 set": Case(encode_frame(b"x", rsv=0b100), error="reserved bits must be 0"),
    "RSV3 set on a ping": Case(encode_frame(b"x", 0x9, rsv=0b001), error="reserved bits"),
    "a data frame inside a fragmented message": Case(
        encode_frame(b"a", fin=False) + encode_frame(b"b"),
        error="a data frame arrived inside a fragmented message",
    ),
    "a new fragmented message inside one": Case(
        encode_frame(b"a", fin=False) + encode_frame(b"b", fin=False),
        error="a data frame arrived inside a fragmented message",
    ),
    "a continuation outside a message": Case(
        encode_frame(b"a") + encode_frame(b"b", 0x0),
        messages=((OPCODE_TEXT, b"a"),),
        error="continuation frame arrived outside a message",
    ),
    "a ping of 126 bytes": Case(_ping(b"p" * 126), error="<= 125 bytes, was 126"),
    "a close of 200 bytes": Case(_close(b"\x03\xe8" + b"r" * 198), error="<= 125 bytes, was 200"),
    "a fragmented ping": Case(
        encode_frame(b"p", 0x9, fin=False), error=r"control frame \(opcode 0x9\) was fragmented"
    ),
    "a close of one byte": Case(_close(b"\x03"), error="empty or >= 2 bytes, was 1"),
    "close code 999": Case(_close((999).to_bytes(2, "big")), error="close code must be valid.*999"),
    "close code 1005 (never on the wire)": Case(
        _close((1005).to_bytes(2, "big")), error="close code must be valid.*1005"
    ),
    "close code 5000": Case(_close((5000).to_bytes(2, "big")), error="close code must be valid"),
    "a close reason that is not UTF-8": Case(
        _close(b"\x03\xe8\xff\xfe"), error="close reason must be UTF-8"
    ),
    "opcode 3": Case(encode_frame(b"x", 0x3), error="opcode must be known, was 0x3"),
    "opcode 0xB": Case(encode_frame(b"x", 0xB), error="opcode must be known, was 0xb"),
    "a 60 MB length header": Case(
        encode_frame(b"xx", length=60 << 20), error="a frame announced 62914560"
    ),
    "a 2**63 length header": Case(encode_frame(b"", length=1 << 63), error="a frame announced"),
    "a fragmented message over the limit": Case(
        b"".join(encode_frame(b"f" * 300, 0x0 if i else 0x1, fin=False) for i in range(4)),
        error="fragmented message must fit in 1000 bytes",
    ),
    "a flood of empty fragments": Case(
        encode_frame(b"", fin=False) + encode_frame(b"", 0x0, fin=False) * 600,
        error="fragmented message must fit in 1000 bytes with its frame headers",
    ),
}


def _read_case(url: str, case: Case) -> None:
    ws = websocket.create_connection(
        url, timeout=5, skip_utf8_validation=True, enable_multithread=False
    )
    try:
        reader = FrameReader(ws, max_message_bytes=_MAX)
        got = [reader.read() for _ in case.messages]
        assert got == list(case.messages)
        if case.error:
            with pytest.raises(WebSocketProtocolError, match=case.error):
                reader.read()
    finally:
        ws.shutdown()


@pytest.mark.parametrize("byte_by_byte", [False, True], ids=["whole", "byte-by-byte"])
@pytest.mark.parametrize("name", list(CASES))
def test_each_framing_case_over_a_real_socket(name: str, byte_by_byte: bool) -> None:
    case = CASES[name]
    with raw_ws_server(case.stream, byte_by_byte=byte_by_byte) as url:
        _read_case(url, case)


def test_a_60_mb_length_header_allocates_nothing_before_its_payload_arrives() -> None:
    head = encode_frame(b"", length=60 << 20)
    with raw_ws_server(head + b"x" * 1000) as url:
        ws = websocket.create_connection(url, timeout=5, skip_utf8_validation=True)
        ws.settimeout(0.5)  # the payload never comes: the read ends in a timeout
        tracemalloc.start()
        try:
            with pytest.raises(TimeoutError):
                FrameReader(ws, max_message_bytes=64 << 20).read()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
            ws.shutdown()
    assert peak < 4 << 20  # before: the 60 MB buffer, allocated when the header arrived


_TEN_MIB = 10 * 1024 * 1024  # the default, written out: raising it must be a decision


def test_the_default_reader_takes_a_10_mib_message_and_refuses_one_byte_more() -> None:
    at_limit = encode_frame(b"a" * _TEN_MIB)
    over = encode_frame(b"b" * (_TEN_MIB + 1))
    with raw_ws_server(at_limit + over) as url:
        ws = websocket.create_connection(url, timeout=10, skip_utf8_validation=True)
        try:
            reader = FrameReader(ws)
            opcode, payload = reader.read()
            assert (opcode, len(payload)) == (OPCODE_TEXT, _TEN_MIB)
            with pytest.raises(WebSocketProtocolError, match=f"announced {_TEN_MIB + 1}"):
                reader.read()
        finally:
            ws.shutdown()


# --- without sockets: a fake one fed from memory --------------------------------------------


class _Sock:
    """What the reader uses of a socket, serving ``data`` in chunks of ``chunk`` bytes."""

    def __init__(self, data: bytes, chunk: int) -> None:
        self._data = data
        self._pos = 0
        self._chunk = chunk

    def recv(self, size: int) -> bytes:
        out = self._data[self._pos : self._pos + min(size, self._chunk)]
        self._pos += len(out)
        return out

    def recv_into(self, into: memoryview, size: int) -> int:
        """As a socket's: copies into ``into`` and allocates nothing for the bytes."""
        out = memoryview(self._data)[self._pos : self._pos + min(size, len(into), self._chunk)]
        into[: len(out)] = out
        self._pos += len(out)
        return len(out)

    def gettimeout(self) -> float:
        return 0.0


class _Ws:
    def __init__(self, data: bytes, chunk: int) -> None:
        self.sock = _Sock(data, chunk)
        self.pongs: list[bytes] = []

    def pong(self, payload: bytes) -> None:
        self.pongs.append(payload)


def _read_all(data: bytes, chunk: int, **kwargs: Any) -> list[tuple[int, bytes]]:
    """Every message until the input ends (ConnectionClosedError) or breaks a rule."""
    reader = FrameReader(_Ws(data, chunk), **kwargs)
    messages = []
    while True:
        try:
            messages.append(reader.read())
        except ConnectionClosedError:
            return messages


def test_reading_keeps_one_buffer_so_a_read_allocates_only_the_messages() -> None:
    # Before: every read allocated a fresh chunk of up to read_bytes, which a long-running
    # feed thread left for the C allocator to give back.
    frames = encode_frame(b"x" * 100) * 3000  # 300 KB: about ten reads of 32 KiB
    reader = FrameReader(_Ws(frames, chunk=32 * 1024), read_bytes=32 * 1024)
    read = 0
    tracemalloc.start()
    try:
        while read < 3000:
            assert reader.read() == (OPCODE_TEXT, b"x" * 100)
            read += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024  # a few messages at a time, never a read's 32 KiB


_frames = st.builds(
    encode_frame,
    st.binary(max_size=300),
    st.sampled_from([0x0, 0x1, 0x2, 0x3, 0x8, 0x9, 0xA, 0xF]),
    fin=st.booleans(),
    rsv=st.sampled_from([0, 0, 0, 1, 4]),
    mask=st.none() | st.binary(min_size=4, max_size=4),
)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(
    st.lists(_frames, max_size=12).map(b"".join) | st.binary(max_size=400),
    st.integers(min_value=1, max_value=64),
)
def test_arbitrary_bytes_give_valid_messages_or_the_protocol_error(data: bytes, chunk: int) -> None:
    try:
        messages = _read_all(data, chunk, max_message_bytes=_MAX)
    except WebSocketProtocolError:
        return  # the one error for a rule broken
    for opcode, payload in messages:
        assert opcode in (OPCODE_TEXT, OPCODE_BINARY, OPCODE_CLOSE)
        assert type(payload) is bytes
        assert len(payload) <= _MAX
        if opcode == OPCODE_TEXT:
            payload.decode("utf-8")  # a text message that is not UTF-8 is never handed on


def _calls_to_read(data: bytes, chunk: int) -> int:
    """Python and C function calls made while reading ``data``: a count, not a clock."""
    calls = 0

    def count(frame: FrameType, event: str, arg: object) -> None:
        nonlocal calls
        calls += 1

    sys.setprofile(count)
    try:
        _read_all(data, chunk)
    finally:
        sys.setprofile(None)
    return calls


def _one_byte_fragments(n: int) -> bytes:
    first = encode_frame(b"a", fin=False)
    return first + encode_frame(b"b", 0x0, fin=False) * (n - 2) + encode_frame(b"c", 0x0)


@pytest.mark.parametrize("chunk", [65536, 7])
def test_reading_many_fragments_takes_work_linear_in_their_number(chunk: int) -> None:
    # 40,000 one-byte fragments took 15.9 s (each fragment re-summed all before it).
    small, large = (
        _calls_to_read(_one_byte_fragments(4000), chunk),
        _calls_to_read(_one_byte_fragments(40_000), chunk),
    )
    assert large < 12 * small  # linear: ~10x the work for 10x the fragments
    assert _read_all(_one_byte_fragments(40_000), chunk) == [
        (OPCODE_TEXT, b"a" + b"b" * 39_998 + b"c")
    ]


def _best_of_3_cpu_s(data: bytes, chunk: int) -> float:
    # This thread's CPU time, not the wall clock: other processes on a busy machine do not
    # inflate it.
    times = []
    for _ in range(3):
        started = time.thread_time()
        _read_all(data, chunk)
        times.append(time.thread_time() - started)
    return min(times)


def test_reading_a_big_message_byte_by_byte_takes_time_linear_in_its_size() -> None:
    # A copy of the whole buffer per arriving byte costs no calls, only time: compare CPU
    # times, with a ratio generous enough for a busy machine (linear ~10x, quadratic ~100x).
    small = _best_of_3_cpu_s(encode_frame(b"s" * 5_000), 1)
    large = _best_of_3_cpu_s(encode_frame(b"s" * 50_000), 1)
    assert large < 35 * small
