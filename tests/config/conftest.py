from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

FAKE_PEM = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIFAKEFAKEFAKE\n-----END EC PRIVATE KEY-----\n"
KEY_NAME = "organizations/org-1/apiKeys/key-1"


@pytest.fixture
def credentials_env() -> dict[str, str]:
    """Environment variables that carry a (fake) CDP API key."""
    return {
        "PERPSBOT_VENUE_API_KEY_NAME": KEY_NAME,
        "PERPSBOT_VENUE_API_PRIVATE_KEY": FAKE_PEM,
    }


@pytest.fixture
def write_toml(tmp_path: Path) -> Callable[[str], Path]:
    """Write TOML text to a file in a temporary directory and return its path."""

    def write(text: str) -> Path:
        path = tmp_path / "bot.toml"
        path.write_text(text, encoding="utf-8")
        return path

    return write
