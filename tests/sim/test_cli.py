"""``perpsbot sim`` runs the exchange alone, prints its URLs and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import queue
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import websocket

from tests.sim.conftest import TIMEOUT_S, Keys

# Process-level: runs perpsbot processes or the whole daemon (pytest -m 'not slow' skips it).
pytestmark = pytest.mark.slow


@pytest.fixture
def sim_process() -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "perpsbot", "sim", "--port", "0", "--seed", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    yield process
    if process.poll() is None:
        process.kill()
    process.communicate(timeout=TIMEOUT_S)


def _urls(process: subprocess.Popen[str]) -> dict[str, str]:
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    stdout = process.stdout

    def pump() -> None:
        for line in stdout:
            lines.put(line)
            if line.startswith("auth:"):
                return

    threading.Thread(target=pump, daemon=True).start()
    urls: dict[str, str] = {}
    while "auth" not in urls:
        name, _, value = lines.get(timeout=20).partition(":")
        urls[name.strip()] = value.strip()
    return urls


def test_sim_command_prints_its_urls_serves_both_faces_and_stops_on_sigterm(
    sim_process: subprocess.Popen[str],
) -> None:
    urls = _urls(sim_process)

    status = requests.get(urls["rest"] + "/accounts", timeout=TIMEOUT_S).status_code
    ws = websocket.create_connection(urls["market ws"], timeout=TIMEOUT_S)
    ws.send(json.dumps({"type": "subscribe", "channel": "heartbeats"}))
    ack = json.loads(ws.recv())
    ws.close()
    sim_process.send_signal(signal.SIGTERM)

    assert status == 200
    assert urls["auth"] == "lenient (no --public-key)"
    assert urls["user ws"].endswith("/ws-user")
    assert ack["channel"] == "subscriptions"
    assert sim_process.wait(timeout=TIMEOUT_S) == 0


def test_sim_command_with_a_public_key_verifies_jwts(tmp_path: Path) -> None:
    key_file = tmp_path / "public.pem"
    key_file.write_text(Keys().public_pem)
    process = subprocess.Popen(
        [sys.executable, "-m", "perpsbot", "sim", "--port", "0", "--public-key", str(key_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        urls = _urls(process)
        status = requests.get(urls["rest"] + "/accounts", timeout=TIMEOUT_S).status_code
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=TIMEOUT_S)

    assert urls["auth"] == "JWT verified"
    assert status == 401
    assert code == 0


def _sim_command(*arguments: str) -> tuple[int, str]:
    process = subprocess.run(
        [sys.executable, "-m", "perpsbot", "sim", *arguments],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S * 3,
        check=False,
    )
    return process.returncode, process.stderr


def test_sim_command_with_its_port_in_use_exits_2_with_one_line() -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        code, err = _sim_command("--port", str(port))

    assert code == 2
    assert err == (
        "perpsbot sim: sim.rest_port and sim.ws_port must be free ports on 127.0.0.1"
        f" (0 picks a free one), were {port} and {port + 1} (Address already in use)\n"
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--host", "0.0.0.0"), "perpsbot sim: sim.host must be a loopback address"),
        (("--tick-interval-s", "1e300"), "perpsbot sim: sim.tick_interval_s must be a number"),
        (
            ("--public-key", "/nonexistent/public.pem"),
            "perpsbot sim: --public-key must be a readable UTF-8 text file of at most 1 MiB,"
            " was '/nonexistent/public.pem' (No such file or directory)",
        ),
    ],
)
def test_sim_command_with_a_bad_setting_exits_2_with_one_line(
    arguments: tuple[str, ...], message: str
) -> None:
    code, err = _sim_command(*arguments)

    assert code == 2
    assert err.startswith(message)
    assert err.count("\n") == 1


def _order(rest: str, client_order_id: str) -> str:
    body = {
        "client_order_id": client_order_id,
        "product_id": "BIP-20DEC30-CDE",
        "side": "BUY",
        "order_configuration": {"market_market_ioc": {"base_size": "1"}},
    }
    answer = requests.post(rest + "/orders", json=body, timeout=TIMEOUT_S).json()
    assert answer["success"], answer
    return str(answer["success_response"]["order_id"])


def _kept_sim(state: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "perpsbot", "sim", "--seed", "3", "--state", str(state)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


@pytest.mark.slow
def test_sim_command_with_state_goes_on_after_a_kill_9_with_every_order_it_answered(
    tmp_path: Path,
) -> None:
    first = _kept_sim(tmp_path / "state")
    try:
        old_id = _order(_urls(first)["rest"], "kept-1")
    finally:
        first.kill()  # kill -9: no save at stop
        first.communicate(timeout=TIMEOUT_S)
    second = _kept_sim(tmp_path / "state")
    try:
        rest = _urls(second)["rest"]
        old = requests.get(f"{rest}/orders/historical/{old_id}", timeout=TIMEOUT_S)
        new_id = _order(rest, "kept-2")
        fills = requests.get(rest + "/orders/historical/fills", timeout=TIMEOUT_S).json()["fills"]
        (position,) = requests.get(rest + "/cfm/positions", timeout=TIMEOUT_S).json()["positions"]
        second.send_signal(signal.SIGTERM)
        code = second.wait(timeout=TIMEOUT_S)
    finally:
        if second.poll() is None:
            second.kill()
        second.communicate(timeout=TIMEOUT_S)

    assert old.status_code == 200
    assert old.json()["order"]["status"] == "FILLED"
    assert new_id != old_id
    assert [f["order_id"] for f in fills] == [new_id, old_id]  # newest first, none reused
    assert len({f["entry_id"] for f in fills}) == 2
    assert position["number_of_contracts"] == "2"
    assert code == 0


def test_sim_command_refuses_a_state_it_cannot_use_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "state.sqlite3").write_bytes(b"this is no database, whatever it says" * 20)

    code, err = _sim_command("--state", str(tmp_path))

    assert code == 2
    assert err.startswith(
        f"perpsbot sim: simulated exchange state {tmp_path / 'state.sqlite3'} cannot be used:"
    )
    assert "'perpsbot sim --state DIR --fresh'" in err
    assert err.count("\n") == 1


def test_sim_command_fresh_needs_a_state() -> None:
    code, err = _sim_command("--fresh")

    assert code == 2
    assert err == "perpsbot sim: --fresh starts the state in --state DIR over; give --state\n"
