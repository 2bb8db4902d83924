"""The Advanced Trade websocket feed: one thread that connects, subscribes, decodes, forwards.

Life of a connection: take a slot from the venue's websocket-connect budget, connect, send one
subscribe per channel (``heartbeats`` first, a fresh JWT on each when a signer is set), then
receive. Each frame is decoded by :func:`~perpsbot.venue.codec.decode_frame` and handed to
``on_frame``; connection events go to ``on_status``. Sequence numbers are checked per
connection: a jump reports a gap and resubscribes ``level2`` for a fresh snapshot; a smaller
number is dropped. A socket that stays silent for ``stale_after_s`` (heartbeats arrive every
second) is stale and is replaced. Reconnects never give up; they back off exponentially with
jitter, and the attempt count resets after a connection stayed healthy for ``healthy_after_s``.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Collection, Sequence
from typing import Any

import websocket

from perpsbot.backoff import Backoff
from perpsbot.clock import Clock
from perpsbot.ids import IdSource, ProcessIds, seeded_rng
from perpsbot.messages import (
    FeedConnected,
    FeedDisconnected,
    FeedReconnecting,
    FeedStats,
    FeedStatus,
    FeedStopped,
    Stamper,
)
from perpsbot.venue._feed_io import ConnectionEndedError, FeedConnection, skip_prefix
from perpsbot.venue._linger import DEFAULT_LINGER_S
from perpsbot.venue._wsframes import (
    DEFAULT_MAX_MESSAGE_BYTES,
    abort,
    shutdown,
)
from perpsbot.venue.auth import JwtSigner
from perpsbot.venue.frames import Frame
from perpsbot.venue.ratelimit import VenueRateLimiter

__all__ = [
    "COINBASE_WS_URL",
    "COINBASE_WS_USER_URL",
    "DEFAULT_LINGER_S",
    "WaitFn",
    "WebSocketFeed",
]

_log = logging.getLogger("perpsbot.venue.feed")

COINBASE_WS_URL = "wss://advanced-trade-ws.coinbase.com"
COINBASE_WS_USER_URL = "wss://advanced-trade-ws-user.coinbase.com"

#: ``wait(stop_event, seconds)`` blocks up to ``seconds`` and returns True if stop was asked.
WaitFn = Callable[[threading.Event, float], bool]

_CHANNELS = frozenset(
    {"ticker", "ticker_batch", "level2", "market_trades", "user", "candles", "status",
     "futures_balance_summary"}
)  # fmt: skip


def _event_wait(stop: threading.Event, seconds: float) -> bool:
    return stop.wait(seconds)


class WebSocketFeed(FeedConnection):
    """A self-healing websocket subscription running on its own daemon thread.

    Args:
        url: the market (``wss://advanced-trade-ws.coinbase.com``) or user endpoint.
        channels: channels besides ``heartbeats`` (always subscribed): ``ticker``, ``level2``,
            ``market_trades``, ``user``, ...
        product_ids: the products for every channel but ``heartbeats``.
        on_frame: called on the feed thread with each decoded frame; keep it quick.
        on_status: called on the feed thread with each status event (``FeedConnected`` ...
            ``FeedStopped``, from :mod:`perpsbot.messages`).
        on_wait: called on the feed thread before each socket read, once every frame read so
            far went to ``on_frame``: where a consumer that batches per read flushes.
        on_raw: called on the feed thread with each data message as received (its bytes and
            the clock's ``time_ns()`` when it was read), before it is decoded: a recorder.
        limiter: the venue's shared budget; every connect takes a ``websocket`` slot.
        clock: the time source.
        ids: stamps the status events (a process-unique source if None).
        signer: when set, every subscribe carries a fresh JWT (required for ``user``).
        name: names the thread, log lines and status events.
        stale_after_s: silence after which the connection is replaced.
        connect_timeout_s: bound on the TCP connect and handshake.
        backoff: the reconnect schedule.
        healthy_after_s: a connection that lived this long resets the attempt count.
        wait: how backoff waits; tests pass one that advances a fake clock.
        rng: jitter source.
        sslopt: websocket-client TLS options (e.g. a CA bundle); None verifies as usual.
        max_message_bytes: a larger message fails the connection as a protocol error. The
            default, 10 MiB, is what Coinbase's own SDK allows: its largest messages are
            level2 snapshots of the whole book.
        linger_s: the trickle linger, off (0) by default. The feed always reads what the
            socket holds before it calls ``on_wait`` and waits, so messages that arrive
            together are handled in one batch and a complete message never waits (see
            :mod:`._linger`). With a linger, after a small read (a trickle) the feed also
            waits up to this long before the next (after ``on_wait``), until half its read
            buffer is waiting: fewer wake-ups, but a message of a trickle may wait this long
            more before ``on_frame`` sees it (a burst is not held).
    """

    def __init__(
        self,
        *,
        url: str,
        channels: Sequence[str],
        product_ids: Sequence[str],
        on_frame: Callable[[Frame], None],
        on_status: Callable[[FeedStatus], None],
        limiter: VenueRateLimiter,
        on_wait: Callable[[], None] | None = None,
        on_raw: Callable[[bytes, int], None] | None = None,
        clock: Clock,
        ids: IdSource | None = None,
        signer: JwtSigner | None = None,
        name: str = "feed",
        stale_after_s: float = 5.0,
        connect_timeout_s: float = 5.0,
        backoff: Backoff | None = None,
        healthy_after_s: float = 30.0,
        wait: WaitFn | None = None,
        rng: random.Random | None = None,
        sslopt: dict[str, Any] | None = None,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        linger_s: float = DEFAULT_LINGER_S,
    ) -> None:
        unknown = sorted(set(channels) - _CHANNELS)
        if unknown:
            raise ValueError(f"channels must be among {sorted(_CHANNELS)}, found {unknown}")
        if "user" in channels and signer is None:
            raise ValueError("the 'user' channel needs a signer (a JWT on subscribe), none given")
        self.url = url
        self.name = name
        self.channels = tuple(c for c in channels if c != "heartbeats")
        self.product_ids = tuple(product_ids)
        self._on_frame = on_frame
        self._on_status = on_status
        self._on_wait = on_wait
        self._on_raw = on_raw
        self._limiter = limiter
        self._clock = clock
        self._stamper = Stamper(clock, ids or ProcessIds())
        self._signer = signer
        self._stale_after_s = stale_after_s
        self._connect_timeout_s = connect_timeout_s
        self._backoff = backoff or Backoff()
        self._healthy_after_s = healthy_after_s
        self._wait = wait or _event_wait
        self._rng = rng or seeded_rng()
        self._sslopt = sslopt
        self._max_message_bytes = max_message_bytes
        self._linger_s = linger_s
        self._stop = threading.Event()
        self._stopping = False  # set with _stop; the receive loop polls this per frame
        self._ws_lock = threading.Lock()
        self._ws: websocket.WebSocket | None = None
        self._thread: threading.Thread | None = None
        self._frames = self._decode_errors = self._callback_errors = self._gaps = 0
        self._out_of_order = self._stale = self._connect_attempts = self._connects = 0
        self._protocol_errors = self._skipped = 0
        self._skip_prefixes: tuple[bytes, ...] = ()
        self._paused: frozenset[str] = frozenset()

    # --- control (any thread) -------------------------------------------------------------

    def start(self) -> None:
        """Start the feed thread (once)."""
        if self._thread is not None:
            raise RuntimeError(f"feed {self.name!r} was already started")
        self._thread = threading.Thread(target=self._run, name=f"ws-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> bool:
        """Ask the thread to end, wake it, and wait up to ``timeout_s``; True if it ended.

        Safe from any thread, including the feed's own callbacks (which cannot wait for it).
        """
        self._stopping = True
        self._stop.set()
        with self._ws_lock:
            ws = self._ws
        if ws is not None:
            abort(ws)  # wakes a blocked recv
        thread = self._thread
        if thread is None:
            return True
        if thread is threading.current_thread():
            return False  # called from a callback: the thread ends once the callback returns
        thread.join(timeout_s)
        return not thread.is_alive()

    def skip_undecoded(self, channels: Collection[str]) -> None:
        """From the next frame on, forward the frames of ``channels`` undecoded, as
        :class:`~perpsbot.venue.frames.SkippedFrame` (their sequence numbers are still
        checked), until called again; ``()`` decodes everything again. For a consumer that
        has no use for a channel for a while: a ticker frame costs as much to decode as a
        level2 one. Any thread; the feed's own callbacks too. A frame whose envelope does not
        begin as Advanced Trade's does (``{"channel":"NAME",``) is decoded as usual.
        """
        unknown = sorted(set(channels) - _CHANNELS)
        if unknown:
            raise ValueError(f"channels must be among {sorted(_CHANNELS)}, found {unknown}")
        self._skip_prefixes = tuple(skip_prefix(channel) for channel in sorted(channels))

    def pause(self, channels: Collection[str]) -> None:
        """Stop receiving ``channels`` until called again (``()`` receives everything again):
        the feed thread unsubscribes them on its connection once it has handled the frame in
        hand (or the next to arrive: heartbeats come every second), and the frames already on
        their way are forwarded undecoded, as
        :meth:`skip_undecoded` does (this call replaces its set). For a consumer that has no
        use for a channel for a while: its frames then cost nothing, not even a read. Called
        again, the channels are subscribed again (their snapshot first); a new connection
        subscribes to every channel. Any thread; the feed's own callbacks too.
        """
        self.skip_undecoded(channels)
        self._paused = frozenset(channels) & frozenset(self.channels)

    @property
    def running(self) -> bool:
        """True while the feed thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def stats(self) -> FeedStats:
        """A snapshot of the counters (readable from any thread)."""
        return FeedStats(
            frames=self._frames,
            decode_errors=self._decode_errors,
            callback_errors=self._callback_errors,
            gaps=self._gaps,
            out_of_order=self._out_of_order,
            stale=self._stale,
            connect_attempts=self._connect_attempts,
            connects=self._connects,
            protocol_errors=self._protocol_errors,
            skipped=self._skipped,
        )

    # --- the thread -----------------------------------------------------------------------

    def _run(self) -> None:
        attempt = 0
        reason = ""
        try:
            while not self._stop.is_set():
                if attempt > 0:
                    delay = self._backoff.delay_s(attempt, self._rng)
                    self._emit(FeedReconnecting, attempt=attempt, delay_s=delay, reason=reason)
                    if self._wait(self._stop, delay):
                        break
                started = self._clock.monotonic()
                try:
                    reason, code = self._session(attempt)
                except Exception as exc:  # a bug of ours must cost a reconnect, not the feed
                    _log.exception("feed %s: unexpected failure in a session", self.name)
                    reason, code = f"internal error: {type(exc).__name__}: {exc}", None
                if self._stop.is_set():
                    break
                self._emit(FeedDisconnected, reason=reason, close_code=code)
                healthy = self._clock.monotonic() - started >= self._healthy_after_s
                attempt = 1 if healthy else attempt + 1
        except BaseException:  # SystemExit and the like: end, but always through FeedStopped
            _log.exception("feed %s: thread ended by an unexpected exception", self.name)
        finally:
            self._emit(FeedStopped)

    def _session(self, attempt: int) -> tuple[str, int | None]:
        """One connection from connect to end; returns why it ended."""
        self._limiter.websocket.acquire()
        self._connect_attempts += 1
        try:
            ws = websocket.create_connection(
                self.url,
                timeout=self._connect_timeout_s,
                skip_utf8_validation=True,  # the codec checks UTF-8 in every field it reads
                enable_multithread=False,  # only this thread sends and receives
                header=[f"x-cb-retry-counter: {attempt}"] if attempt else None,
                sslopt=self._sslopt,
            )
        except Exception as exc:  # refused, reset, DNS, timeout, bad handshake: all retried
            return f"connect failed: {type(exc).__name__}: {exc}", None
        with self._ws_lock:
            self._ws = ws
        if self._stop.is_set():
            abort(ws)
        try:
            self._connects += 1
            self._emit(FeedConnected, url=self.url, attempt=attempt)
            ws.settimeout(self._stale_after_s)
            self._subscribe(ws)
            self._receive(ws)
        except ConnectionEndedError as ended:
            return ended.reason, ended.close_code
        except Exception as exc:  # any socket or protocol failure ends this connection only
            return f"connection failed: {type(exc).__name__}: {exc}", None
        finally:
            with self._ws_lock:
                self._ws = None
            shutdown(ws)
        return "stopped", None

    def __repr__(self) -> str:
        return f"WebSocketFeed({self.name!r}, url={self.url!r}, channels={self.channels!r})"
