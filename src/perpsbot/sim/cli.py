"""``perpsbot sim``: run the simulated exchange alone until SIGINT or SIGTERM.

With ``--state DIR`` its account (balances, orders, fills, positions, ids) and market are
kept in ``DIR`` and the next ``perpsbot sim --state DIR`` goes on from there; ``--fresh``
starts a new account in ``DIR`` instead.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from perpsbot.config import SimConfig, read_text
from perpsbot.errors import InvalidConfigError, SimStateError
from perpsbot.sim._exchange import SimExchange

__all__ = ["configure_parser", "run"]


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the ``sim`` options to ``parser``."""
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=int, default=0, help="REST port; 0 picks a free one (default: 0)"
    )
    parser.add_argument(
        "--ws-port",
        type=int,
        default=None,
        help="websocket port (default: --port + 1, or a free one when --port is 0)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of prices, books and ids (default: 0)"
    )
    parser.add_argument(
        "--tick-interval-s",
        type=float,
        default=0.1,
        help="seconds between market steps (default: 0.1)",
    )
    parser.add_argument(
        "--public-key",
        type=Path,
        action="append",
        default=[],
        help="PEM public key whose JWTs are accepted (repeatable); without one, auth is lenient",
    )
    parser.add_argument(
        "--state",
        type=Path,
        metavar="DIR",
        help="keep the account and market in DIR and go on from it at the next start"
        " (default: in memory only)",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="with --state: discard what DIR holds and start a new account",
    )


def run(args: argparse.Namespace) -> int:
    """Start the sim, print its URLs, and serve until SIGINT/SIGTERM; returns the exit code.

    A bad setting, an unreadable key file or a port in use prints one line and returns 2.
    """
    if args.fresh and args.state is None:
        print(
            "perpsbot sim: --fresh starts the state in --state DIR over; give --state",
            file=sys.stderr,
        )
        return 2
    try:
        config = _config(args)
        sim = SimExchange(config, state_dir=args.state, fresh=args.fresh)
    except InvalidConfigError as error:
        print(f"perpsbot sim: {error}", file=sys.stderr)
        return 2
    done = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        done.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            sim.start()
        except SimStateError as error:  # before OSError: it is one
            print(f"perpsbot sim: {error}", file=sys.stderr)
            return 2
        except OSError as error:
            print(f"perpsbot sim: {config.listen_error(error)}", file=sys.stderr)
            return 2
        try:
            print(f"rest:      {sim.rest_base_url}", flush=True)
            print(f"market ws: {sim.market_ws_url}", flush=True)
            print(f"user ws:   {sim.user_ws_url}", flush=True)
            print(f"control:   {sim.control_url}/faults", flush=True)
            verified = "JWT verified" if config.verify_auth else "lenient (no --public-key)"
            print(f"auth:      {verified}", flush=True)
            if sim.state_file is not None:
                print(f"state:     {sim.state_file}", flush=True)
            while not done.wait(0.5):
                pass
        finally:
            sim.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def _config(args: argparse.Namespace) -> SimConfig:
    keys = tuple(read_text(path, what="--public-key") for path in args.public_key)
    ws_port = args.ws_port if args.ws_port is not None else (args.port + 1 if args.port else 0)
    return SimConfig(
        host=args.host,
        rest_port=args.port,
        ws_port=ws_port,
        seed=args.seed,
        tick_interval_s=args.tick_interval_s,
        verify_auth=bool(keys),
        public_keys_pem=keys,
    )
