"""The product catalogue: every product's increments and limits, cached and refreshed."""

from __future__ import annotations

import threading
from typing import Protocol

from perpsbot.clock import Clock
from perpsbot.venue.records import Product

__all__ = ["ProductCatalog", "ProductSource"]


class ProductSource(Protocol):
    """Where the catalogue loads from (a :class:`~perpsbot.venue.rest.RestClient`)."""

    def products(self, *, product_type: str | None = None) -> list[Product]: ...

    def product(self, product_id: str) -> Product: ...


class ProductCatalog:
    """Products by id, loaded from ``/products`` and reloaded once older than ``max_age_s``.

    Safe to share between threads. A product missing from the cached list is fetched on its
    own (new listings appear between refreshes); an unknown one raises the REST client's
    :class:`~perpsbot.errors.VenueResponseError` (status 404).

    Args:
        source: the REST client.
        clock: decides when the cache is stale.
        max_age_s: how long a loaded catalogue is trusted.
    """

    def __init__(self, source: ProductSource, *, clock: Clock, max_age_s: float = 300.0) -> None:
        self._source = source
        self._clock = clock
        self._max_age_s = max_age_s
        self._lock = threading.Lock()
        self._products: dict[str, Product] = {}
        self._loaded_at: float | None = None

    def refresh(self) -> dict[str, Product]:
        """Reload every product now and return the new catalogue."""
        products = {p.product_id: p for p in self._source.products()}
        with self._lock:
            self._products = products
            self._loaded_at = self._clock.monotonic()
            return dict(products)

    def _fresh(self) -> dict[str, Product]:
        with self._lock:
            loaded_at = self._loaded_at
            if loaded_at is not None and self._clock.monotonic() - loaded_at < self._max_age_s:
                return self._products
        return self.refresh()

    def all(self) -> dict[str, Product]:
        """Every product by id (reloaded first if stale)."""
        return dict(self._fresh())

    def get(self, product_id: str) -> Product:
        """One product (reloaded first if stale; fetched alone if not listed)."""
        product = self._fresh().get(product_id)
        if product is None:
            product = self._source.product(product_id)
            with self._lock:
                self._products[product_id] = product
        return product

    def perpetuals(self) -> list[Product]:
        """The perp-style futures, by product id."""
        return sorted(
            (p for p in self._fresh().values() if p.is_perpetual), key=lambda p: p.product_id
        )

    def __repr__(self) -> str:
        return f"ProductCatalog(products={len(self._products)}, max_age_s={self._max_age_s})"
