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
