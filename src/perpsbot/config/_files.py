"""Reading the files a configuration names: bounded, UTF-8, and every failure one error.

Configuration files, CDP key files and the simulated exchange's public keys are all read here,
so a directory, a FIFO, a file without permission, a huge file or bytes that are not UTF-8 give
the same kind of message: :class:`InvalidConfigError` naming the file and why.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

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
            f"{expected}, was '{path}' (not UTF-8: byte 0x{byte:02x} at offset {error.start})"
        ) from None


def _read_bytes(path: Path, max_bytes: int, expected: str) -> bytes:
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        raise InvalidConfigError(f"{expected}, was '{path}' ({error.strerror})") from None
    except ValueError:  # a NUL byte in the path
        raise InvalidConfigError(f"{expected}, was '{path}' (not a valid path)") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
            raise InvalidConfigError(f"{expected}, was '{path}' ({kind})")
        data = _read_up_to(fd, max_bytes + 1)
    except OSError as error:
        raise InvalidConfigError(f"{expected}, was '{path}' ({error.strerror})") from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise InvalidConfigError(f"{expected}, was '{path}' (larger)")
    return data


def _read_up_to(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    remaining = limit
    while remaining > 0:
        chunk = os.read(fd, min(remaining, 65536))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _size(n: int) -> str:
    for unit, shift in (("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift} {unit}"
    return f"{n} bytes"
