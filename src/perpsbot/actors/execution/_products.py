"""The product specs the executor fits orders to: from the venue, reloaded on a timer."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from perpsbot.messages import ProductsLoaded, ProductSpec, Stamper
from perpsbot.venue.gateway import VenueGateway

logger = logging.getLogger("perpsbot.actors.executor")


class Products:
    """The configured symbols' :class:`ProductSpec`, published as ``ProductsLoaded`` on each
    load (risk and the strategy size orders with them).

    Args:
        symbols: the configured symbols.
        stamper: stamps ``ProductsLoaded``.
        publish: tells the executor's subscribers.
    """

    def __init__(
        self,
        *,
        symbols: tuple[str, ...],
        stamper: Stamper,
        publish: Callable[[Any], None],
    ) -> None:
        self._symbols = symbols
        self._stamper = stamper
        self._publish = publish
        self._gateway: VenueGateway | None = None
        self.specs: dict[str, ProductSpec] = {}

    def attach(self, gateway: VenueGateway) -> None:
        """Load through ``gateway`` (the executor's, once it is open)."""
        self._gateway = gateway

    def get(self, symbol: str) -> ProductSpec | None:
        return self.specs.get(symbol)

    def load(self) -> None:
        """Reload the products and publish the configured symbols' specs; a symbol the venue
        does not list is logged and left out (orders for it are denied).

        Raises:
            VenueError: the products could not be read.
        """
        if self._gateway is None:
            raise RuntimeError("products are loaded before the executor opened its gateway")
        specs = self._gateway.products(self._symbols)
        for symbol in self._symbols:
            if symbol not in specs:
                logger.error("%s is not a product of the venue; orders for it are denied", symbol)
        self.specs = specs
        message_id, ts = self._stamper.stamp()
        self._publish(
            ProductsLoaded(message_id=message_id, ts_created_ns=ts, products=tuple(specs.values()))
        )
