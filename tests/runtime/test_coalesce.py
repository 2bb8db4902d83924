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
    """Takes what its coalescer holds on each wake-up; can be blocked to let offers pile up."""

    def __init__(
        self, *, context: ActorContext, probe: Probe, coalescer: Coalescer[str, int]
    ) -> None:
        super().__init__(context=context)
        self.probe = probe
        self.coalescer = coalescer
        coalescer.bind(self.address)

    def on_receive(self, message: Any) -> None:
        match message:
            case CoalescedReady(source="prices"):
                self.probe.record(self.coalescer.take())
            case Block(release=release, entered=entered):
                entered.set()
                release.wait(10)
            case _:
                self.unhandled(message)


def _taker(system: ActorSystem, probe: Probe, **kwargs: Any) -> Coalescer[str, int]:
    coalescer: Coalescer[str, int] = Coalescer("prices", **kwargs)
    system.start(
        SupervisorSpec(
            name="root",
            children=[
                ChildSpec(
                    name="t",
                    factory=lambda c: Taker(context=c, probe=probe, coalescer=coalescer),
                )
            ],
        )
    )
    return coalescer


def test_a_burst_of_offers_wakes_the_consumer_once_with_the_latest_per_key(
    system: ActorSystem, probe: Probe
) -> None:
    coalescer = _taker(system, probe)
    address = system.address("root/t")
    block = Block(threading.Event())
    address.tell(block)
    assert block.entered.wait(5)
    for n in range(10_000):
        coalescer.offer(("BTC", "ETH")[n % 2], n, now_ns=n)
    assert system.inspect().find("root/t").mailbox_depth == 1  # one wake-up, not 10,000
    block.release.set()
    assert probe.wait_for(lambda events: len(events) == 1)[0] == {"BTC": 9_998, "ETH": 9_999}
    assert (coalescer.offered, coalescer.delivered) == (10_000, 2)


def test_after_a_take_the_next_offer_wakes_the_consumer_again(
    system: ActorSystem, probe: Probe
) -> None:
    coalescer = _taker(system, probe)
    coalescer.offer("BTC", 1, now_ns=0)
    probe.wait_for(lambda events: events == [{"BTC": 1}])
    coalescer.offer("BTC", 2, now_ns=1)
    probe.wait_for(lambda events: events == [{"BTC": 1}, {"BTC": 2}])


def test_a_lost_wake_up_is_told_again_once_it_is_overdue(system: ActorSystem, probe: Probe) -> None:
    coalescer = _taker(system, probe, resend_after_ns=1_000)
    address = system.address("root/t")
    block = Block(threading.Event())
    address.tell(block)
    assert block.entered.wait(5)
    coalescer.offer("BTC", 1, now_ns=0)
    coalescer.offer("BTC", 2, now_ns=999)  # still within the window: no second wake-up
    assert system.inspect().find("root/t").mailbox_depth == 1
    coalescer.offer("BTC", 3, now_ns=1_000)  # overdue: told again
    assert system.inspect().find("root/t").mailbox_depth == 2
    block.release.set()
    probe.wait_for(lambda events: events == [{"BTC": 3}, {}])


def test_values_offered_before_the_consumer_binds_are_announced_when_it_does(
    system: ActorSystem, probe: Probe
) -> None:
    early: Coalescer[str, int] = Coalescer("prices")
    early.offer("BTC", 1, now_ns=0)  # nobody to wake yet: kept
    system.start(
        SupervisorSpec(
            name="root",
            children=[
                ChildSpec(
                    name="t", factory=lambda c: Taker(context=c, probe=probe, coalescer=early)
                )
            ],
        )
    )
    probe.wait_for(lambda events: events == [{"BTC": 1}])


class Recorder(BaseActor):
    def __init__(self, *, context: ActorContext, probe: Probe) -> None:
        super().__init__(context=context)
        self.probe = probe

    def on_receive(self, message: Any) -> None:
        self.probe.record(message)


def test_the_wake_up_is_a_plain_token_naming_the_coalescer(
    system: ActorSystem, probe: Probe
) -> None:
    system.start(
        SupervisorSpec(
            name="root",
            children=[ChildSpec(name="r", factory=lambda c: Recorder(context=c, probe=probe))],
        )
    )
    coalescer: Coalescer[str, int] = Coalescer("prices")
    coalescer.bind(system.address("root/r"))
    coalescer.offer("BTC", 1, now_ns=0)
    # Equal by value and hashable: it holds the coalescer's name, not the coalescer.
    probe.wait_for_event(CoalescedReady(source="prices"))
    assert hash(CoalescedReady(source="prices")) == hash(probe.events[0])
