"""The paper account: the embedded exchange's state, kept beside the journal.

A bot that embeds the simulated exchange (``venue.kind = "sim"`` without URLs, the ``dev``
profile) keeps the exchange's state in ``sim/`` beside its journal (``var/dev/sim/`` for
``dev``), so the paper account lasts from one run to the next like a real account: balances,
orders, fills, positions with their entry price and PnL, and the exchange's ids, which the
journal keys fills by. The account's signing key is ``sim/key.pem`` (0600).

The one-shot commands (``perpsbot account``, ``perpsbot order preview``) read this account:
through the exchange of the bot that runs on it (which says where it answers in
``sim/endpoint.json``), or, when none runs, from the saved state, read-only.

Starting over (``perpsbot run --fresh-paper``) sets the account and the journal that records
it aside together, in ``archive/<UTC time>/`` beside the journal: a new account under an old
journal would have the bot believe in positions the account does not hold.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

import attrs
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from perpsbot.clock import Clock
from perpsbot.config import BotConfig
from perpsbot.errors import SimStateError
from perpsbot.venue import CdpCredentials, JwtSigner, VenueRateLimiter
from perpsbot.venue.link import VenueLink

__all__ = ["open_paper_account", "paper_dir", "paper_key", "start_over", "throwaway_key"]

logger = logging.getLogger("perpsbot.bot.paper")

_KEY_NAME = "organizations/perpsbot-dev/apiKeys/paper-account"


def paper_dir(config: BotConfig) -> Path:
    """Where the embedded exchange of ``config`` keeps its paper account: ``sim/`` beside the
    journal."""
    return config.journal.path.parent / "sim"


def _public_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _private_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def throwaway_key() -> tuple[CdpCredentials, str]:
    """A fresh P-256 key: the credentials and the public key an exchange verifies it with."""
    key = ec.generate_private_key(ec.SECP256R1())
    return CdpCredentials(_KEY_NAME, _private_pem(key)), _public_pem(key)


def paper_key(directory: Path) -> tuple[CdpCredentials, str]:
    """The paper account's key in ``directory`` (``key.pem``, created 0600 with the directory
    0700 if missing): the credentials and the public key the exchange verifies it with.

    Raises:
        SimStateError: the key cannot be created or read, or is not a P-256 private key.
    """
    path = directory / "key.pem"
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # then another process made it first
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            with os.fdopen(fd, "w") as file:
                file.write(_private_pem(ec.generate_private_key(ec.SECP256R1())))
        pem = path.read_text()
    except OSError as error:
        raise SimStateError(f"paper account key {path}: {error.strerror or error}") from None
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except ValueError:
        key = None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise SimStateError(
            f"paper account key {path} must be an unencrypted P-256 private key in PEM;"
            " delete it and the next start makes a new one"
        )
    return CdpCredentials(_KEY_NAME, pem), _public_pem(key)


def open_paper_account(
    config: BotConfig, clock: Clock, stack: contextlib.ExitStack
) -> tuple[VenueLink, str]:
    """A link to the paper account of ``config`` and where it goes, for people.

    The exchange of the bot that runs on it if there is one; otherwise an exchange started
    here (stopped by ``stack``) on the saved state, read-only: it shows the account as the
    last run left it and writes nothing. Never a new account.

    Raises:
        SimStateError: there is no paper account yet, its state cannot be used, or the
            exchange that runs on it has not said where it answers.
    """
    # Imported here: a bot on Coinbase or on a separate sim never loads the simulator.
    from perpsbot.sim import SimExchange, StateDirectory  # noqa: PLC0415

    directory = StateDirectory(paper_dir(config))
    limiter = VenueRateLimiter(clock=clock)
    key_file = directory.path / "key.pem"
    holder = directory.holder()
    if holder is not None:
        endpoint = directory.endpoint()
        rest, ws = (endpoint or {}).get("rest_base_url"), (endpoint or {}).get("market_ws_url")
        if not (isinstance(rest, str) and isinstance(ws, str)):
            raise SimStateError(
                f"the paper account {directory.path} is in use by pid {holder or '?'}, whose"
                f" exchange has not said where it answers ({directory.endpoint_file}); try"
                " again once it has started"
            )
        credentials = paper_key(directory.path)[0] if key_file.exists() else throwaway_key()[0]
        link = VenueLink(
            rest_base_url=rest,
            market_ws_url=ws,
            limiter=limiter,
            signer=JwtSigner(credentials, clock=clock),
            clock=clock,
            request_timeout_s=config.venue.request_timeout_s,
        )
        return link, f"paper account {directory.path} of the exchange of pid {holder}: REST {rest}"
    if not directory.state_file.is_file():
        raise SimStateError(
            f"there is no paper account at {directory.path} yet: 'perpsbot run' with this"
            " configuration opens it"
        )
    # The market stands still: the account as the last run left it, prices included.
    settings = attrs.evolve(
        config.sim, rest_port=0, ws_port=0, tick_interval_s=None, verify_auth=False
    )
    sim = SimExchange(settings, clock=clock, state_dir=directory.path, read_only=True)
    try:
        sim.start()
    except SimStateError:
        raise
    except OSError as error:
        raise config.sim.listen_error(error) from None
    stack.callback(sim.stop)
    link = VenueLink(
        rest_base_url=sim.rest_base_url,
        market_ws_url=sim.market_ws_url,
        limiter=limiter,
        signer=JwtSigner(throwaway_key()[0], clock=clock),
        clock=clock,
        request_timeout_s=config.venue.request_timeout_s,
        embedded=sim,
    )
    where = f"paper account {directory.path} as its last run left it (no exchange runs on it)"
    return link, where


def _with_sqlite_files(path: Path) -> list[Path]:
    """``path`` and the ``-wal`` and ``-shm`` files SQLite keeps beside it, those that exist."""
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]


def start_over(config: BotConfig, clock: Clock) -> Path | None:
    """Set the paper account of ``config`` and its journal aside, in ``archive/<UTC time>/``
    beside the journal, so that the bot starts on a new account and a new journal; nothing
    is deleted. Returns the archive, or None when there was nothing to set aside.

    Call it holding the journal's lock, before the journal is opened.

    Raises:
        SimStateInUseError: an exchange runs on the paper account.
        SimStateError: they cannot be moved.
    """
    # Imported here: a bot on Coinbase or on a separate sim never loads the simulator.
    from perpsbot.sim import StateDirectory  # noqa: PLC0415

    directory = StateDirectory(paper_dir(config))
    state = _with_sqlite_files(directory.state_file)
    journal = _with_sqlite_files(config.journal.path)
    if not state and not journal:
        return None
    archive = config.journal.path.parent / "archive" / clock.now().strftime("%Y-%m-%dT%H-%M-%SZ")
    directory.lock()  # no exchange may run on the account it moves
    try:
        (archive / "sim").mkdir(mode=0o700, parents=True)
        for path in state:
            path.rename(archive / "sim" / path.name)
        for path in journal:
            path.rename(archive / path.name)
    except OSError as error:
        raise SimStateError(
            f"--fresh-paper must set the paper account {directory.path} and the journal"
            f" {config.journal.path} aside in {archive}: {error.strerror or error}"
        ) from None
    finally:
        directory.unlock()
    logger.warning(
        "--fresh-paper: the previous paper account and its journal are in %s; a new account"
        " and a new journal start now",
        archive,
    )
    return archive
