"""An exchange on a kept state goes on where the last one on it stopped: account, orders,
fills, positions with their entry and PnL, ids and prices."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from perpsbot.clock import FakeClock
from perpsbot.errors import SimStateError, SimStateInUseError
from perpsbot.sim import SimConfig, SimExchange
from tests.sim.conftest import Api

BIP = "BIP-20DEC30-CDE"
StartSim = Callable[..., SimExchange]


@pytest.fixture
def start(clock: FakeClock) -> Iterator[StartSim]:
    """Start exchanges on a state directory (stopped at teardown unless stopped before)."""
    started: list[SimExchange] = []

    def start_sim(state_dir: Path, **options: Any) -> SimExchange:
        config = SimConfig(verify_auth=False, tick_interval_s=None, seed=7)
        sim = SimExchange(config, clock=clock, state_dir=state_dir, **options)
        started.append(sim.start())
        return sim

    yield start_sim
    for sim in started:
        sim.stop()


def _api(sim: SimExchange, http: requests.Session) -> Api:
    return Api(http, sim.rest_base_url)


def _market(api: Api, product_id: str, side: str, size: str, cid: str) -> str:
    body = api.order(cid, product_id, side, market_market_ioc={"base_size": size})
    assert body["success"], body
    return str(body["success_response"]["order_id"])


def _looks(api: Api) -> dict[str, Any]:
    """Everything a client can see of the account, and the market's best prices."""
    return {
        "orders": api.get("/orders/historical/batch").json()["orders"],
        "fills": api.get("/orders/historical/fills").json()["fills"],
        "accounts": api.get("/accounts").json()["accounts"],
        "positions": api.get("/cfm/positions").json()["positions"],
        "summary": api.get("/cfm/balance_summary").json()["balance_summary"],
        "best": api.get("/best_bid_ask").json()["pricebooks"],
    }


def test_an_exchange_on_a_kept_state_goes_on_with_the_account_orders_fills_and_prices(
    start: StartSim, http: requests.Session, tmp_path: Path
) -> None:
    first = start(tmp_path / "state")
    api = _api(first, http)
    _market(api, BIP, "BUY", "3", "long-1")
    _market(api, "BTC-USD", "BUY", "0.01", "spot-1")
    resting = api.order(
        "rest-1", "ETH-USD", "BUY", limit_limit_gtc={"base_size": "1", "limit_price": "100"}
    )
    first.step(25)
    before = _looks(api)
    first.stop()

    second = start(tmp_path / "state")
    api = _api(second, http)
    after = _looks(api)

    assert after == before
    (position,) = after["positions"]
    assert (position["number_of_contracts"], position["side"]) == ("3", "LONG")
    assert second.steps == 25
    open_order = api.get_order(resting["success_response"]["order_id"])
    assert (open_order["status"], open_order["outstanding_hold_amount"]) == ("OPEN", "100.4")


def test_a_restarted_exchange_hands_out_no_id_twice_and_books_pnl_against_the_kept_entry(
    start: StartSim, http: requests.Session, tmp_path: Path
) -> None:
    first = start(tmp_path / "state")
    api = _api(first, http)
    _market(api, BIP, "BUY", "2", "long-1")
    old = _looks(api)
    entry = Decimal(old["positions"][0]["avg_entry_price"])
    first.stop()

    second = start(tmp_path / "state")
    api = _api(second, http)
    second.step(10)
    order_id = _market(api, BIP, "SELL", "1", "exit-1")

    fills = api.get("/orders/historical/fills").json()["fills"]
    (new_fill,) = [f for f in fills if f["order_id"] == order_id]
    assert order_id not in {o["order_id"] for o in old["orders"]}
    assert new_fill["entry_id"] not in {f["entry_id"] for f in old["fills"]}
    assert int(new_fill["trade_id"]) > max(int(f["trade_id"]) for f in old["fills"])
    (position,) = api.get("/cfm/positions").json()["positions"]
    assert position["number_of_contracts"] == "1"
    assert Decimal(position["avg_entry_price"]) == entry
    realized = (Decimal(new_fill["price"]) - entry) * Decimal("0.01")
    assert Decimal(position["daily_realized_pnl"]) == realized.quantize(Decimal("0.01"))


