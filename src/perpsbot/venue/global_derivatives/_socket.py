"""One JSON-RPC WebSocket to the gateway, kept open: connect, authenticate, heartbeats,
resubscribe after every reconnect, answers matched to their calls, notifications handed on.

A reader thread owns the connection. Each call registers its id, sends and waits for its
answer within its deadline; a connection that ends with calls waiting fails them (an order's
outcome is then unknown: nothing is re-sent here). Frames that cannot be read are counted and
skipped; a socket silent for two heartbeat intervals is taken for dead and replaced.
docs/venues/global-derivatives.md 1.2, 1.4, 1.9 to 1.11.
"""

from __future__ import annotations

import itertools
import logging
import random
import threading
from collections.abc import Callable, Sequence
from typing import Any

import websocket

from perpsbot.backoff import Backoff
from perpsbot.clock import Clock
from perpsbot.errors import (
    FrameDecodeError,
    OrderOutcomeUnknownError,
    VenueAuthError,
    VenueError,
    VenueRateLimitedError,
    VenueTransportError,
)
from perpsbot.ids import seeded_rng
from perpsbot.venue._wsframes import abort, shutdown
from perpsbot.venue.auth import JwtSigner
from perpsbot.venue.global_derivatives._budget import MATCHING
from perpsbot.venue.global_derivatives._codec import (
    Answer,
    Heartbeat,
    Notice,
    decode_frame,
    encode_request,
    typed,
)
from perpsbot.venue.global_derivatives._errors import LATER, order_error, read_error
from perpsbot.venue.global_derivatives._tokens import auth_params, renew_after_s
from perpsbot.venue.global_derivatives.records import AuthAnswer
from perpsbot.venue.ratelimit import VenueRateLimiter

_log = logging.getLogger("perpsbot.venue.global.socket")

#: The largest frame read (a book snapshot can pass the venue's 32 KB request cap).
MAX_FRAME_BYTES = 4 * 1024 * 1024


class _Waiter:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.answer: Answer | None = None


