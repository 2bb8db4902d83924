"""JWT checks: REST needs a good ES256 token with the right uri; user channels need one too."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from freezegun import freeze_time

from perpsbot.clock import FakeClock, SystemClock
from perpsbot.errors import InvalidConfigError
from perpsbot.sim import SimConfig, SimExchange
from tests.sim.conftest import TIMEOUT_S, Feed, Keys

UNAUTHORIZED = {"error": "UNAUTHORIZED", "code": 16, "message": "Unauthorized"}


@pytest.fixture
def sim(make_sim: Callable[..., SimExchange], keys: Keys) -> SimExchange:
    return make_sim(verify_auth=True, public_keys_pem=(keys.public_pem,))


def _uri(sim: SimExchange, method: str, path: str) -> str:
    url = urlsplit(sim.rest_base_url + path)
    return f"{method} {url.netloc}{url.path}"


def _get(sim: SimExchange, path: str, token: str | None, **params: str) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(sim.rest_base_url + path, headers=headers, params=params, timeout=TIMEOUT_S)


def test_a_good_jwt_is_accepted(sim: SimExchange, keys: Keys, clock: FakeClock) -> None:
    token = keys.token(now_s=clock.time_ns() / 1e9, uri=_uri(sim, "GET", "/accounts"))

    assert _get(sim, "/accounts", token).status_code == 200


def test_the_uri_claim_excludes_the_query(sim: SimExchange, keys: Keys, clock: FakeClock) -> None:
    token = keys.token(
        now_s=clock.time_ns() / 1e9, uri=_uri(sim, "GET", "/orders/historical/batch")
    )

    assert _get(sim, "/orders/historical/batch", token, limit="5").status_code == 200


def test_a_missing_jwt_gets_the_401_body(sim: SimExchange) -> None:
    response = _get(sim, "/accounts", None)

    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


def test_a_uri_claim_with_the_query_is_refused(
    sim: SimExchange, keys: Keys, clock: FakeClock
) -> None:
    uri = _uri(sim, "GET", "/orders/historical/batch") + "?limit=5"
    token = keys.token(now_s=clock.time_ns() / 1e9, uri=uri)

    assert _get(sim, "/orders/historical/batch", token, limit="5").status_code == 401


def test_a_jwt_for_another_path_is_refused(sim: SimExchange, keys: Keys, clock: FakeClock) -> None:
    token = keys.token(now_s=clock.time_ns() / 1e9, uri=_uri(sim, "GET", "/portfolios"))

    assert _get(sim, "/accounts", token).status_code == 401


def test_a_jwt_for_another_method_is_refused(
    sim: SimExchange, keys: Keys, clock: FakeClock
) -> None:
    token = keys.token(now_s=clock.time_ns() / 1e9, uri=_uri(sim, "POST", "/accounts"))

    assert _get(sim, "/accounts", token).status_code == 401


def test_an_expired_jwt_is_refused_by_the_sim_clock(
    sim: SimExchange, keys: Keys, clock: FakeClock
) -> None:
    token = keys.token(now_s=clock.time_ns() / 1e9, uri=_uri(sim, "GET", "/accounts"))

    clock.advance(130)

    assert _get(sim, "/accounts", token).status_code == 401


def test_on_the_wall_clock_a_jwt_is_accepted_until_it_expires(keys: Keys) -> None:
    # What `perpsbot sim` does: no injected clock, so JWTs are judged by the wall clock.
    config = SimConfig(verify_auth=True, public_keys_pem=(keys.public_pem,), tick_interval_s=None)
    with (
        freeze_time("2026-03-01 12:00:00", real_asyncio=True) as frozen,
        SimExchange(config) as sim,
    ):
        now_s = SystemClock().time_ns() / 1e9
        token = keys.token(now_s=now_s, uri=_uri(sim, "GET", "/accounts"))
        frozen.tick(120 + sim.config.jwt_leeway_s)  # at exp, within the leeway
        assert _get(sim, "/accounts", token).status_code == 200
        frozen.tick(1)
        assert _get(sim, "/accounts", token).status_code == 401


def test_a_jwt_from_the_future_is_refused(sim: SimExchange, keys: Keys, clock: FakeClock) -> None:
    token = keys.token(now_s=clock.time_ns() / 1e9 + 60, uri=_uri(sim, "GET", "/accounts"))

    assert _get(sim, "/accounts", token).status_code == 401


def test_a_jwt_with_the_wrong_issuer_is_refused(
    sim: SimExchange, keys: Keys, clock: FakeClock
) -> None:
    token = keys.token(
        now_s=clock.time_ns() / 1e9, uri=_uri(sim, "GET", "/accounts"), iss="coinbase-cloud"
    )

    assert _get(sim, "/accounts", token).status_code == 401


def test_a_jwt_signed_by_another_key_is_refused(sim: SimExchange, clock: FakeClock) -> None:
    token = Keys().token(now_s=clock.time_ns() / 1e9, uri=_uri(sim, "GET", "/accounts"))

    assert _get(sim, "/accounts", token).status_code == 401


def test_public_market_endpoints_need_no_jwt(sim: SimExchange) -> None:
    assert _get(sim, "/market/products", None).status_code == 200
    assert _get(sim, "/time", None).status_code == 200


def test_the_user_channel_without_a_jwt_is_an_authentication_failure(
    sim: SimExchange, connect: Callable[[str], Feed]
) -> None:
    feed = connect(sim.user_ws_url)

    feed.subscribe("user")

    assert feed.recv() == {"type": "error", "message": "authentication failure"}


def test_the_user_channel_accepts_a_jwt_without_uri(
    sim: SimExchange, connect: Callable[[str], Feed], keys: Keys, clock: FakeClock
) -> None:
    feed = connect(sim.user_ws_url)

    feed.subscribe("user", jwt=keys.token(now_s=clock.time_ns() / 1e9))

    assert feed.recv()["channel"] == "subscriptions"
    assert feed.next("user")["events"][0]["type"] == "snapshot"


def test_futures_balance_summary_needs_a_jwt(
    sim: SimExchange, connect: Callable[[str], Feed]
) -> None:
    feed = connect(sim.user_ws_url)

    feed.subscribe("futures_balance_summary", jwt="not-a-token")

    assert feed.recv() == {"type": "error", "message": "authentication failure"}


def test_an_eddsa_key_is_accepted_too(
    make_sim: Callable[..., SimExchange], clock: FakeClock
) -> None:
    private = Ed25519PrivateKey.generate()
    pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    sim = make_sim(verify_auth=True, public_keys_pem=(pem,))
    now = int(clock.time_ns() / 1e9)
    claims = {
        "sub": "k",
        "iss": "cdp",
        "nbf": now,
        "exp": now + 120,
        "uri": _uri(sim, "GET", "/accounts"),
    }

    assert _get(sim, "/accounts", jwt.encode(claims, private, algorithm="EdDSA")).status_code == 200


def test_verifying_auth_without_a_key_is_a_config_error() -> None:
    with pytest.raises(InvalidConfigError, match=r"sim\.public_keys_pem"):
        SimExchange(SimConfig(verify_auth=True))


def test_a_key_that_is_not_pem_is_a_config_error() -> None:
    config = SimConfig(verify_auth=True, public_keys_pem=("nope",))

    with pytest.raises(InvalidConfigError, match=r"public_keys_pem\[0\]"):
        SimExchange(config)
