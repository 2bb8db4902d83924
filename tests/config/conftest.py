from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tests.support.keys import make_key_pems

KEY_NAME = "organizations/org-1/apiKeys/key-1"


@pytest.fixture
def private_pem() -> str:
    """A real throwaway CDP private key (EC P-256, PKCS#8 PEM)."""
    return make_key_pems()[0]


@pytest.fixture
def credentials_env(private_pem: str) -> dict[str, str]:
    """Environment variables that carry a real throwaway CDP API key."""
    return {
        "PERPSBOT_VENUE_API_KEY_NAME": KEY_NAME,
        "PERPSBOT_VENUE_API_PRIVATE_KEY": private_pem,
    }


@pytest.fixture
def write_toml(tmp_path: Path) -> Callable[[str], Path]:
    """Write TOML text to a file in a temporary directory and return its path."""

    def write(text: str) -> Path:
        path = tmp_path / "bot.toml"
        path.write_text(text, encoding="utf-8")
        return path

    return write
