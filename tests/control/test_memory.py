"""The C allocator's free memory goes back to the system on request."""

from __future__ import annotations

import ctypes.util
import platform
import threading

import pytest

from perpsbot.control import release_free_memory

glibc = pytest.mark.skipif(
    platform.libc_ver()[0] != "glibc" or ctypes.util.find_library("c") is None,
    reason="malloc_trim is glibc's",
)


@glibc
def test_what_a_thread_allocated_in_a_burst_and_freed_below_a_live_block_is_released() -> None:
    kept: list[bytearray] = []

    def burst() -> None:
        chunks = [bytes(64 * 1024) for _ in range(200)]  # 12.5 MiB in this thread's arena
        kept.append(bytearray(4096))  # lives on above them: the arena cannot shrink by itself
        del chunks

    thread = threading.Thread(target=burst, name="test-burst")
    thread.start()
    thread.join(timeout=30)

    assert kept
    assert release_free_memory() is True
