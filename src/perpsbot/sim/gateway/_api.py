"""The gateway's methods: who may call what on which host, and what each answers.

Three faces share one :class:`GatewayApi`: HTTP (``/api/v2/<method>``, a bearer token from
``public/auth`` on private methods), the trading WebSocket (every method; private ones after
``public/auth`` on the socket; ``private/subscribe`` to ``user.*`` only) and the streams
WebSocket (subscription-only: ``public/subscribe`` to market data, heartbeats, ``public/test``).
docs/venues/global-derivatives.md 1.2 to 1.4 and 1.8.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from perpsbot.ids import random_token
from perpsbot.sim._auth import JwtVerifier
from perpsbot.sim.gateway import _rpc as rpc
from perpsbot.sim.gateway import _trading as trading
from perpsbot.sim.gateway._book import GatewayLedger
from perpsbot.sim.gateway._config import GatewayConfig
from perpsbot.sim.gateway._credits import Credits
from perpsbot.sim.gateway._views import (
    account_json,
    instrument_json,
    instruments,
    ms,
    position_json,
)

if TYPE_CHECKING:
    from perpsbot.sim._engine import SimEngine

HTTP, TRADING, STREAMS = "http", "trading", "streams"
_MARKET_CHANNEL = re.compile(r"^(book|ticker|perpetual)\.([A-Z0-9_]+-PERPETUAL)\.(raw|100ms|agg2)$")
_USER_CHANNEL = re.compile(
    r"^user\.(orders|trades)\.([A-Z0-9_]+-PERPETUAL)\.(raw|100ms)$|^user\.portfolio\.([a-z]+)$"
)
_STREAMS_METHODS = frozenset(
    {
        "public/subscribe",
        "public/unsubscribe",
        "public/set_heartbeat",
        "public/disable_heartbeat",
        "public/test",
    }
)
_WS_ONLY = frozenset(
    {"public/set_heartbeat", "public/disable_heartbeat", "private/subscribe", "private/unsubscribe"}
)


@attrs.define(kw_only=True)
class Session:
    """One caller: a WebSocket connection, or one HTTP request with its bearer token."""

    host: str
    authorized_until_ns: int = 0
    heartbeat_s: float | None = None
    channels: set[str] = attrs.field(factory=set)


Handler = Callable[[Session, dict[str, Any]], Any]


class GatewayApi:
    """Answers one request at a time on any thread; the engine's lock guards the state."""

    def __init__(self, *, engine: SimEngine, config: GatewayConfig, verifier: JwtVerifier) -> None:
        self.engine = engine
        self.config = config
        self.verifier = verifier
        self.ledger = GatewayLedger(engine)
        self.credits = Credits(config, engine.clock)
        self._tokens: dict[str, int] = {}  # HTTP access token -> expiry (venue ns)
        self._refresh: dict[str, str] = {}  # refresh token -> the access token it renews
        self._lock = threading.Lock()
        self.auth_count = 0
        self._requests: dict[str, int] = {}  # method -> requests received (tests count them)
        engine_ = engine
        ledger = self.ledger
        self._methods: dict[str, tuple[bool, Handler]] = {
            "public/auth": (False, self._auth),
            "public/test": (False, lambda s, p: {"version": "2.1.1"}),
            "public/get_time": (False, lambda s, p: ms(engine_.now_ns())),
            "public/set_heartbeat": (False, self._set_heartbeat),
            "public/disable_heartbeat": (False, self._disable_heartbeat),
            "public/get_instruments": (False, self._instruments),
            "public/ticker": (False, self._ticker),
            "public/get_order_book": (False, self._order_book),
            "public/subscribe": (False, self._subscribe),
            "public/unsubscribe": (False, self._unsubscribe),
            "private/subscribe": (True, self._subscribe),
            "private/unsubscribe": (True, self._unsubscribe),
            "private/buy": (True, lambda s, p: trading.place(engine_, ledger, "buy", p)),
            "private/sell": (True, lambda s, p: trading.place(engine_, ledger, "sell", p)),
            "private/cancel": (True, lambda s, p: trading.cancel(engine_, ledger, p)),
            "private/get_order_state": (
                True,
                lambda s, p: trading.order_state(engine_, ledger, p),
            ),
            "private/get_open_orders_by_instrument": (
                True,
                lambda s, p: trading.open_orders(engine_, ledger, p),
            ),
            "private/get_open_orders_by_label": (
                True,
                lambda s, p: trading.open_orders(engine_, ledger, {"label": "", **p}),
            ),
            "private/get_order_state_by_label": (
                True,
                lambda s, p: trading.order_state_by_label(engine_, ledger, p),
            ),
            "private/get_order_history_by_instrument": (
                True,
                lambda s, p: trading.order_history(engine_, ledger, p),
            ),
            "private/get_user_trades_by_instrument": (
                True,
                lambda s, p: trading.user_trades(engine_, ledger, p),
            ),
            "private/get_user_trades_by_order": (
                True,
                lambda s, p: trading.user_trades(engine_, ledger, p),
            ),
            "private/get_positions": (True, self._positions),
            "private/get_position": (True, self._position),
            "private/get_account_summary": (True, lambda s, p: self._account()),
        }

    # --- dispatch -----------------------------------------------------------------------------

    def call(
        self, session: Session, method: str, params: dict[str, Any], *, bearer: str = ""
    ) -> Any:
        """The result of ``method``, or an :class:`~._rpc.RpcError` with the venue's code."""
        entry = self._methods.get(method)
        if entry is None or (session.host == STREAMS and method not in _STREAMS_METHODS):
            raise rpc.RpcError(rpc.METHOD_NOT_FOUND, "Method not found", {"method": method})
        if session.host == HTTP and method in _WS_ONLY:
            raise rpc.RpcError(
                rpc.METHOD_NOT_FOUND, "Method not found", {"reason": f"{method} is WebSocket only"}
            )
        if session.host == TRADING and method == "public/subscribe":
            raise rpc.RpcError(
                rpc.METHOD_NOT_FOUND,
                "Method not found",
                {"reason": "public/subscribe runs on the streams host"},
            )
        if not self.credits.take(method):
            raise rpc.RpcError(rpc.TOO_MANY_REQUESTS, "too_many_requests")
        private, handler = entry
        if private:
            self._check_authorized(session, bearer)
        self.engine.catch_up()
        return handler(session, params)

    def _check_authorized(self, session: Session, bearer: str) -> None:
        now = self.engine.now_ns()
        if session.host == HTTP:
            with self._lock:
                expiry = self._tokens.get(bearer)
            if expiry is None or now >= expiry:
                raise rpc.RpcError(
                    rpc.UNAUTHORIZED, "unauthorized", {"reason": "wrong or expired token"}
                )
        elif now >= session.authorized_until_ns:
            raise rpc.RpcError(rpc.UNAUTHORIZED, "unauthorized", {"reason": "not authorized"})

    # --- authentication -------------------------------------------------------------------------

    def _auth(self, session: Session, params: dict[str, Any]) -> Any:
        grant = params.get("grant_type")
        if grant == "coinbase_cdp":
            why = self.verifier.check_ws(params.get("token"))
            if why is not None:
                raise rpc.RpcError(rpc.INVALID_CREDENTIALS, "invalid_credentials", {"reason": why})
        elif grant == "refresh_token":
            with self._lock:
                if self._refresh.pop(str(params.get("refresh_token")), None) is None:
                    raise rpc.RpcError(rpc.INVALID_CREDENTIALS, "invalid_credentials")
        else:
            raise rpc.RpcError(
                rpc.INVALID_PARAMS,
                "Invalid params",
                {"reason": f"grant_type must be coinbase_cdp or refresh_token, was {grant!r}"},
            )
        lifetime_s = (
            self.config.http_token_lifetime_s
            if session.host == HTTP
            else self.config.ws_session_lifetime_s
        )
        expiry = self.engine.now_ns() + int(lifetime_s * 1e9)
        access, refresh = random_token(), random_token()
        with self._lock:
            self.auth_count += 1
            if session.host == HTTP:
                self._tokens[access] = expiry
            self._refresh[refresh] = access
        session.authorized_until_ns = expiry
        return {
            "access_token": access,
            "expires_in": int(lifetime_s),
            "refresh_token": refresh,
            "scope": "connection mainaccount",
            "token_type": "bearer",
        }

    # --- sessions -----------------------------------------------------------------------------

    def _set_heartbeat(self, session: Session, params: dict[str, Any]) -> Any:
        interval = params.get("interval")
        if (
            not isinstance(interval, (int, Decimal))
            or isinstance(interval, bool)
            or interval < Decimal(str(self.config.min_heartbeat_s))
        ):
            raise rpc.RpcError(
                rpc.INVALID_PARAMS,
                "Invalid params",
                {"reason": f"interval must be at least {self.config.min_heartbeat_s}s"},
            )
        session.heartbeat_s = float(interval)
        return "ok"

    def _disable_heartbeat(self, session: Session, params: dict[str, Any]) -> Any:
        session.heartbeat_s = None
        return "ok"

    def _subscribe(self, session: Session, params: dict[str, Any]) -> Any:
        """The channels accepted; the others are silently dropped, as the venue does."""
        channels = params.get("channels")
        if not isinstance(channels, list):
            raise rpc.RpcError(rpc.INVALID_PARAMS, "Invalid params", {"param": "channels"})
        accepted = [c for c in channels if isinstance(c, str) and self._serves(session, c)]
        session.channels.update(accepted)
        return accepted

    def _unsubscribe(self, session: Session, params: dict[str, Any]) -> Any:
        channels = params.get("channels")
        if not isinstance(channels, list):
            raise rpc.RpcError(rpc.INVALID_PARAMS, "Invalid params", {"param": "channels"})
        gone = [c for c in channels if c in session.channels]
        session.channels.difference_update(gone)
        return sorted(session.channels)

    def _serves(self, session: Session, channel: str) -> bool:
        names = instruments(self.engine)
        if session.host == STREAMS:
            match = _MARKET_CHANNEL.match(channel)
            return match is not None and match.group(2) in names
        match = _USER_CHANNEL.match(channel)
        if match is None:
            return False
        return match.group(2) in names if match.group(2) else match.group(4) == "usdc"

    # --- market data -----------------------------------------------------------------------

    def _instruments(self, session: Session, params: dict[str, Any]) -> Any:
        currency = str(params.get("currency", "any")).upper()
        kind = params.get("kind", "future")
        with self.engine.lock:
            return [
                instrument_json(name, spec, self.engine)
                for name, spec in instruments(self.engine).items()
                if kind in ("future", None) and currency in ("ANY", "USDC", spec.base_currency)
            ]

    def ticker(self, name: str) -> dict[str, Any]:
        """The ``ticker.*`` data and ``public/ticker`` result of ``name``."""
        spec = instruments(self.engine)[name]
        with self.engine.lock:
            market = self.engine.markets[spec.product_id]
            bids, asks = self.engine.published_book(spec.product_id)
            live = self.engine.product_live(spec.product_id)
            best_bid = max(bids) if bids else None
            best_ask = min(asks) if asks else None
            rate = live.funding_rate
            return {
                "instrument_name": name,
                "timestamp": ms(live.now_ns),
                "state": "open",
                "best_bid_price": best_bid,
                "best_bid_amount": bids[best_bid] * spec.contract_size if best_bid else 0,
                "best_ask_price": best_ask,
                "best_ask_amount": asks[best_ask] * spec.contract_size if best_ask else 0,
                "last_price": market.last_price,
                "mark_price": live.mid,
                "index_price": live.index_price,
                "open_interest": live.open_interest * spec.contract_size,
                "current_funding": rate,
                "funding_8h": rate * 8,
                "min_price": (live.mid * 95 / 100).quantize(spec.price_increment),
                "max_price": (live.mid * 105 / 100).quantize(spec.price_increment),
                "stats": {"volume": live.volume_24h * spec.contract_size},
            }

    def funding(self, name: str) -> dict[str, Any]:
        """The ``perpetual.*`` data of ``name``: the current rate and the index."""
        spec = instruments(self.engine)[name]
        with self.engine.lock:
            live = self.engine.product_live(spec.product_id)
            return {
                "interest": live.funding_rate,
                "timestamp": ms(live.now_ns),
                "index_price": live.index_price,
            }

    def _ticker(self, session: Session, params: dict[str, Any]) -> Any:
        name, _ = trading.instrument(self.engine, params)
        return self.ticker(name)

    def _order_book(self, session: Session, params: dict[str, Any]) -> Any:
        name, spec = trading.instrument(self.engine, params)
        depth = int(params.get("depth", 20))
        bids, asks = self.engine.published_book(spec.product_id)
        size = spec.contract_size
        return {
            "instrument_name": name,
            "timestamp": ms(self.engine.now_ns()),
            "bids": [[p, bids[p] * size] for p in sorted(bids, reverse=True)[:depth]],
            "asks": [[p, asks[p] * size] for p in sorted(asks)[:depth]],
            "state": "open",
        }

    def count_request(self, method: str) -> None:
        """One request of ``method`` received (answered or not)."""
        with self._lock:
            self._requests[method] = self._requests.get(method, 0) + 1

    def requests(self, method: str) -> int:
        """How many requests of ``method`` were received, over HTTP and the WebSockets."""
        with self._lock:
            return self._requests.get(method, 0)

    # --- account ---------------------------------------------------------------------------

    def _positions(self, session: Session, params: dict[str, Any]) -> Any:
        currency = str(params.get("currency", "any")).upper()
        with self.engine.lock:
            return [
                position_json(self.engine, name, spec)
                for name, spec in instruments(self.engine).items()
                if spec.product_id in self.engine.futures.positions
                and currency in ("ANY", "USDC", spec.base_currency)
            ]

    def _position(self, session: Session, params: dict[str, Any]) -> Any:
        name, spec = trading.instrument(self.engine, params)
        with self.engine.lock:
            return position_json(self.engine, name, spec)

    def _account(self) -> Any:
        with self.engine.lock:
            return account_json(self.engine)
