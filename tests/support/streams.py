"""Reading a subprocess's output while it runs, so a test can wait for a line."""

from __future__ import annotations

import queue
import signal
import subprocess
import threading
from typing import IO


class Lines:
    """Reads a stream on a thread, so a test can wait for a line with a deadline.

    ``copy``, if given, receives every line as it is read (and is closed by :meth:`close`).
    """

    def __init__(self, stream: IO[str], *, copy: IO[str] | None = None) -> None:
        self._queue: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self._stream = stream
        self._copy = copy
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        """After the process ended: let the reader reach end of stream, then close it."""
        self._thread.join(10)
        self._stream.close()
        if self._copy is not None:
            self._copy.close()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            if self._copy is not None:
                self._copy.write(line)
            self._queue.put(line)
        self._queue.put("")  # end of stream

    def skip_received(self) -> None:
        """Pass over every line received so far, so ``until`` waits for a line yet to come."""
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                return
            if not line:
                self._queue.put(line)  # keep the end of stream for until()
                return
            self.seen.append(line)

    def until(self, needle: str, timeout_s: float = 20.0) -> str:
        """The next line containing ``needle`` (lines before it are kept in :attr:`seen`)."""
        while True:
            try:
                line = self._queue.get(timeout=timeout_s)
            except queue.Empty:
                raise AssertionError(f"no {needle!r} within {timeout_s}s: {self.seen}") from None
            if not line:
                raise AssertionError(f"the process ended before printing {needle!r}: {self.seen}")
            self.seen.append(line)
            if needle in line:
                return line


def stop_or_dump(process: subprocess.Popen[str], stderr: Lines, *, timeout_s: float = 30.0) -> int:
    """SIGTERM ``process`` (a ``perpsbot`` whose stderr ``stderr`` reads) and its exit code.

    One that has not ended within ``timeout_s`` is asked for its threads (SIGUSR1), killed, and
    the test fails with the dump: where it hung, instead of a timeout that says nothing and a
    process left running into the next test."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGUSR1)
        try:
            stderr.until("thread dump (SIGUSR1)", timeout_s=10)
            stderr.until("\x00", timeout_s=2)  # no such line: what the dump printed, 2 s of it
        except AssertionError:
            pass
        process.kill()
        process.wait(timeout=10)
        dump = "".join(stderr.seen[-400:])
        message = f"not stopped {timeout_s}s after SIGTERM; its threads:\n{dump}"
        raise AssertionError(message) from None