def test_a_change_is_saved_before_the_exchange_answers(
    start: StartSim, http: requests.Session, tmp_path: Path
) -> None:
    sim = start(tmp_path / "state")
    order_id = _market(_api(sim, http), BIP, "BUY", "1", "long-1")

    # Read while the exchange runs, as a kill -9 now would leave it.
    reader = start(tmp_path / "state", read_only=True)

    assert _api(reader, http).get_order(order_id)["status"] == "FILLED"
    assert len(_api(reader, http).get("/cfm/positions").json()["positions"]) == 1


def test_one_state_one_exchange(start: StartSim, tmp_path: Path) -> None:
    start(tmp_path / "state")

    with pytest.raises(SimStateInUseError, match=r"in use by another exchange \(pid \d+\)"):
        start(tmp_path / "state")


def test_fresh_starts_a_new_account_whose_ids_are_not_the_old_ones(
    start: StartSim, http: requests.Session, tmp_path: Path
) -> None:
    first = start(tmp_path / "state")
    old_id = _market(_api(first, http), BIP, "BUY", "1", "long-1")
    first.stop()

    fresh = start(tmp_path / "state", fresh=True)
    api = _api(fresh, http)

    assert api.get("/cfm/positions").json()["positions"] == []
    assert api.get("/orders/historical/batch").json()["orders"] == []
    # The same seed and the same first order as the discarded account: another id.
    assert _market(api, BIP, "BUY", "1", "long-1") != old_id


def test_a_state_file_that_is_not_a_database_is_an_error_naming_it_and_the_way_out(
    start: StartSim, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "state.sqlite3").write_bytes(b"not a database, and long enough to look like one" * 9)

    with pytest.raises(SimStateError) as caught:
        start(state)

    message = str(caught.value)
    assert f"simulated exchange state {state / 'state.sqlite3'} cannot be used" in message
    assert "--fresh" in message
    assert (state / "state.sqlite3").read_bytes().startswith(b"not a database")  # kept


def test_a_state_of_another_format_version_is_refused(start: StartSim, tmp_path: Path) -> None:
    start(tmp_path / "state").stop()
    with sqlite3.connect(tmp_path / "state" / "state.sqlite3") as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'version'")
    db.close()

    with pytest.raises(SimStateError, match="its format version must be 1, was '99'"):
        start(tmp_path / "state")


def test_a_saved_value_of_the_wrong_kind_is_named(start: StartSim, tmp_path: Path) -> None:
    start(tmp_path / "state").stop()
    with sqlite3.connect(tmp_path / "state" / "state.sqlite3") as db:
        (body,) = db.execute("SELECT body FROM parts WHERE name = 'account'").fetchone()
        body = body.replace('"futures.cash":"10000"', '"futures.cash":"lots"')
        db.execute("UPDATE parts SET body = ? WHERE name = 'account'", (body,))
    db.close()

    with pytest.raises(
        SimStateError,
        match=r"account\.futures\.cash must be a decimal number as a string, was 'lots'",
    ):
        start(tmp_path / "state")


def test_a_state_saved_before_an_attribute_existed_loads_with_a_new_exchanges_value(
    start: StartSim, http: requests.Session, tmp_path: Path
) -> None:
    first = start(tmp_path / "state")
    order_id = _market(_api(first, http), BIP, "BUY", "1", "long-1")
    first.stop()
    with sqlite3.connect(tmp_path / "state" / "state.sqlite3") as db:
        (account,) = db.execute("SELECT body FROM parts WHERE name = 'account'").fetchone()
        (order,) = db.execute("SELECT body FROM orders").fetchone()
        older_account = account.replace('"futures.order_holds":"0",', "")
        older_order = order.replace(',"triggered":false', "")
        assert older_account != account
        assert older_order != order
        db.execute("UPDATE parts SET body = ? WHERE name = 'account'", (older_account,))
        db.execute("UPDATE orders SET body = ?", (older_order,))
    db.close()

    api = _api(start(tmp_path / "state"), http)

    assert api.get_order(order_id)["status"] == "FILLED"
    summary = api.get("/cfm/balance_summary").json()["balance_summary"]
    assert summary["total_open_orders_hold_amount"]["value"] == "0"


def test_reading_a_state_writes_nothing(start: StartSim, tmp_path: Path) -> None:
    start(tmp_path / "state").stop()
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "state").iterdir()}

    start(tmp_path / "state", read_only=True).stop()

    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "state").iterdir()} == before


def test_the_state_is_private_to_its_owner(start: StartSim, tmp_path: Path) -> None:
    start(tmp_path / "state").stop()

    modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "state").iterdir()}
    assert (tmp_path / "state").stat().st_mode & 0o777 == 0o700
    assert modes["state.sqlite3"] == 0o600
