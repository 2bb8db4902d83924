from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from perpsbot.clock import FakeClock, SystemClock
from perpsbot.sim import SimConfig, SimExchange
from perpsbot.venue import CdpCredentials
from tests.support.waits import FakeWait

KEY_NAME = "organizations/org-1/apiKeys/key-1"


@pytest.fixture
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def private_pem(ec_key: ec.EllipticCurvePrivateKey) -> str:
    return ec_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture
def public_pem(ec_key: ec.EllipticCurvePrivateKey) -> str:
    return (
        ec_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture
def credentials(private_pem: str) -> CdpCredentials:
    return CdpCredentials(KEY_NAME, private_pem)


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake_wait(fake_clock: FakeClock) -> FakeWait:
    return FakeWait(fake_clock)


# --- the simulated exchange -------------------------------------------------------------------


@pytest.fixture
def make_sim(public_pem: str) -> Iterator[Callable[..., SimExchange]]:
    started: list[SimExchange] = []

    def make(**overrides: Any) -> SimExchange:
        settings: dict[str, Any] = {
            "verify_auth": True,
            "public_keys_pem": (public_pem,),
            "tick_interval_s": 0.05,
            "heartbeat_interval_s": 0.1,
            "trades_interval_s": 0.1,
            "subscribe_timeout_s": 1.0,
            "seed": 3,
        }
        settings.update(overrides)
        sim = SimExchange(SimConfig(**settings), clock=SystemClock()).start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.stop()


@pytest.fixture
def sim(make_sim: Callable[..., SimExchange]) -> SimExchange:
    return make_sim()
