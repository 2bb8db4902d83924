"""perpsbot: a perpetual-futures trading bot for Coinbase Advanced Trade, on supervised pykka."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0.dev0"
