from __future__ import annotations

import logging

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from freezegun import freeze_time

from perpsbot.clock import FakeClock, SystemClock
from perpsbot.errors import VenueAuthError
from perpsbot.venue import CdpCredentials, JwtSigner
from tests.venue.conftest import KEY_NAME


def _signer(credentials: CdpCredentials, clock: FakeClock) -> JwtSigner:
    return JwtSigner(credentials, clock=clock, nonce=lambda: "nonce-1")


def test_rest_token_carries_uri_without_scheme_or_query(
    credentials: CdpCredentials, public_pem: str, fake_clock: FakeClock
) -> None:
    token = _signer(credentials, fake_clock).rest_token(
        "get", "api.coinbase.com", "/api/v3/brokerage/orders/historical/batch?limit=5"
    )
    claims = jwt.decode(
        token, public_pem, algorithms=["ES256"], options={"verify_nbf": False, "verify_exp": False}
    )
    now_s = fake_clock.time_ns() // 10**9
    assert claims == {
        "sub": KEY_NAME,
        "iss": "cdp",
        "nbf": now_s,
        "exp": now_s + 120,
        "uri": "GET api.coinbase.com/api/v3/brokerage/orders/historical/batch",
    }


def test_token_header_has_kid_nonce_and_es256(
    credentials: CdpCredentials, fake_clock: FakeClock
) -> None:
    token = _signer(credentials, fake_clock).rest_token("POST", "h", "/p")
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256"
    assert header["kid"] == KEY_NAME
    assert header["nonce"] == "nonce-1"
    assert header["typ"] == "JWT"


def test_ws_token_has_no_uri_claim(
    credentials: CdpCredentials, public_pem: str, fake_clock: FakeClock
) -> None:
    token = _signer(credentials, fake_clock).ws_token()
    claims = jwt.decode(
        token, public_pem, algorithms=["ES256"], options={"verify_nbf": False, "verify_exp": False}
    )
    assert "uri" not in claims
    assert claims["iss"] == "cdp"
    assert claims["sub"] == KEY_NAME


def test_a_token_on_the_wall_clock_is_good_for_two_minutes_from_signing(
    credentials: CdpCredentials, public_pem: str
) -> None:
    signer = JwtSigner(credentials, clock=SystemClock())
    with freeze_time("2026-03-01 12:00:00") as frozen:
        token = signer.rest_token("GET", "api.coinbase.com", "/api/v3/brokerage/accounts")
        jwt.decode(token, public_pem, algorithms=["ES256"])  # PyJWT checks nbf and exp
        frozen.tick(119)
        jwt.decode(token, public_pem, algorithms=["ES256"])
        frozen.tick(1)  # exp is the first second it is no longer good
        with pytest.raises(jwt.ExpiredSignatureError):
            jwt.decode(token, public_pem, algorithms=["ES256"])


def test_a_token_signed_for_a_venue_clock_ahead_of_ours_is_not_yet_valid_here(
    credentials: CdpCredentials, public_pem: str
) -> None:
    signer = JwtSigner(credentials, clock=SystemClock(), skew_s=30)
    with freeze_time("2026-03-01 12:00:00") as frozen:
        token = signer.ws_token()
        with pytest.raises(jwt.ImmatureSignatureError):
            jwt.decode(token, public_pem, algorithms=["ES256"])
        frozen.tick(30)
        jwt.decode(token, public_pem, algorithms=["ES256"])


def test_every_token_gets_a_fresh_nonce(credentials: CdpCredentials, fake_clock: FakeClock) -> None:
    signer = JwtSigner(credentials, clock=fake_clock)
    nonces = {jwt.get_unverified_header(signer.ws_token())["nonce"] for _ in range(5)}
    assert len(nonces) == 5


def test_skew_shifts_nbf_and_exp(credentials: CdpCredentials, fake_clock: FakeClock) -> None:
    signer = JwtSigner(credentials, clock=fake_clock, skew_s=-30)
    claims = jwt.decode(signer.ws_token(), options={"verify_signature": False})
    assert claims["nbf"] == fake_clock.time_ns() // 10**9 - 30


def test_ed25519_keys_sign_with_eddsa(fake_clock: FakeClock) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    token = JwtSigner(CdpCredentials("k", pem), clock=fake_clock).ws_token()
    assert jwt.get_unverified_header(token)["alg"] == "EdDSA"
    jwt.decode(
        token,
        key.public_key(),
        algorithms=["EdDSA"],
        options={"verify_nbf": False, "verify_exp": False},
    )


def test_repr_and_str_redact_the_private_key(credentials: CdpCredentials, private_pem: str) -> None:
    body = private_pem.splitlines()[1]
    for text in (
        repr(credentials),
        str(credentials),
        repr(JwtSigner(credentials, clock=FakeClock())),
    ):
        assert body not in text
        assert "PRIVATE" not in text
    assert "redacted" in repr(credentials)


def test_a_bad_key_fails_without_showing_it(caplog: pytest.LogCaptureFixture) -> None:
    secret = "-----BEGIN EC PRIVATE KEY-----\nnotakeyatallsecretstuff\n-----END EC PRIVATE KEY-----"
    with caplog.at_level(logging.DEBUG), pytest.raises(VenueAuthError) as caught:
        CdpCredentials(KEY_NAME, secret)
    assert "secretstuff" not in str(caught.value)
    assert "secretstuff" not in caplog.text
    assert caught.value.__cause__ is None
