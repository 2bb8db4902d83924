"""``perpsbot sim`` runs the exchange alone, prints its URLs and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import websocket

from tests.sim.conftest import TIMEOUT_S, Keys


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
