"""The in-process handle: build, start and stop the simulated exchange."""

from __future__ import annotations

import logging
import threading
from types import TracebackType

from perpsbot.clock import Clock, SystemClock
from perpsbot.config import SimConfig
from perpsbot.errors import SimLifecycleError
from perpsbot.sim._auth import JwtVerifier
from perpsbot.sim._engine import SimEngine
from perpsbot.sim._fault_params import Steps, convert
from perpsbot.sim._faults import SimFaults
from perpsbot.sim._ratelimit import ServerRateLimits
from perpsbot.sim._rest import API_PREFIX, RestServer
from perpsbot.sim._ws import WsHub

_log = logging.getLogger("perpsbot.sim")


class SimExchange:
    """A loopback Coinbase Advanced Trade: REST on one port, websockets on another.

    Point a client at :attr:`rest_base_url`, :attr:`market_ws_url` and :attr:`user_ws_url`.
    The market moves every ``config.tick_interval_s`` (or only on :meth:`step` when that is
    ``None``); faults are armed through :attr:`faults`.

    Args:
        config: the sim's settings; ``SimConfig(verify_auth=False)`` for a quick local run.
        clock: the source of time for timestamps, JWT checks, funding and fault windows.

    Attributes:
        config: the settings it was built with.
        clock: the injected clock (``SystemClock()`` when none was given).
        faults: the :class:`SimFaults` handle that arms faults.

    Example:
        >>> with SimExchange(SimConfig(verify_auth=False, tick_interval_s=None)) as sim:
        ...     sim.step()
    """

    def __init__(self, config: SimConfig | None = None, *, clock: Clock | None = None) -> None:
        self.config = config if config is not None else SimConfig(verify_auth=False)
        self.clock: Clock = clock if clock is not None else SystemClock()
        self._engine = SimEngine(self.config, self.clock)
        self._verifier = JwtVerifier(
            keys_pem=self.config.public_keys_pem,
            now_ns=self._engine.now_ns,
            leeway_s=self.config.jwt_leeway_s,
            enabled=self.config.verify_auth,
        )
        self._hub = WsHub(config=self.config, engine=self._engine, verifier=self._verifier)
        self.faults = SimFaults(clock=self.clock, engine=self._engine, ws=self._hub)
        self._hub.refusing = self.faults.refusing
        self._engine.subscribe(self._hub.on_event)
        self._stopping = threading.Event()
        self._rest: RestServer | None = None
        self._rest_thread: threading.Thread | None = None
        self._state = "new"

    def start(self) -> SimExchange:
        """Bind both servers and start serving; returns ``self``."""
        if self._state != "new":
            raise SimLifecycleError(f"SimExchange.start needs a new sim, was {self._state}")
        self._state = "started"
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
        self._rest_thread = threading.Thread(
            target=self._rest.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="perpsbot-sim-rest",
            daemon=True,
        )
        self._rest_thread.start()
        try:
            self._hub.start()
        except BaseException:
            self.stop()
            raise
        _log.info(
            "sim started: rest %s, ws %s and %s",
            self.rest_base_url,
            self.market_ws_url,
            self.user_ws_url,
        )
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        """Close every connection and join the server threads (at most about ``timeout_s``)."""
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
        self._hub.stop(timeout_s)
        _log.info("sim stopped")

    def step(self, n: int = 1) -> None:
        """Advance the market ``n`` ticks (1 to 10,000) now, on the caller's thread."""
        for _ in range(convert(n, Steps, "step.n")):
            self._engine.step()

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
