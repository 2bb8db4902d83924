"""An asyncio loop on a thread of its own, as both websocket faces of the simulated exchange
(Coinbase's and the Global Derivatives gateway's) run their servers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any

__all__ = ["LoopThread"]

_log = logging.getLogger("perpsbot.sim")


class LoopThread:
    """Runs ``main(self)`` on a new event loop in a daemon thread.

    ``main`` binds what it serves, calls :meth:`ready`, awaits :meth:`stopped` and then
    closes what it opened. :meth:`start` returns once it is ready (or raises what it failed
    with, e.g. a port in use); :meth:`stop` ends it from any thread.

    Args:
        main: the loop's work.
        name: the thread's name.
        what: names it in errors and logs ("sim websocket server").
    """

    def __init__(
        self,
        main: Callable[[LoopThread], Coroutine[Any, Any, None]],
        *,
        name: str,
        what: str,
    ) -> None:
        self._main = main
        self._what = what
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self, timeout_s: float = 10.0) -> None:
        self._thread.start()
        if not self._ready.wait(timeout_s):
            raise TimeoutError(f"{self._what} did not start within {timeout_s}s")
        if self._failure is not None:
            raise self._failure

    def stop(self, timeout_s: float = 5.0) -> bool:
        """Tell ``main`` to stop and wait for the thread; whether it ended within ``timeout_s``."""
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def call(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the loop (from another thread: an engine event, a fault)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            # RuntimeError: the loop closed between the check and the call (stopping);
            # there is nobody left to deliver to.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(fn)

    # --- on the loop ----------------------------------------------------------------------------

    def ready(self) -> None:
        """``main`` serves: :meth:`start` returns."""
        self._ready.set()

    async def stopped(self) -> None:
        """Return once :meth:`stop` is called."""
        assert self._stop is not None  # set before main runs
        await self._stop.wait()

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # the thread must not die silently
            if self._ready.is_set():
                _log.exception("%s failed", self._what)
            # else start() raises it: a port in use is its caller's one clear line to report
            self._failure = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        await self._main(self)
