"""The simulated gateway's settings."""

from __future__ import annotations

import attrs


@attrs.frozen(kw_only=True)
class GatewayConfig:
    """How the simulated gateway serves (ports 0: any free port).

    Credits follow the figures an adapter quotes for Deribit (docs/venues/global-derivatives.md
    1.11): a pool of 50,000, refilled at 10,000 a second, 500 a request; the matching engine's
    requests (buy, sell, cancel) also at most ``matching_per_s`` with ``matching_burst``.
    """

    host: str = "127.0.0.1"
    http_port: int = 0
    trading_ws_port: int = 0
    streams_ws_port: int = 0
    http_token_lifetime_s: float = 900.0
    ws_session_lifetime_s: float = 3000.0
    min_heartbeat_s: float = 10.0
    credit_pool: int = 50_000
    credit_refill_per_s: int = 10_000
    credit_cost: int = 500
    matching_per_s: float = 5.0
    matching_burst: int = 20
    max_request_bytes: int = 32 * 1024
