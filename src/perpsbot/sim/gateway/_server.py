"""The in-process handle of the simulated Global Derivatives gateway."""

from __future__ import annotations

import logging
import threading
from types import TracebackType
from typing import TYPE_CHECKING

from perpsbot.errors import SimLifecycleError
from perpsbot.sim._auth import JwtVerifier
from perpsbot.sim._serving import serve_in_thread
from perpsbot.sim.gateway._api import STREAMS, TRADING, GatewayApi
from perpsbot.sim.gateway._config import GatewayConfig
from perpsbot.sim.gateway._faults import GatewayFaults
from perpsbot.sim.gateway._http import PREFIX, GatewayHttpServer
from perpsbot.sim.gateway._ws import GatewayWsHub

if TYPE_CHECKING:
    from perpsbot.sim._exchange import SimExchange

_log = logging.getLogger("perpsbot.sim.gateway")


class SimGlobalGateway:
    """The simulated exchange speaking the Deribit-powered gateway's JSON-RPC 2.0.

    It shares the exchange's engine: the same markets, matching, funding, positions and
    margin, shown as linear USDC perpetuals ``{BASE}_USDC-PERPETUAL``. Three ports of its
    own: HTTP (:attr:`http_url`, ``POST <http_url>/<method>``), the trading WebSocket
    (:attr:`trading_ws_url`) and the streams WebSocket (:attr:`streams_ws_url`). The CDP key
    checks (``public/auth`` with ``grant_type: coinbase_cdp``) follow the exchange's
    ``SimConfig`` (``verify_auth``, ``public_keys_pem``). Faults are armed through
    :attr:`faults`.

    Args:
        exchange: the started or new :class:`~perpsbot.sim.SimExchange` whose engine it
            shares; its market clock (``tick_interval_s``, :meth:`SimExchange.step`) moves
            both faces.
        config: ports, token lifetimes, heartbeat floor and credits.

    Example:
        >>> with SimExchange(SimConfig(verify_auth=False, tick_interval_s=None)) as sim:
        ...     with SimGlobalGateway(sim) as gateway:
        ...         gateway.http_url.startswith("http://127.0.0.1:")
        True
    """

    def __init__(self, exchange: SimExchange, config: GatewayConfig | None = None) -> None:
        self.config = config if config is not None else GatewayConfig()
        engine = exchange.engine
        self._verifier = JwtVerifier(
            keys_pem=exchange.config.public_keys_pem,
            now_ns=engine.now_ns,
            leeway_s=exchange.config.jwt_leeway_s,
            enabled=exchange.config.verify_auth,
        )
        self.api = GatewayApi(engine=engine, config=self.config, verifier=self._verifier)
        self.faults = GatewayFaults(engine)
        self._hub = GatewayWsHub(
            api=self.api,
            faults=self.faults,
            host=self.config.host,
            ports=(self.config.trading_ws_port, self.config.streams_ws_port),
        )
        engine.subscribe(self._hub.on_event)
        self._stopping = threading.Event()
        self._http: GatewayHttpServer | None = None
        self._http_thread: threading.Thread | None = None
        self._state = "new"

    def start(self) -> SimGlobalGateway:
        if self._state != "new":
            raise SimLifecycleError(
                f"SimGlobalGateway.start needs a new gateway, was {self._state}"
            )
        self._http = GatewayHttpServer(
            (self.config.host, self.config.http_port),
            api=self.api,
            faults=self.faults,
            stopping=self._stopping,
        )
        self._state = "started"
        self._http_thread = serve_in_thread(self._http, "perpsbot-sim-gateway-http")
        try:
            self._hub.start()
        except BaseException:
            self.stop()
            raise
        _log.info(
            "sim gateway started: %s, %s and %s",
            self.http_url,
            self.trading_ws_url,
            self.streams_ws_url,
        )
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        if self._state != "started":
            return
        self._state = "stopped"
        self._stopping.set()
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
        if self._http_thread is not None:
            self._http_thread.join(timeout_s)
        self._hub.stop(timeout_s)

    def __enter__(self) -> SimGlobalGateway:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _port(self, what: str) -> int:
        if self._state == "new":
            raise SimLifecycleError(f"SimGlobalGateway.{what} is known only after start()")
        assert self._http is not None
        return int(self._http.server_address[1])

    @property
    def http_url(self) -> str:
        """``http://HOST:PORT/api/v2``: methods are posted to ``<http_url>/<method>``."""
        return f"http://{self.config.host}:{self._port('http_url')}{PREFIX.rstrip('/')}"

    @property
    def trading_ws_url(self) -> str:
        """``ws://HOST:PORT/ws/api/v2``: every method, ``private/subscribe`` to ``user.*``."""
        self._port("trading_ws_url")
        return f"ws://{self.config.host}:{self._hub.bound[TRADING]}/ws/api/v2"

    @property
    def streams_ws_url(self) -> str:
        """``ws://HOST:PORT/ws/api/v2``: ``public/subscribe`` to market data only."""
        self._port("streams_ws_url")
        return f"ws://{self.config.host}:{self._hub.bound[STREAMS]}/ws/api/v2"

    @property
    def auth_count(self) -> int:
        """How many ``public/auth`` exchanges succeeded (tests of token refresh read it)."""
        return self.api.auth_count

    def requests(self, method: str) -> int:
        """How many requests of ``method`` the gateway received, over HTTP and the
        WebSockets (tests count a client's calls with it)."""
        return self.api.requests(method)

    @property
    def tests_answered(self) -> int:
        """How many ``public/test`` calls came over the WebSockets."""
        return self._hub.tests_answered
