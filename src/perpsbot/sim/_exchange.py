"""The in-process handle: build, start and stop the simulated exchange."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from types import TracebackType

from perpsbot.clock import Clock, SystemClock
from perpsbot.config import SimConfig
from perpsbot.errors import InvalidConfigError, SimLifecycleError
from perpsbot.sim._auth import JwtVerifier
from perpsbot.sim._engine import SimEngine
from perpsbot.sim._fault_params import Steps, convert
from perpsbot.sim._faults import SimFaults
from perpsbot.sim._inprocess import InProcessAdapter, InProcessApi
from perpsbot.sim._keeper import StateKeeper
from perpsbot.sim._ratelimit import ServerRateLimits
from perpsbot.sim._rest import API_PREFIX, RestServer
from perpsbot.sim._serving import serve_in_thread
from perpsbot.sim._ws import WsHub

_log = logging.getLogger("perpsbot.sim")


class SimExchange:
    """A loopback Coinbase Advanced Trade: REST on one port, websockets on another.

    Point a client at :attr:`rest_base_url`, :attr:`market_ws_url` and :attr:`user_ws_url`.
    The market moves every ``config.tick_interval_s`` (or only on :meth:`step` when that is
    ``None``); faults are armed through :attr:`faults`.

    With ``state_dir``, the exchange keeps its state there (``state.sqlite3``): balances,
    orders, fills, positions with their entry and PnL, funding, id counters and the market,
    loaded at :meth:`start` and saved as it changes, so the next exchange started on the
    directory goes on where this one stopped. One exchange per directory (a lock); a state
    that cannot be used is a :class:`~perpsbot.errors.SimStateError` naming the file, never
    replaced silently. ``seed`` and the starting balances shape a new account only.

    Args:
        config: the sim's settings; ``SimConfig(verify_auth=False)`` for a quick local run.
        clock: the source of time for timestamps, JWT checks, funding and fault windows.
        state_dir: where the state lives (created 0700); None keeps it in memory only.
        fresh: discard the state in ``state_dir`` and start a new account.
        read_only: load the state in ``state_dir`` and never write it, nor take its lock
            (to look at an account no exchange runs on).
        websockets: serve the websocket face; False for REST only (a backtest: no feed
            listens, so the market's events are not turned into frames at all).
        own_candles: keep a candle of each minute the markets move (served by the candles
            endpoint after the generated history); False for a run whose prices come from
            candles (a backtest), where they would only grow with the run.
        forget_settled_after_s: forget an order (and its fills) once it has been settled
            this long (``sim/_horizon.py``): a backtest's memory stays flat; None (the
            default) keeps them all. Not with ``state_dir``.

    Attributes:
        config: the settings it was built with.
        clock: the injected clock (``SystemClock()`` when none was given).
        faults: the :class:`SimFaults` handle that arms faults.

    Example:
        >>> with SimExchange(SimConfig(verify_auth=False, tick_interval_s=None)) as sim:
        ...     sim.step()
    """

    def __init__(
        self,
        config: SimConfig | None = None,
        *,
        clock: Clock | None = None,
        state_dir: Path | None = None,
        fresh: bool = False,
        read_only: bool = False,
        websockets: bool = True,
        own_candles: bool = True,
        forget_settled_after_s: float | None = None,
    ) -> None:
        if state_dir is not None and forget_settled_after_s is not None:
            raise InvalidConfigError(
                "a simulated exchange that keeps its state (state_dir) must keep every order"
                f" and fill, found forget_settled_after_s={forget_settled_after_s!r}"
            )
        self.config = config if config is not None else SimConfig(verify_auth=False)
        self.clock: Clock = clock if clock is not None else SystemClock()
        self._engine = SimEngine(
            self.config,
            self.clock,
            own_candles=own_candles,
            forget_settled_after_s=forget_settled_after_s,
        )
        self.state_dir = state_dir
        self._keeper: StateKeeper | None = None
        if state_dir is not None:
            self._keeper = StateKeeper(
                self._engine, state_dir, clock=self.clock, fresh=fresh, read_only=read_only
            )
            self._engine.subscribe(self._keeper.on_event)
        self._verifier = JwtVerifier(
            keys_pem=self.config.public_keys_pem,
            now_ns=self._engine.now_ns,
            leeway_s=self.config.jwt_leeway_s,
            enabled=self.config.verify_auth,
        )
        self._hub = WsHub(config=self.config, engine=self._engine, verifier=self._verifier)
        self.faults = SimFaults(clock=self.clock, engine=self._engine, ws=self._hub)
        self._hub.refusing = self.faults.refusing
        self._websockets = websockets
        if websockets:
            self._engine.subscribe(self._hub.on_event)
        self._stopping = threading.Event()
        self._rest: RestServer | None = None
        self._rest_thread: threading.Thread | None = None
        self._urls: dict[str, str] = {}
        self._state = "new"

    def start(self) -> SimExchange:
        """Load the state (if kept), bind both servers and start serving; returns ``self``.

        Raises:
            SimStateError: the kept state cannot be used (or another exchange runs on it).
            OSError: a port is taken.
        """
        if self._state != "new":
            raise SimLifecycleError(f"SimExchange.start needs a new sim, was {self._state}")
        if self._keeper is not None:
            self._keeper.open()
        try:
            self._rest = RestServer(
                (self.config.host, self.config.rest_port),
                engine=self._engine,
                faults=self.faults,
                verifier=self._verifier,
                limits=ServerRateLimits(
                    self.clock,
                    enforce=self.config.enforce_rate_limits,
                    private_per_s=self.config.private_per_s,
                    public_per_s=self.config.public_per_s,
                ),
                stopping=self._stopping,
            )
        except BaseException:
            if self._keeper is not None:
                self._keeper.close(save=False)
            raise
        self._state = "started"
        self._rest_thread = serve_in_thread(self._rest, "perpsbot-sim-rest")
        try:
            if self._websockets:
                self._hub.start()
        except BaseException:
            self._stop(save=False)
            raise
        urls = {"rest_base_url": self.rest_base_url}
        if self._websockets:
            urls |= {"market_ws_url": self.market_ws_url, "user_ws_url": self.user_ws_url}
        self.announce(urls)
        _log.info("sim started: %s", ", ".join(urls.values()))
        return self

    def announce(self, urls: dict[str, str]) -> None:
        """Add ``urls`` to where this exchange says it answers, beside its kept state (a
        face started on it, e.g. the Global Derivatives gateway, says where it answers too)."""
        self._urls |= urls
        if self._keeper is not None:
            self._keeper.publish(dict(self._urls))

    def stop(self, timeout_s: float = 5.0) -> None:
        """Close every connection, join the server threads (at most about ``timeout_s``) and
        save the kept state."""
        self._stop(timeout_s)

    def _stop(self, timeout_s: float = 5.0, *, save: bool = True) -> None:
        if self._state != "started":
            return
        self._state = "stopped"
        self._stopping.set()
        if self._rest is not None:
            self._rest.shutdown()
            self._rest.close_open_connections(timeout_s)
            self._rest.server_close()
        if self._rest_thread is not None:
            self._rest_thread.join(timeout_s)
        try:
            if self._websockets:
                self._hub.stop(timeout_s)
        finally:
            if self._keeper is not None:
                self._keeper.close(save=save)
        _log.info("sim stopped")

    @property
    def engine(self) -> SimEngine:
        """The exchange's state and market clock, for another face of the same exchange
        (the simulated Global Derivatives gateway, :mod:`perpsbot.sim.gateway`)."""
        return self._engine

    @property
    def state_file(self) -> Path | None:
        """The kept state's file, if the state is kept."""
        return None if self._keeper is None else self._keeper.state_file

    def step(self, n: int = 1) -> None:
        """Advance the market ``n`` ticks (1 to 10,000) now, on the caller's thread."""
        for _ in range(convert(n, Steps, "step.n")):
            self._engine.step()

    def step_to(self, prices: Mapping[str, Decimal]) -> None:
        """Move the markets named in ``prices`` to those fair prices in one market step (the
        others stand still): a backtest's bar path."""
        self._engine.step(prices)

    def in_process_adapter(self) -> InProcessAdapter:
        """A ``requests`` transport adapter that answers the brokerage API in this process,
        without the socket (mount it on a session for :attr:`rest_base_url`): the same
        answers, on a rate budget of its own, without the HTTP face's faults."""
        return InProcessAdapter(
            engine=self._engine, limits=self._in_process_limits(), verifier=self._verifier
        )

    def in_process_api(self) -> InProcessApi:
        """The brokerage API in this process, for the ``direct`` of a REST client whose
        base URL is :attr:`rest_base_url`: the same answers, on a rate budget of its own,
        without HTTP framing and the HTTP face's faults."""
        return InProcessApi(
            engine=self._engine, limits=self._in_process_limits(), verifier=self._verifier
        )

    def _in_process_limits(self) -> ServerRateLimits:
        return ServerRateLimits(
            self.clock,
            enforce=self.config.enforce_rate_limits,
            private_per_s=self.config.private_per_s,
            public_per_s=self.config.public_per_s,
        )

    @property
    def steps(self) -> int:
        """How many market steps have run (by the ticker or :meth:`step`)."""
        with self._engine.lock:
            return self._engine.steps

    def __enter__(self) -> SimExchange:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def rest_port(self) -> int:
        if self._rest is None:
            raise SimLifecycleError("SimExchange.rest_port is known only after start()")
        return int(self._rest.server_address[1])

    @property
    def ws_port(self) -> int:
        if self._state == "new":
            raise SimLifecycleError("SimExchange.ws_port is known only after start()")
        if not self._websockets:
            raise SimLifecycleError("SimExchange.ws_port: this exchange serves no websockets")
        return self._hub.port

    @property
    def rest_base_url(self) -> str:
        """``http://HOST:PORT/api/v3/brokerage``"""
        return f"http://{self.config.host}:{self.rest_port}{API_PREFIX}"

    @property
    def market_ws_url(self) -> str:
        """``ws://HOST:PORT/ws``: market data (and, as on Coinbase, user channels too)."""
        return f"ws://{self.config.host}:{self.ws_port}/ws"

    @property
    def user_ws_url(self) -> str:
        """``ws://HOST:PORT/ws-user``: the user-order endpoint."""
        return f"ws://{self.config.host}:{self.ws_port}/ws-user"

    @property
    def control_url(self) -> str:
        """``http://HOST:PORT/_sim``: the fault-injection control endpoint."""
        return f"http://{self.config.host}:{self.rest_port}/_sim"
