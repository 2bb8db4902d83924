from __future__ import annotations

import threading
from typing import Any

from perpsbot.runtime import (
    ActorContext,
    ActorSystem,
    BaseActor,
    ChildSpec,
    CoalescedReady,
    Coalescer,
    SupervisorSpec,
)
from perpsbot.runtime.testing import Probe
from tests.runtime.conftest import Block


class Taker(BaseActor):
    """Takes what a coalescer holds on each wake-up; can be blocked to let offers pile up."""

    def __init__(self, *, context: ActorContext, probe: Probe) -> None:
        super().__init__(context=context)
        self.probe = probe

    def on_receive(self, message: Any) -> None:
        match message:
            case CoalescedReady(source=source):
                self.probe.record(source.take())
            case Block(release=release, entered=entered):
                entered.set()
                release.wait(10)
            case _:
                self.unhandled(message)


def _taker(system: ActorSystem, probe: Probe) -> None:
    system.start(
        SupervisorSpec(
            name="root",
            children=[ChildSpec(name="t", factory=lambda c: Taker(context=c, probe=probe))],
        )
    )


def test_a_burst_of_offers_wakes_the_consumer_once_with_the_latest_per_key(
    system: ActorSystem, probe: Probe
) -> None:
    _taker(system, probe)
    address = system.address("root/t")
    block = Block(threading.Event())
    address.tell(block)
    assert block.entered.wait(5)
    coalescer: Coalescer[str, int] = Coalescer(address)
    for n in range(10_000):
        coalescer.offer(("BTC", "ETH")[n % 2], n, now_ns=n)
    assert system.inspect().find("root/t").mailbox_depth == 1  # one wake-up, not 10,000
    block.release.set()
    assert probe.wait_for(lambda events: len(events) == 1)[0] == {"BTC": 9_998, "ETH": 9_999}
    assert (coalescer.offered, coalescer.delivered) == (10_000, 2)


def test_after_a_take_the_next_offer_wakes_the_consumer_again(
    system: ActorSystem, probe: Probe
) -> None:
    _taker(system, probe)
    coalescer: Coalescer[str, int] = Coalescer(system.address("root/t"))
    coalescer.offer("BTC", 1, now_ns=0)
    probe.wait_for(lambda events: events == [{"BTC": 1}])
    coalescer.offer("BTC", 2, now_ns=1)
    probe.wait_for(lambda events: events == [{"BTC": 1}, {"BTC": 2}])


def test_a_lost_wake_up_is_told_again_once_it_is_overdue(system: ActorSystem, probe: Probe) -> None:
    _taker(system, probe)
    address = system.address("root/t")
    block = Block(threading.Event())
    address.tell(block)
    assert block.entered.wait(5)
    coalescer: Coalescer[str, int] = Coalescer(address, resend_after_ns=1_000)
    coalescer.offer("BTC", 1, now_ns=0)
    coalescer.offer("BTC", 2, now_ns=999)  # still within the window: no second wake-up
    assert system.inspect().find("root/t").mailbox_depth == 1
    coalescer.offer("BTC", 3, now_ns=1_000)  # overdue: told again
    assert system.inspect().find("root/t").mailbox_depth == 2
    block.release.set()
    probe.wait_for(lambda events: events == [{"BTC": 3}, {}])
