"""How messages show a file's path."""

from __future__ import annotations

import os

__all__ = ["shown"]


def shown(path: str | os.PathLike[str]) -> str:
    """``path`` made absolute (not resolving links): a relative path is read from the working
    directory, and a message must say which one that was."""
    return os.path.abspath(path)
