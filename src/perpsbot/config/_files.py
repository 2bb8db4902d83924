"""Reading the files a configuration names: bounded, UTF-8, and every failure one error.

Configuration files, CDP key files and the simulated exchange's public keys are all read here,
so a directory, a FIFO, a file without permission, a huge file or bytes that are not UTF-8 give
the same kind of message: :class:`InvalidConfigError` naming the file and why.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from perpsbot._paths import shown
from perpsbot.errors import InvalidConfigError

__all__ = ["MAX_FILE_BYTES", "read_text"]

#: The largest file a configuration may name (a config, a key file): far above any real one.
MAX_FILE_BYTES = 1024 * 1024


def read_text(path: Path, *, what: str, max_bytes: int = MAX_FILE_BYTES) -> str:
    """The UTF-8 text of the regular file at ``path``.

    ``what`` names the file in the error, e.g. ``"config file"`` or ``"venue.api_key_file"``.

    Raises:
        InvalidConfigError: the file is missing, unreadable, not a regular file, larger than
            ``max_bytes`` or not UTF-8 text.
    """
    expected = f"{what} must be a readable UTF-8 text file of at most {_size(max_bytes)}"
    data = _read_bytes(path, max_bytes, expected)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        byte = data[error.start]
        raise InvalidConfigError(
            f"{expected}, was '{shown(path)}'"
            f" (not UTF-8: byte 0x{byte:02x} at offset {error.start})"
        ) from None


def _read_bytes(path: Path, max_bytes: int, expected: str) -> bytes:
    try:
        with open(path, "rb", opener=_opener) as file:
            regular = stat.S_ISREG(os.fstat(file.fileno()).st_mode)
            data = file.read(max_bytes + 1) if regular else b""
    except OSError as error:  # missing, a directory, no permission, an I/O error
        raise InvalidConfigError(f"{expected}, was '{shown(path)}' ({error.strerror})") from None
    except ValueError:  # a NUL byte in the path
        raise InvalidConfigError(f"{expected}, was '{shown(path)}' (not a valid path)") from None
    if not regular:  # a FIFO, a device, a socket
        raise InvalidConfigError(f"{expected}, was '{shown(path)}' (not a regular file)")
    if len(data) > max_bytes:
        raise InvalidConfigError(f"{expected}, was '{shown(path)}' (larger)")
    return data


def _opener(path: str, flags: int) -> int:
    # Opening a FIFO must not wait for a writer; _read_bytes refuses it once open.
    return os.open(path, flags | os.O_NONBLOCK)


def _size(n: int) -> str:
    for unit, shift in (("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift} {unit}"
    return f"{n} bytes"
