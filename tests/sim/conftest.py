"""Fixtures for the simulated exchange: a started sim, an EC key, JWTs, REST and ws clients."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import jwt
import pytest
import requests
import websocket
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from perpsbot.clock import FakeClock
from perpsbot.sim import SimConfig, SimExchange

KEY_NAME = "organizations/org-1/apiKeys/key-1"
TIMEOUT_S = 5.0


class Keys:
    """An EC P-256 key pair and a signer of CDP JWTs."""

    def __init__(self) -> None:
        self.private = ec.generate_private_key(ec.SECP256R1())
        self.public_pem = (
            self.private.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def token(self, *, now_s: float, uri: str | None = None, **overrides: Any) -> str:
        claims: dict[str, Any] = {
            "sub": KEY_NAME,
            "iss": "cdp",
            "nbf": int(now_s),
            "exp": int(now_s) + 120,
        }
        if uri is not None:
            claims["uri"] = uri
        claims.update(overrides)
        headers = {"kid": KEY_NAME, "nonce": secrets.token_hex()}
        return jwt.encode(claims, self.private, algorithm="ES256", headers=headers)


@pytest.fixture(scope="session")
def keys() -> Keys:
    return Keys()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _config(**overrides: Any) -> SimConfig:
    base: dict[str, Any] = {
        "verify_auth": False,
        "tick_interval_s": None,
        "heartbeat_interval_s": 0.05,
        "trades_interval_s": 0.02,
        "seed": 7,
    }
    base.update(overrides)
    return SimConfig(**base)


@pytest.fixture
def make_sim(clock: FakeClock) -> Iterator[Callable[..., SimExchange]]:
    """Start sims with config overrides; every one is stopped at teardown."""
    started: list[SimExchange] = []

    def make(**overrides: Any) -> SimExchange:
        sim = SimExchange(_config(**overrides), clock=clock).start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.stop()


@pytest.fixture
def sim(make_sim: Callable[..., SimExchange]) -> SimExchange:
    """A lenient sim that moves only when stepped."""
    return make_sim()


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


class Api:
    """A thin REST client with timeouts, so tests read as the calls they make."""

    def __init__(self, session: requests.Session, base_url: str) -> None:
        self.session = session
        self.base_url = base_url

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(self.base_url + path, params=params, timeout=TIMEOUT_S)

    def post(self, path: str, body: dict[str, Any]) -> requests.Response:
        return self.session.post(self.base_url + path, json=body, timeout=TIMEOUT_S)

    def order(
        self, client_order_id: str, product_id: str, side: str, **config: Any
    ) -> dict[str, Any]:
        ((key, conf),) = config.items()
        body = {
            "client_order_id": client_order_id,
            "product_id": product_id,
            "side": side,
            "order_configuration": {key: conf},
        }
        response = self.post("/orders", body)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def get_order(self, order_id: str) -> dict[str, Any]:
        response = self.get(f"/orders/historical/{order_id}")
        assert response.status_code == 200, response.text
        return dict(response.json()["order"])


def accrued_funding(position: dict[str, Any], contract_size: str) -> Decimal:
    """The funding a ``/cfm/positions`` entry holds unsettled: its unrealized PnL less what the
    price made (``(current_price - avg_entry_price) x contracts x contract_size``, to the cent)."""
    contracts = Decimal(position["number_of_contracts"])
    signed = -contracts if position["side"] == "SHORT" else contracts
    moved = Decimal(position["current_price"]) - Decimal(position["avg_entry_price"])
    made = (moved * signed * Decimal(contract_size)).quantize(Decimal("0.01"))
    return Decimal(position["unrealized_pnl"]) - made


@pytest.fixture
def api(sim: SimExchange, http: requests.Session) -> Api:
    return Api(http, sim.rest_base_url)


class Feed:
    """A websocket-client connection that reads JSON frames with a timeout."""

    def __init__(self, url: str) -> None:
        self.ws = websocket.create_connection(url, timeout=TIMEOUT_S)

    def send(self, **message: Any) -> None:
        self.ws.send(json.dumps(message))

    def subscribe(self, channel: str, *product_ids: str, **extra: Any) -> None:
        message: dict[str, Any] = {"type": "subscribe", "channel": channel, **extra}
        if product_ids:
            message["product_ids"] = list(product_ids)
        self.send(**message)

    def recv(self) -> Any:
        return json.loads(self.ws.recv())

    def next(
        self, channel: str, where: Callable[[dict[str, Any]], bool] = lambda m: True
    ) -> dict[str, Any]:
        """The next frame on ``channel`` that satisfies ``where`` (others are skipped)."""
        for _ in range(2000):
            frame = self.recv()
            if frame.get("channel") == channel and where(frame):
                return dict(frame)
        raise AssertionError(f"no {channel} frame matching {where!r} in 2000 frames")

    def drain(self) -> None:
        """Read frames until the socket fails (closed, or silent past its timeout): that raises."""
        while True:
            self.ws.recv()

    def close(self) -> None:
        self.ws.close()
        # close() returns early, leaving the socket open, once a server close frame was read.
        self.ws.shutdown()


@pytest.fixture
def connect() -> Iterator[Callable[[str], Feed]]:
    feeds: list[Feed] = []

    def open_feed(url: str) -> Feed:
        feed = Feed(url)
        feeds.append(feed)
        return feed

    yield open_feed
    for feed in feeds:
        feed.close()
