"""The ``venue`` section: where the bot trades, with which key and how hard it may call."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Any, ClassVar

import attrs

from perpsbot.config._rules import (
    OPTIONAL_PATH,
    RATE,
    SET_ELSEWHERE,
    Rule,
    one_of,
    seconds,
    url,
)
from perpsbot.errors import InvalidConfigError, VenueAuthError
from perpsbot.keys import CdpCredentials

__all__ = [
    "REQUEST_TIMEOUT",
    "Credentials",
    "VenueConfig",
    "VenueKind",
]

#: ``venue.request_timeout_s``, and what :class:`perpsbot.venue.RestClient` itself accepts as
#: one attempt's deadline (connect, send, the whole body).
REQUEST_TIMEOUT = seconds(at_most=300)


class VenueKind(enum.StrEnum):
    """Which exchange the bot talks to."""

    SIM = "sim"
    COINBASE = "coinbase"
    GLOBAL = "global"
    """The Global Derivatives gateway: the embedded simulated one, a separately running one
    or, with ``--live``, Coinbase's (``venue.global_*``; see
    :func:`perpsbot.config.global_endpoints`)."""


_KEY_NAME = Rule(
    "a CDP key name like 'organizations/{org}/apiKeys/{key}'", str, lambda v: bool(v.strip())
)
_PRIVATE_KEY = Rule(
    "a PEM private key ('-----BEGIN ... PRIVATE KEY-----')",
    str,
    lambda v: "-----BEGIN" in v and "PRIVATE KEY-----" in v,
    secret=True,
)


def _check_key_name(_: Any, __: attrs.Attribute[Any], value: object) -> None:
    _KEY_NAME.enforce("venue.api_key_name", value)


def _check_private_key(instance: Any, __: attrs.Attribute[Any], value: object) -> None:
    _PRIVATE_KEY.enforce("venue.api_private_key", value)
    # The signer's own parser decides, so a key that passes here signs there.
    try:
        CdpCredentials(instance.key_name, str(value))
    except VenueAuthError:
        raise InvalidConfigError(
            "venue.api_private_key must be an unencrypted PEM EC P-256 or Ed25519 private key,"
            " was a value that is not shown (secret) and that does not parse as one"
        ) from None


@attrs.frozen(kw_only=True)
class Credentials:
    """A CDP API key: its name and its private key, which never appears in a repr.

    They come from ``PERPSBOT_VENUE_API_KEY_NAME`` and ``PERPSBOT_VENUE_API_PRIVATE_KEY`` or
    from the JSON key file Coinbase hands out (``venue.api_key_file``), never from TOML.
    """

    key_name: str = attrs.field(validator=_check_key_name)
    private_key_pem: str = attrs.field(validator=_check_private_key, repr=False)


_FROM_SECRETS = {
    SET_ELSEWHERE: "read from PERPSBOT_VENUE_API_KEY_NAME and PERPSBOT_VENUE_API_PRIVATE_KEY"
    " or from venue.api_key_file"  # the loader names these in its own message
}
_CREDENTIALS = Rule("CDP API credentials or unset", Credentials, optional=True, secret=True)
_HTTP_URL = url("https", "http")
_WS_URL = url("wss", "ws")


@attrs.frozen(kw_only=True)
class VenueConfig:
    """The exchange: which kind, where, with which key, and how hard we may call it.

    A URL left unset means the default of the kind: Coinbase's public endpoints
    (``perpsbot.venue.COINBASE_*_URL``) for ``coinbase``, and the embedded exchange's own
    for ``sim``. ``global`` takes the ``global_*`` endpoints instead (HTTP base, trading
    socket, streams socket): none set is the embedded simulated gateway, all three a
    separately running one, and with ``--live`` none set is the production gateway
    (:data:`perpsbot.config.GLOBAL_PRODUCTION`); they are set together or not at all. The
    credentials are read the same way for every kind. The request budgets are shared by every
    actor (Coinbase allows 30 private and 10 public requests and 8 websocket connects per
    second).
    """

    SECTION: ClassVar[str] = "venue"

    kind: VenueKind = attrs.field(default=VenueKind.SIM, validator=one_of(VenueKind))
    rest_base_url: str | None = attrs.field(default=None, validator=_HTTP_URL)
    market_ws_url: str | None = attrs.field(default=None, validator=_WS_URL)
    user_ws_url: str | None = attrs.field(default=None, validator=_WS_URL)
    global_http_url: str | None = attrs.field(default=None, validator=_HTTP_URL)
    global_trading_ws_url: str | None = attrs.field(default=None, validator=_WS_URL)
    global_streams_ws_url: str | None = attrs.field(default=None, validator=_WS_URL)
    api_key_file: Path | None = attrs.field(default=None, validator=OPTIONAL_PATH)
    credentials: Credentials | None = attrs.field(
        default=None, validator=_CREDENTIALS, metadata=_FROM_SECRETS
    )
    request_timeout_s: float = attrs.field(default=10.0, validator=REQUEST_TIMEOUT)
    private_per_s: float = attrs.field(default=30.0, validator=RATE)
    public_per_s: float = attrs.field(default=10.0, validator=RATE)
    websocket_connects_per_s: float = attrs.field(default=8.0, validator=RATE)