class RpcSocket:
    """A kept-open JSON-RPC WebSocket (the trading host with ``signer``, the streams host
    without).

    Args:
        url: ``wss://drb.coinbase.com/ws/api/v2`` (trading) or
            ``wss://streams.drb.coinbase.com/ws/api/v2`` (streams).
        signer: authenticates the socket (``public/auth``) after each connect; None: public.
        limiter: the venue's shared budget.
        clock: deadlines, re-authentication and silence (monotonic).
        on_notice: called on the reader thread with each notification (keep it short).
        heartbeat_s: asked of the venue with ``public/set_heartbeat`` (at least 10 live).
        timeout_s: the deadline of a call, and of connecting.
        on_connected: called on a setup thread after each (re)connect is authenticated and
            resubscribed, with the connection's number (its reconnect count: 0 for the
            first). It may come late, after that connection ended: a receiver tells a stale
            one by the number of the last ``on_disconnected``.
        on_disconnected: called on the reader thread when a connection ends (not at stop),
            with its number: notifications may be missed from now until the next
            ``on_connected`` of a later connection.
    """

    def __init__(
        self,
        *,
        url: str,
        signer: JwtSigner | None,
        limiter: VenueRateLimiter,
        clock: Clock,
        on_notice: Callable[[Notice], None],
        heartbeat_s: float = 10.0,
        timeout_s: float = 10.0,
        max_frame_bytes: int = MAX_FRAME_BYTES,
        backoff: Backoff | None = None,
        rng: random.Random | None = None,
        on_connected: Callable[[int], None] | None = None,
        on_disconnected: Callable[[int], None] | None = None,
    ) -> None:
        self.url = url
        self._signer = signer
        self._limiter = limiter
        self._clock = clock
        self._on_notice = on_notice
        self.heartbeat_s = heartbeat_s
        self.timeout_s = timeout_s
        self.max_frame_bytes = max_frame_bytes
        self._backoff = backoff or Backoff(initial_s=0.1, max_s=10.0, jitter=0.5)
        self._rng = rng or seeded_rng()
        self._on_connected = on_connected
        self._on_disconnected = on_disconnected
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._waiting: dict[int, _Waiter] = {}
        self._channels: list[str] = []
        self._ws: websocket.WebSocket | None = None
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._reauth_due_s: float | None = None
        self._thread = threading.Thread(
            target=self._run, name="perpsbot-global-socket", daemon=True
        )
        self.reconnects = 0
        self._setup_failures = 0
        #: Why the last session setup (auth, heartbeat, resubscribe) failed, if it did.
        self.setup_error = ""
        self.frames_bad = 0
        self.tests_answered = 0
        self.last_error = ""

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> RpcSocket:
        self._thread.start()
        return self

    def wait_ready(self, timeout_s: float) -> bool:
        """Whether the socket is connected, authenticated and subscribed within ``timeout_s``."""
        return self._ready.wait(timeout_s)

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stopping.set()
        self._ready.clear()
        ws = self._ws
        if ws is not None:
            abort(ws)  # wakes the reader at once
        self._thread.join(timeout_s)

    # --- calls -----------------------------------------------------------------------------------

    def subscribe(self, channels: Sequence[str]) -> list[str]:
        """Subscribe now (when connected) and after every reconnect; returns what the venue
        accepted now (it drops channels it does not serve without an error)."""
        with self._lock:
            self._channels += [c for c in channels if c not in self._channels]
        if not self._ready.is_set():
            return []
        return self._subscribe(list(channels))

    def _subscribe(self, channels: list[str]) -> list[str]:
        method = "private/subscribe" if self._signer is not None else "public/subscribe"
        accepted = self.call(method, {"channels": channels})
        accepted = list(accepted) if isinstance(accepted, list) else []
        dropped = sorted(set(channels) - set(accepted))
        if dropped:
            _log.error("%s: the venue did not accept the channels %s", self.url, dropped)
        return accepted

    def call(self, method: str, params: dict[str, Any], *, label: str = "") -> Any:
        """Send one request and wait for its answer within ``timeout_s``.

        With ``label`` the request places an order: an answer that does not come (deadline,
        socket closed) raises :class:`OrderOutcomeUnknownError`; otherwise
        :class:`VenueTransportError`.
        """
        deadline_s = self._clock.monotonic() + self.timeout_s
        self._budget(method, deadline_s)
        ws = self._ws
        if ws is None or (not self._ready.is_set() and not _setup_method(method)):
            raise VenueTransportError(f"{method}: the socket to {self.url} is not connected")
        request_id = next(self._ids)
        waiter = _Waiter()
        with self._lock:
            self._waiting[request_id] = waiter
        try:
            try:
                ws.send(encode_request(request_id, method, params).decode())
            except (websocket.WebSocketException, OSError) as exc:
                raise self._doubt(
                    method, label, f"the socket failed while sending: {exc!r}"
                ) from exc
            waiter.done.wait(max(0.0, deadline_s - self._clock.monotonic()))
        finally:
            with self._lock:
                self._waiting.pop(request_id, None)
        answer = waiter.answer
        if answer is None:
            why = "the socket closed" if waiter.done.is_set() else f"no answer in {self.timeout_s}s"
            raise self._doubt(method, label, why)
        if answer.error is not None:
            if answer.error.get("code") in LATER:
                self._limiter.public.hold_off(self._backoff.delay_s(1, self._rng))
            raise (
                order_error(method, label, answer.error)
                if label
                else read_error(method, answer.error)
            )
        return answer.result

    def _budget(self, method: str, deadline_s: float) -> None:
        buckets = [self._limiter.public]
        if method in MATCHING:
            buckets.append(self._limiter.private)
        for bucket in buckets:
            if bucket.acquire_within(max(0.0, deadline_s - self._clock.monotonic())) is None:
                raise VenueRateLimitedError(
                    f"{method} found no slot of the {bucket.name} budget before its deadline",
                    retry_after_s=bucket.free_in_s(),
                )

    def _doubt(self, method: str, label: str, why: str) -> VenueTransportError:
        if label:
            return OrderOutcomeUnknownError(
                f"{method} of {label!r}: {why}; the order may exist: look it up by label before"
                " sending it again",
                client_order_id=label,
            )
        return VenueTransportError(f"{method} on {self.url}: {why}")

    # --- the reader thread -----------------------------------------------------------------------

    def _run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                self._connect()
            except (websocket.WebSocketException, OSError) as exc:
                failures += 1
                self.last_error = repr(exc)
                _log.warning("%s: connect failed (%d): %r", self.url, failures, exc)
                self._stopping.wait(self._backoff.delay_s(failures, self._rng))
                continue
            failures = 0
            self._read()
            self._closed()
            if not self._stopping.is_set():
                if self._on_disconnected is not None:
                    self._on_disconnected(self.reconnects)
                self.reconnects += 1
                # A session that keeps failing its setup backs off like a failing connect.
                wait_s = self._backoff.delay_s(max(1, self._setup_failures), self._rng)
                self._stopping.wait(wait_s)

    def _connect(self) -> None:
        self._limiter.websocket.acquire()
        ws = websocket.create_connection(self.url, timeout=self.timeout_s, enable_multithread=True)
        self._ws = ws
        threading.Thread(
            target=self._set_up, args=(self.reconnects,), name="perpsbot-global-setup", daemon=True
        ).start()

    def _set_up(self, reconnects: int) -> None:
        """Authenticate, ask for heartbeats and resubscribe; then the socket is ready."""
        try:
            if self._signer is not None:
                self._authenticate()
            self.call("public/set_heartbeat", {"interval": self.heartbeat_s})
            with self._lock:
                channels = list(self._channels)
            if channels:
                self._subscribe(channels)
        except VenueError as exc:
            # The socket is useless without its session (whatever refused it: a refused
            # subscribe killed this thread before, leaving a socket that never subscribed
            # and never reconnected): end it; the reader reconnects.
            self._setup_failures += 1
            self.setup_error = str(exc)
            _log.warning("%s: setting up the session failed: %s", self.url, exc)
            ws = self._ws
            if ws is not None:
                abort(ws)
            return
        self._setup_failures = 0
        self._ready.set()
        if self._on_connected is not None:
            self._on_connected(reconnects)

    def _authenticate(self) -> None:
        assert self._signer is not None
        answer = typed(
            self.call("public/auth", auth_params(self._signer)), AuthAnswer, "public/auth"
        )
        self._reauth_due_s = self._clock.monotonic() + renew_after_s(answer.expires_in, cap_s=None)

    def _read(self) -> None:
        ws = self._ws
        assert ws is not None
        # Two intervals without a frame (the venue tests us every interval): a dead socket.
        ws.settimeout(2 * self.heartbeat_s + 1.0)
        while not self._stopping.is_set():
            try:
                raw = ws.recv()
            except websocket.WebSocketTimeoutException:
                _log.warning("%s: silent for two heartbeats, reconnecting", self.url)
                return
            except (websocket.WebSocketException, OSError) as exc:
                self.last_error = repr(exc)
                return
            if not raw:  # websocket-client answered a close frame
                return
            self._on_frame(raw)
            due = self._reauth_due_s
            if due is not None and self._clock.monotonic() >= due:
                self._reauth_due_s = None
                threading.Thread(target=self._reauthenticate, daemon=True).start()

    def _on_frame(self, raw: str | bytes) -> None:
        if len(raw) > self.max_frame_bytes:
            self.frames_bad += 1
            _log.error(
                "%s: skipped a frame of %d bytes (cap %d)", self.url, len(raw), self.max_frame_bytes
            )
            return
        try:
            frame = decode_frame(raw)
        except FrameDecodeError as exc:
            self.frames_bad += 1
            _log.error("%s: skipped a bad frame: %s", self.url, exc)
            return
        if isinstance(frame, Answer):
            with self._lock:
                waiter = (
                    self._waiting.get(frame.request_id) if frame.request_id is not None else None
                )
            if waiter is not None:
                waiter.answer = frame
                waiter.done.set()
        elif isinstance(frame, Heartbeat):
            if frame.kind == "test_request":
                threading.Thread(target=self._answer_test, daemon=True).start()
        else:
            try:
                self._on_notice(frame)
            except FrameDecodeError as exc:
                self.frames_bad += 1
                _log.error("%s: skipped a bad %s notification: %s", self.url, frame.channel, exc)

    def _answer_test(self) -> None:
        try:
            self.call("public/test", {})
            self.tests_answered += 1
        except (VenueTransportError, VenueRateLimitedError) as exc:
            _log.warning("%s: could not answer a test_request: %s", self.url, exc)

    def _reauthenticate(self) -> None:
        try:
            self._authenticate()
        except (VenueTransportError, VenueAuthError, VenueRateLimitedError) as exc:
            _log.warning("%s: re-authenticating failed, reconnecting: %s", self.url, exc)
            ws = self._ws
            if ws is not None:
                abort(ws)

    def _closed(self) -> None:
        self._ready.clear()
        ws, self._ws = self._ws, None
        if ws is not None:
            shutdown(ws)
        with self._lock:
            waiting = list(self._waiting.values())
        for waiter in waiting:
            waiter.done.set()  # no answer: the call raises


def _setup_method(method: str) -> bool:
    return method in {"public/auth", "public/set_heartbeat", "public/test"} or method.endswith(
        "/subscribe"
    )
