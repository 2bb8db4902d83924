"""Coinbase Advanced Trade clients: CDP auth, REST, the websocket feed, codec, book, budget;
and the venue gateway the executor trades through (:mod:`perpsbot.venue.gateway`)."""

from __future__ import annotations

from perpsbot.backoff import Backoff
from perpsbot.keys import CdpCredentials
from perpsbot.token_bucket import TokenBucket
from perpsbot.venue._direct import DirectApi
from perpsbot.venue.advanced_trade import AdvancedTradeGateway
from perpsbot.venue.auth import JwtSigner
from perpsbot.venue.book import OrderBook, exact, mid_of
from perpsbot.venue.catalog import ProductCatalog, ProductSource
from perpsbot.venue.codec import decode_frame, encode_subscribe
from perpsbot.venue.feed import COINBASE_WS_URL, COINBASE_WS_USER_URL, WebSocketFeed
from perpsbot.venue.frames import (
    BookUpdate,
    ErrorFrame,
    Frame,
    HeartbeatFrame,
    L2Event,
    Level2Frame,
    MarketTrade,
    MarketTradesEvent,
    MarketTradesFrame,
    SkippedFrame,
    SubscriptionsFrame,
    TickerFrame,
    TickerUpdate,
    UnknownFrame,
    UserEvent,
    UserFrame,
    UserOrderUpdate,
)
from perpsbot.venue.gateway import (
    CancelOutcome,
    GatewaySource,
    NewOrder,
    VenueAccount,
    VenueFill,
    VenueGateway,
    VenueOrder,
)
from perpsbot.venue.link import VenueLink
from perpsbot.venue.orders import (
    LimitGtc,
    LimitGtd,
    LimitIoc,
    MarginType,
    MarketIoc,
    OrderConfiguration,
    OrderRequest,
    OrderSide,
)
from perpsbot.venue.ratelimit import RateLimits, VenueRateLimiter
from perpsbot.venue.records import (
    Account,
    BestBidAsk,
    CancelResult,
    Candle,
    CfmBalanceSummary,
    CfmPosition,
    CreatedOrder,
    FeeTier,
    FillRecord,
    FutureDetails,
    MarketTicker,
    OrderPreview,
    OrderRecord,
    Product,
    ProductBook,
    ServerTime,
    TransactionSummary,
)
from perpsbot.venue.rest import COINBASE_REST_URL, RestClient, RetryPolicy
from perpsbot.venue.timestamps import format_rfc3339_ns, parse_rfc3339_ns

__all__ = [
    "COINBASE_REST_URL",
    "COINBASE_WS_URL",
    "COINBASE_WS_USER_URL",
    "Account",
    "AdvancedTradeGateway",
    "Backoff",
    "BestBidAsk",
    "BookUpdate",
    "CancelOutcome",
    "CancelResult",
    "Candle",
    "CdpCredentials",
    "CfmBalanceSummary",
    "CfmPosition",
    "CreatedOrder",
    "DirectApi",
    "ErrorFrame",
    "FeeTier",
    "FillRecord",
    "Frame",
    "FutureDetails",
    "GatewaySource",
    "HeartbeatFrame",
    "JwtSigner",
    "L2Event",
    "Level2Frame",
    "LimitGtc",
    "LimitGtd",
    "LimitIoc",
    "MarginType",
    "MarketIoc",
    "MarketTicker",
    "MarketTrade",
    "MarketTradesEvent",
    "MarketTradesFrame",
    "NewOrder",
    "OrderBook",
    "OrderConfiguration",
    "OrderPreview",
    "OrderRecord",
    "OrderRequest",
    "OrderSide",
    "Product",
    "ProductBook",
    "ProductCatalog",
    "ProductSource",
    "RateLimits",
    "RestClient",
    "RetryPolicy",
    "ServerTime",
    "SkippedFrame",
    "SubscriptionsFrame",
    "TickerFrame",
    "TickerUpdate",
    "TokenBucket",
    "TransactionSummary",
    "UnknownFrame",
    "UserEvent",
    "UserFrame",
    "UserOrderUpdate",
    "VenueAccount",
    "VenueFill",
    "VenueGateway",
    "VenueLink",
    "VenueOrder",
    "VenueRateLimiter",
    "WebSocketFeed",
    "decode_frame",
    "encode_subscribe",
    "exact",
    "format_rfc3339_ns",
    "mid_of",
    "parse_rfc3339_ns",
]
