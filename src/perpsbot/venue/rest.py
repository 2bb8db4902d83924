"""The Coinbase Advanced Trade REST client (``/api/v3/brokerage``)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from decimal import Decimal
from typing import Any

import requests

from perpsbot.clock import Clock, SystemClock
from perpsbot.errors import (
    ProductNotFoundError,
    VenueArgumentError,
    VenueResponseError,
)
from perpsbot.venue import _parse as parse
from perpsbot.venue._create import create_once
from perpsbot.venue._direct import DirectApi
from perpsbot.venue._http import (
    MAX_RESPONSE_BYTES,
    HttpTransport,
    OutcomeHook,
    Params,
    RetryPolicy,
)
from perpsbot.venue.auth import JwtSigner
from perpsbot.venue.orders import OrderRequest
from perpsbot.venue.ratelimit import VenueRateLimiter
from perpsbot.venue.records import (
    Account,
    BestBidAsk,
    CancelResult,
    Candle,
    CfmBalanceSummary,
    CfmPosition,
    CreatedOrder,
    FillRecord,
    MarketTicker,
    OrderPreview,
    OrderRecord,
    Product,
    ProductBook,
    ServerTime,
    TransactionSummary,
)
from perpsbot.venue.timestamps import format_rfc3339_ns

__all__ = ["COINBASE_REST_URL", "RestClient", "RetryPolicy"]

COINBASE_REST_URL = "https://api.coinbase.com/api/v3/brokerage"
_MAX_PAGES = 100


class RestClient:
    """Typed access to Advanced Trade REST; thread-compatible (one per actor is simplest).

    Public market data goes through ``/market/*`` (public budget, no credentials needed);
    everything else is signed and uses the private budget. Idempotent requests are retried on
    transport failures, 5xx and 429; order creation is retried only with the same
    ``client_order_id`` and only after looking the order up.

    Args:
        base_url: ``https://api.coinbase.com/api/v3/brokerage`` or the simulator's.
        signer: signs private requests; None allows public endpoints only.
        limiter: the venue's shared budget.
        clock: measures the deadlines, which bound real I/O: the system clock if None (a
            test may pass a fake one only where no request is in flight as it moves).
        session: a ``requests.Session`` (one is created if None); its ``http(s)://``
            adapters are replaced by deadline-aware ones.
        timeout_s: the deadline of one attempt's exchange (connect, send, the whole body): a
            server that trickles its answer cannot hold a call longer. Above 0 and at most
            300 s, as ``venue.request_timeout_s``; anything else raises ``InvalidConfigError``.
        connect_timeout_s: the TCP connect (and TLS handshake) timeout, within ``timeout_s``.
        max_response_bytes: a longer answer is refused (``VenueResponseError``) unread.
        retry: attempts and backoff for retried requests.
        rng: jitter source (seed it in tests).
        wait: blocks for the given seconds; defaults to the limiter's.
        on_outcome: told the outcome of every attempt (``ok``, ``rate_limited``,
            ``auth_error``, ``transport_error``, ``response_error``), for metrics.
        direct: an exchange in this process that answers instead of HTTP (a backtest's):
            no socket, no HTTP framing, no signature unless it checks them.
    """

    def __init__(
        self,
        *,
        base_url: str = COINBASE_REST_URL,
        signer: JwtSigner | None,
        limiter: VenueRateLimiter,
        clock: Clock | None = None,
        session: requests.Session | None = None,
        timeout_s: float = 10.0,
        connect_timeout_s: float = 3.05,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        retry: RetryPolicy | None = None,
        rng: random.Random | None = None,
        wait: Callable[[float], None] | None = None,
        on_outcome: OutcomeHook | None = None,
        direct: DirectApi | None = None,
    ) -> None:
        self._http = HttpTransport(
            base_url=base_url,
            signer=signer,
            limiter=limiter,
            clock=clock or SystemClock(),
            session=session,
            timeout_s=timeout_s,
            connect_timeout_s=connect_timeout_s,
            max_response_bytes=max_response_bytes,
            retry=retry,
            rng=rng,
            wait=wait,
            on_outcome=on_outcome,
            direct=direct,
        )

    def close(self) -> None:
        """Close the HTTP session's pooled connections."""
        self._http.session.close()

    def within(self, seconds: float) -> AbstractContextManager[None]:
        """A block whose calls all end within ``seconds`` from now, together: attempts are cut
        short and retries that would not fit are not made (their last error is raised).

        ``with client.within(5.0): ...`` bounds a batch of calls, e.g. one polling round.
        """
        return self._http.scope(seconds)

    def _get(self, path: str, params: Params | None = None, *, private: bool = True) -> Any:
        return parse.obj(self._http.send("GET", path, params=params, private=private), path)

    def _pages(self, path: str, key: str, params: Params) -> Iterator[dict[str, Any]]:
        """Follow ``cursor`` pagination (``has_next`` when present, else a non-empty cursor)."""
        query: Params = dict(params)
        for _ in range(_MAX_PAGES):
            body = self._get(path, query)
            for i, item in enumerate(parse.items(body, key, path)):
                yield parse.obj(item, f"{path}.{key}[{i}]")
            cursor = body.get("cursor") or ""
            more = body.get("has_next", bool(cursor))
            if not more or not cursor or not isinstance(cursor, str):
                return
            query["cursor"] = cursor
        raise VenueResponseError(f"GET {path} must end within {_MAX_PAGES} pages, did not")

    # --- public market data ---------------------------------------------------------------

    def server_time(self) -> ServerTime:
        """The venue's clock (``GET /time``); use it to measure skew before signing."""
        body = self._get("/time", private=False)
        epoch_ms = parse.integer(body, "epochMillis", "time", default=-1)
        if epoch_ms < 0:
            epoch_ms = parse.integer(body, "epochSeconds", "time") * 1000
        return ServerTime(ts_ns=epoch_ms * 1_000_000)

    def products(self, *, product_type: str | None = None) -> list[Product]:
        """Every product (optionally ``SPOT`` or ``FUTURE`` only), following offset pages."""
        out: list[Product] = []
        limit = 250
        for _ in range(_MAX_PAGES):
            params: Params = {"limit": limit, "offset": len(out)}
            if product_type:
                params["product_type"] = product_type
            body = self._get("/market/products", params, private=False)
            page = parse.items(body, "products", "products")
            out.extend(parse.product(parse.obj(p, f"products[{i}]")) for i, p in enumerate(page))
            total = parse.integer(body, "num_products", "products", default=len(out))
            if len(page) < limit or len(out) >= total:
                return out
        raise VenueResponseError(f"GET /market/products must end within {_MAX_PAGES} pages")

    def product(self, product_id: str) -> Product:
        """One product's details: increments, min/max sizes, contract size, funding."""
        return parse.product(self._get(f"/market/products/{product_id}", private=False))

    def product_book(self, product_id: str, *, limit: int | None = None) -> ProductBook:
        """An order book snapshot of ``limit`` levels a side."""
        params: Params = {"product_id": product_id}
        if limit is not None:
            params["limit"] = limit
        body = self._get("/market/product_book", params, private=False)
        book = parse.product_book(parse.obj(body.get("pricebook"), "pricebook"), "pricebook")
        mid = parse.opt_dec(body, "mid_market", "product_book")
        return ProductBook(
            product_id=book.product_id, bids=book.bids, asks=book.asks, ts_ns=book.ts_ns,
            mid_market=mid,
        )  # fmt: skip

    def ticker(self, product_id: str, *, limit: int = 1) -> MarketTicker:
        """Recent trades plus best bid and ask."""
        body = self._get(f"/market/products/{product_id}/ticker", {"limit": limit}, private=False)
        return parse.market_ticker(body, product_id)

    def candles(
        self,
        product_id: str,
        *,
        start_s: int,
        end_s: int,
        granularity: str = "ONE_MINUTE",
        limit: int | None = None,
    ) -> list[Candle]:
        """Candles starting in ``[start_s, end_s)`` (Unix seconds), newest first as the venue
        sends them; at most 350 a request (``GET /market/products/{id}/candles``, public).
        Minutes without trades have no candle.

        Raises:
            VenueArgumentError: the venue refused the range or the granularity (a range of
                more than ``limit`` or 350 buckets, an unknown granularity).
            ProductNotFoundError: the venue does not list ``product_id``.
        """
        params: Params = {"start": str(start_s), "end": str(end_s), "granularity": granularity}
        if limit is not None:
            params["limit"] = limit
        path = f"/market/products/{product_id}/candles"
        try:
            body = self._get(path, params, private=False)
        except VenueResponseError as error:
            if error.status == 400:
                raise VenueArgumentError(str(error), status=400, body=error.body) from None
            if error.status == 404:
                raise ProductNotFoundError(
                    f"{product_id!r} must be a product the venue lists; {error}",
                    status=404,
                    body=error.body,
                ) from None
            raise
        return [
            parse.candle(parse.obj(c, f"candles[{i}]"), f"candles[{i}]")
            for i, c in enumerate(parse.items(body, "candles", "candles"))
        ]

    # --- private market data and accounts -------------------------------------------------

    def best_bid_ask(self, product_ids: list[str]) -> list[BestBidAsk]:
        """Top of book for several products in one request."""
        body = self._get("/best_bid_ask", {"product_ids": list(product_ids)})
        return [
            parse.best_bid_ask(parse.obj(b, f"pricebooks[{i}]"), f"pricebooks[{i}]")
            for i, b in enumerate(parse.items(body, "pricebooks", "best_bid_ask"))
        ]

    def accounts(self) -> list[Account]:
        """Every account (wallet), following pages."""
        return [
            parse.account(a, "accounts")
            for a in self._pages("/accounts", "accounts", {"limit": 250})
        ]

    def cfm_balance_summary(self) -> CfmBalanceSummary:
        """The US futures balance summary."""
        body = self._get("/cfm/balance_summary")
        return parse.balance_summary(parse.obj(body.get("balance_summary"), "balance_summary"))

    def cfm_positions(self) -> list[CfmPosition]:
        """Every open US futures position."""
        body = self._get("/cfm/positions")
        return [
            parse.position(parse.obj(p, f"positions[{i}]"), f"positions[{i}]")
            for i, p in enumerate(parse.items(body, "positions", "cfm_positions"))
        ]

    def transaction_summary(self, *, product_type: str | None = None) -> TransactionSummary:
        """Volume, fees and the fee tier (optionally for ``SPOT`` or ``FUTURE`` only)."""
        params: Params = {} if product_type is None else {"product_type": product_type}
        return parse.transaction_summary(self._get("/transaction_summary", params))

    # --- orders ---------------------------------------------------------------------------

    def preview_order(self, request: OrderRequest) -> OrderPreview:
        """What ``request`` would cost and which ``PREVIEW_*`` checks it fails; changes nothing."""
        body = self._http.send(
            "POST", "/orders/preview", body=request.to_wire(include_client_order_id=False)
        )
        return parse.preview(parse.obj(body, "preview"))

    def create_order(self, request: OrderRequest) -> CreatedOrder:
        """Create an order, exactly once.

        A 429 is retried with the same ``client_order_id``. After a transport failure, a
        timeout or a 5xx, the order is first looked up by ``client_order_id``; only if it is
        not there is the request sent again, still with the same id.

        Nothing assumes the venue deduplicates that id. A reused id (a retry here, or a
        resend by reconciliation) may be answered with the existing order, as Coinbase's
        docs describe: it is returned like a new one. Or it may be refused with
        ``DUPLICATE_CLIENT_ORDER_ID``, a failure reason Coinbase also lists: the order then
        exists, so it is looked up by client order id and returned the same way; if the
        venue's list does not show it yet, the outcome is unknown (never a rejection).

        Raises:
            OrderRejectedError: the venue answered ``success: false`` for another reason
                than a duplicate id; ``reason`` is its code.
            OrderOutcomeUnknownError: every attempt failed in transit and the order could not
                be found, or the venue refused the id as a duplicate and its list does not
                show the order yet; reconcile by ``client_order_id`` later.
            VenueAuthError, VenueResponseError: as for any request.
        """
        return create_once(
            self._http, self.find_order, path="/orders", body=request.to_wire(),
            coid=request.client_order_id, product_id=request.product_id, side=request.side.value,
        )  # fmt: skip

    def close_position(
        self, *, client_order_id: str, product_id: str, size: Decimal | None = None
    ) -> CreatedOrder:
        """Flatten a futures position (all of it, or ``size`` contracts) with a market order.

        The venue picks the side. Same exactly-once rules and errors as :meth:`create_order`.
        """
        body: dict[str, Any] = {"client_order_id": client_order_id, "product_id": product_id}
        if size is not None:
            body["size"] = format(size, "f")
        return create_once(
            self._http, self.find_order, path="/orders/close_position", body=body,
            coid=client_order_id, product_id=product_id, side="",
        )  # fmt: skip

    def cancel_orders(self, order_ids: list[str]) -> list[CancelResult]:
        """Cancel several orders (idempotent, so retried); each result says if it worked."""
        body = self._http.send("POST", "/orders/batch_cancel", body={"order_ids": order_ids})
        body = parse.obj(body, "batch_cancel")
        return [
            parse.cancel_result(parse.obj(r, f"results[{i}]"), f"results[{i}]")
            for i, r in enumerate(parse.items(body, "results", "batch_cancel"))
        ]

    def get_order(self, order_id: str) -> OrderRecord:
        """One order by venue id."""
        body = self._get(f"/orders/historical/{order_id}")
        return parse.order(parse.obj(body.get("order"), "order"), "order")

    def list_orders(
        self, *, product_ids: list[str] | None = None, statuses: list[str] | None = None
    ) -> list[OrderRecord]:
        """Orders, newest first, following every page."""
        params: Params = {"limit": 250}
        if product_ids:
            params["product_ids"] = list(product_ids)
        if statuses:
            params["order_status"] = list(statuses)
        return [
            parse.order(o, "orders")
            for o in self._pages("/orders/historical/batch", "orders", params)
        ]

    def find_order(
        self, client_order_id: str, *, product_id: str | None = None
    ) -> OrderRecord | None:
        """The order with this ``client_order_id``, or None if the venue has none."""
        params: Params = {"limit": 250}
        if product_id:
            params["product_ids"] = [product_id]
        for item in self._pages("/orders/historical/batch", "orders", params):
            if item.get("client_order_id") == client_order_id:
                return parse.order(item, "orders")
        return None

    def fills(
        self,
        *,
        order_ids: list[str] | None = None,
        product_ids: list[str] | None = None,
        since_ns: int | None = None,
    ) -> list[FillRecord]:
        """Our fills (that traded at or after ``since_ns``: ``start_sequence_timestamp``),
        following every page, deduplicated by ``entry_id``/``trade_id``."""
        params: Params = {"limit": 250}
        if order_ids:
            params["order_ids"] = list(order_ids)
        if product_ids:
            params["product_ids"] = list(product_ids)
        if since_ns is not None:
            params["start_sequence_timestamp"] = format_rfc3339_ns(since_ns)
        seen: set[str] = set()
        out: list[FillRecord] = []
        for item in self._pages("/orders/historical/fills", "fills", params):
            fill = parse.fill(item, "fills")
            key = fill.entry_id or fill.trade_id
            if key and key in seen:
                continue
            seen.add(key)
            out.append(fill)
        return out

    def __repr__(self) -> str:
        return f"RestClient(base_url={self._http.base_url!r})"
