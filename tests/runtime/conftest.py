from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import attrs
import pytest

from perpsbot.clock import FakeClock
from perpsbot.runtime import ActorContext, ActorSystem, BaseActor, ChildSpec
from perpsbot.runtime.testing import Probe


@attrs.frozen
class Add:
    n: int


@attrs.frozen
class Crash:
    error: BaseException


@attrs.frozen
class Block:
    """Block the handler until ``release`` is set; ``entered`` is set once it blocks."""

    release: threading.Event
    entered: threading.Event = attrs.field(factory=threading.Event)


@attrs.frozen
class BlockThenCrash:
    """Block like Block, then raise once released."""

    block: Block
    error: BaseException


class Recorder(BaseActor):
    """Records its lifecycle and messages in a Probe; keeps a running total across restarts."""

    def __init__(self, *, context: ActorContext, probe: Probe, fail_on_start: int = 0) -> None:
        super().__init__(context=context)
        self.probe = probe
        self.total = 0
        self._fail_on_start = fail_on_start

    def on_start(self) -> None:
        name = self.address.path
        self.probe.record(("start", name, self.context.incarnation))
        if self.context.incarnation <= self._fail_on_start:
            raise RuntimeError(f"{name} refuses to start")

    def on_stop(self) -> None:
        self.probe.record(("stop", self.address.path, self.context.incarnation))

    def on_receive(self, message: Any) -> Any:
        match message:
            case Add(n=n):
                self.total += n
                self.probe.record(("add", self.address.path, self.context.incarnation, n))
            case Crash(error=error):
                raise error
            case Block(release=release, entered=entered):
                entered.set()
                release.wait(10)
            case BlockThenCrash(block=block, error=error):
                block.entered.set()
                block.release.wait(10)
                raise error
            case "total":
                return self.total
            case "stop yourself":
                self.stop()
            case _:
                self.unhandled(message)
        return None

    def snapshot_state(self) -> Any:
        return {"total": self.total}

    def restore_state(self, snapshot: Any) -> None:
        self.total = snapshot["total"]


def recorder(name: str, probe: Probe, **spec: Any) -> ChildSpec:
    fail_on_start = spec.pop("fail_on_start", 0)
    return ChildSpec(
        name=name,
        factory=lambda ctx: Recorder(context=ctx, probe=probe, fail_on_start=fail_on_start),
        **spec,
    )


@pytest.fixture
def probe() -> Probe:
    return Probe()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def system(clock: FakeClock) -> Iterator[ActorSystem]:
    system = ActorSystem("test", clock=clock, watchdog_interval_s=None)
    yield system
    system.shutdown()
