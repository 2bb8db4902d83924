"""The product specs the executor fits orders to: from the catalogue, reloaded on a timer."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from perpsbot.actors._quantize import product_spec
from perpsbot.clock import Clock
from perpsbot.errors import VenueResponseError
from perpsbot.messages import ProductsLoaded, ProductSpec, Stamper
from perpsbot.venue.catalog import ProductCatalog, ProductSource

logger = logging.getLogger("perpsbot.actors.executor")


class Products:
    """The configured symbols' :class:`ProductSpec`, published as ``ProductsLoaded`` on each
    load (risk and the strategy size orders with them).

    Args:
        symbols: the configured symbols.
        max_age_s: ``execution.product_refresh_s``.
        stamper: stamps ``ProductsLoaded``.
        publish: tells the executor's subscribers.
    """

    def __init__(
        self,
        *,
        symbols: tuple[str, ...],
        max_age_s: float,
        stamper: Stamper,
        publish: Callable[[Any], None],
    ) -> None:
        self._symbols = symbols
        self._max_age_s = max_age_s
        self._stamper = stamper
        self._publish = publish
        self._catalog: ProductCatalog | None = None
        self.specs: dict[str, ProductSpec] = {}

    def attach(self, source: ProductSource, clock: Clock) -> None:
        """Load from ``source`` (the executor's REST client, once it is open)."""
        self._catalog = ProductCatalog(source, clock=clock, max_age_s=self._max_age_s)

    def get(self, symbol: str) -> ProductSpec | None:
        return self.specs.get(symbol)

    def load(self) -> None:
        """Reload the catalogue and publish the configured symbols' specs; a symbol the venue
        does not list is logged and left out (orders for it are denied).

        Raises:
            VenueError: the catalogue could not be read.
        """
        if self._catalog is None:
            raise RuntimeError("products are loaded before the executor opened its REST client")
        self._catalog.refresh()
        specs = {}
        for symbol in self._symbols:
            try:
                specs[symbol] = product_spec(self._catalog.get(symbol))
            except VenueResponseError as exc:
                if exc.status != 404:
                    raise
                logger.error("%s is not a product of the venue; orders for it are denied", symbol)
        self.specs = specs
        message_id, ts = self._stamper.stamp()
        self._publish(
            ProductsLoaded(message_id=message_id, ts_created_ns=ts, products=tuple(specs.values()))
        )
