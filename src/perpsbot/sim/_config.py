"""Seeds of the simulated exchange; its settings are :class:`perpsbot.config.SimConfig`."""

from __future__ import annotations

import hashlib


def derived_seed(seed: int, *labels: object) -> int:
    """A seed for one of the sim's RNGs, derived from the configured ``seed`` and a label.

    Each concern (prices, ids, history) has its own stream, so drawing more ids never moves
    a price; all of them depend on ``seed`` alone.
    """
    text = "/".join([str(seed), *map(str, labels)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
