from __future__ import annotations

import pytest

from perpsbot.clock import FakeClock, SystemClock
from perpsbot.errors import VenueResponseError
from perpsbot.sim import SimExchange
from perpsbot.venue import Product, ProductCatalog, RestClient, VenueRateLimiter


class CountingSource:
    """The real REST client, counting catalogue loads."""

    def __init__(self, rest: RestClient) -> None:
        self.rest = rest
        self.loads = 0
        self.single = 0

    def products(self, *, product_type: str | None = None) -> list[Product]:
        self.loads += 1
        return self.rest.products(product_type=product_type)

    def product(self, product_id: str) -> Product:
        self.single += 1
        return self.rest.product(product_id)


@pytest.fixture
def source(sim: SimExchange) -> CountingSource:
    rest = RestClient(
        base_url=sim.rest_base_url, signer=None, limiter=VenueRateLimiter(clock=SystemClock())
    )
    return CountingSource(rest)


def test_catalogue_is_loaded_once_and_read_from_cache(source: CountingSource) -> None:
    catalog = ProductCatalog(source, clock=FakeClock(), max_age_s=60)
    assert catalog.get("BTC-USD").product_id == "BTC-USD"
    assert catalog.get("ETH-USD").product_id == "ETH-USD"
    assert "BIP-20DEC30-CDE" in catalog.all()
    assert source.loads == 1


def test_a_stale_catalogue_is_reloaded(source: CountingSource) -> None:
    clock = FakeClock()
    catalog = ProductCatalog(source, clock=clock, max_age_s=60)
    catalog.get("BTC-USD")
    clock.advance(61)
    catalog.get("BTC-USD")
    assert source.loads == 2


def test_perpetuals_are_the_perp_style_futures(source: CountingSource) -> None:
    perps = ProductCatalog(source, clock=FakeClock()).perpetuals()
    assert "BIP-20DEC30-CDE" in [p.product_id for p in perps]
    assert all(p.future is not None for p in perps)


def test_an_unknown_product_is_a_404(source: CountingSource) -> None:
    catalog = ProductCatalog(source, clock=FakeClock())
    with pytest.raises(VenueResponseError) as caught:
        catalog.get("NOPE-USD")
    assert caught.value.status == 404
    assert source.single == 1
