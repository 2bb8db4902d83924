"""The exchange of the stateful test: its products, the owner's coins in its wallets, and the
test's own reading of what it holds, through its REST API.

The test reads only endpoints its faults never target (they aim at ``/orders`` paths): the
wallets and the futures positions, after every step; the bot's orders and fills once the
faults are cleared.
"""

from __future__ import annotations

from decimal import Decimal

from perpsbot.clock import FakeClock
from perpsbot.ids import is_our_client_order_id
from perpsbot.sim import DuplicateClientOrderId, SimConfig, SimExchange
from perpsbot.venue import RestClient
from perpsbot.venue.records import FillRecord

PERP = "BIP-20DEC30-CDE"
SPOT = "BTC-USD"
ETH = "ETH-USD"
SYMBOLS = (PERP, SPOT, ETH)
#: The exchange's wallets hold the owner's coins, none of them the bot's to sell.
OWNERS_COINS = {"BTC": Decimal(1), "ETH": Decimal(10)}
BASE = {SPOT: "BTC", ETH: "ETH"}
CONTRACT_SIZE = {PERP: Decimal("0.01"), SPOT: Decimal(1), ETH: Decimal(1)}
#: Which symbols' prices one price jump moves (the perp follows BTC's spot price).
MOVES = {"BTC": (SPOT, PERP), "ETH": (ETH,)}


def exchange(clock: FakeClock, *, seed: int, duplicates: DuplicateClientOrderId) -> SimExchange:
    """A scripted exchange on the test's clock: prices move only when the test says."""
    config = SimConfig(
        tick_interval_s=None, volatility=0.0, verify_auth=False, seed=seed,
        duplicate_client_order_id=duplicates,
    )  # fmt: skip
    return SimExchange(config, clock=clock)


class Venue:
    """What the exchange holds, as its REST API tells ``rest`` (the test's own client)."""

    def __init__(self, rest: RestClient) -> None:
        self._rest = rest

    def close(self) -> None:
        self._rest.close()

    def wallets(self) -> dict[str, Decimal]:
        """Every currency's balance (available and held), all its accounts together."""
        total: dict[str, Decimal] = {}
        for account in self._rest.accounts():
            total[account.currency] = (
                total.get(account.currency, Decimal(0)) + account.available + account.hold
            )
        return total

    def positions(self, wallets: dict[str, Decimal] | None = None) -> dict[str, Decimal]:
        """The bot's position per symbol: futures contracts, and spot coins beyond the
        owner's (in ``wallets``, read now if not given)."""
        wallets = self.wallets() if wallets is None else wallets
        held = {s: wallets.get(c, Decimal(0)) - OWNERS_COINS[c] for s, c in BASE.items()}
        futures = {p.product_id: p.signed_contracts for p in self._rest.cfm_positions()}
        return {s: futures.get(s, held.get(s, Decimal(0))) for s in SYMBOLS}

    def fills(self) -> list[FillRecord]:
        """The bot's own fills (of orders with its client order id prefix)."""
        ours = {
            o.order_id
            for o in self._rest.list_orders()
            if is_our_client_order_id(o.client_order_id)
        }
        return [f for f in self._rest.fills() if f.order_id in ours]
