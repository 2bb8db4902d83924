from __future__ import annotations

import threading
from typing import Any

import attrs
import pytest

from perpsbot.runtime import (
    BoundedMailbox,
    CommandMailbox,
    ConflatingMailbox,
    FifoMailbox,
    GetState,
    MailboxFullError,
    Overflow,
    Ping,
)
from perpsbot.runtime._mailbox import message_of
from perpsbot.runtime._pykka import Envelope


def _messages(mailbox: FifoMailbox | ConflatingMailbox | BoundedMailbox) -> list[object]:
    return [message_of(item) for item in mailbox.drain()]


def test_fifo_mailbox_keeps_order() -> None:
    mailbox = FifoMailbox()
    for i in range(5):
        mailbox.tell(i)
    assert [mailbox.get() for _ in range(5)] == [0, 1, 2, 3, 4]
    assert mailbox.empty()


def test_control_messages_overtake_queued_work() -> None:
    mailbox = FifoMailbox()
    mailbox.tell("work-1")
    mailbox.tell("work-2")
    mailbox.tell(Ping(seq=1))
    mailbox.tell(GetState())
    assert _messages(mailbox) == [Ping(seq=1), GetState(), "work-1", "work-2"]


def test_a_sleeping_consumer_is_woken_by_a_put_from_another_thread() -> None:
    mailbox = FifoMailbox()
    received: list[object] = []
    done = threading.Event()

    def consume() -> None:
        received.append(mailbox.get())
        done.set()

    consumer = threading.Thread(target=consume)
    consumer.start()
    mailbox.tell("hello")
    assert done.wait(5)
    consumer.join(5)
    assert received == ["hello"]


@pytest.mark.parametrize("kind", [FifoMailbox, lambda: ConflatingMailbox(lambda m: m)])
def test_a_consumer_going_to_sleep_on_an_empty_mailbox_tells_the_sleep_hook(kind: Any) -> None:
    mailbox = kind()
    asleep = threading.Event()
    mailbox.on_sleep = asleep.set
    received: list[object] = []

    def consume() -> None:
        received.append(mailbox.get())

    mailbox.tell("queued")  # taken at once: no sleep
    consumer = threading.Thread(target=consume)
    consumer.start()
    consumer.join(5)
    assert received == ["queued"]
    assert not asleep.is_set()

    consumer = threading.Thread(target=consume)
    consumer.start()
    assert asleep.wait(5)  # nothing queued: the consumer sleeps, and says so
    assert mailbox.asleep()
    mailbox.tell("wake")
    consumer.join(5)
    assert received == ["queued", "wake"]


def test_fifo_mailbox_records_its_max_depth() -> None:
    mailbox = FifoMailbox()
    for i in range(7):
        mailbox.tell(i)
    mailbox.drain()
    assert mailbox.max_depth == 7
    assert mailbox.depth() == 0


def test_conflating_mailbox_under_a_100k_burst_holds_one_entry_per_key() -> None:
    mailbox = ConflatingMailbox(key_of=lambda message: message[0])
    symbols = ["BTC-USD", "ETH-USD", "BIP-20DEC30-CDE"]
    for i in range(100_000):
        mailbox.tell((symbols[i % 3], i))
    assert mailbox.depth() == 3
    assert _messages(mailbox) == [
        ("BTC-USD", 99_999),
        ("ETH-USD", 99_997),
        ("BIP-20DEC30-CDE", 99_998),
    ]
    assert mailbox.conflated == 100_000 - 3


def test_conflating_mailbox_keeps_unkeyed_messages_and_asks_in_order() -> None:
    mailbox = ConflatingMailbox(
        key_of=lambda message: message[0] if isinstance(message, tuple) else None
    )
    mailbox.tell(("BTC", 1))
    mailbox.tell("fill-1")
    mailbox.tell(("BTC", 2))
    mailbox.tell("fill-2")
    assert _messages(mailbox) == [("BTC", 2), "fill-1", "fill-2"]


def test_bounded_mailbox_rejecting_tells_the_sender_and_records_the_drop() -> None:
    mailbox = BoundedMailbox(capacity=2, overflow=Overflow.REJECT)
    dropped: list[tuple[object, str]] = []
    mailbox.on_drop = lambda item, reason: dropped.append((item, reason))
    mailbox.tell(1)
    mailbox.tell(2)
    with pytest.raises(MailboxFullError, match="at most 2 messages"):
        mailbox.tell(3)
    assert dropped == [(3, "mailbox full (2)")]
    assert _messages(mailbox) == [1, 2]


def test_bounded_mailbox_dropping_oldest_keeps_the_newest() -> None:
    mailbox = BoundedMailbox(capacity=2, overflow=Overflow.DROP_OLDEST)
    dropped: list[object] = []
    mailbox.on_drop = lambda item, reason: dropped.append(item)
    for i in range(5):
        mailbox.tell(i)
    assert dropped == [0, 1, 2]
    assert _messages(mailbox) == [3, 4]


def test_bounded_mailbox_dropping_newest_keeps_the_oldest() -> None:
    mailbox = BoundedMailbox(capacity=2, overflow=Overflow.DROP_NEWEST)
    dropped: list[object] = []
    mailbox.on_drop = lambda item, reason: dropped.append(item)
    for i in range(4):
        mailbox.tell(i)
    assert dropped == [2, 3]
    assert _messages(mailbox) == [0, 1]


def test_bounded_mailbox_never_bounds_the_control_lane() -> None:
    mailbox = BoundedMailbox(capacity=1, overflow=Overflow.REJECT)
    mailbox.tell("work")
    for seq in range(3):
        mailbox.tell(Ping(seq=seq))
    assert mailbox.depth() == 4


def test_bounded_mailbox_needs_a_positive_capacity() -> None:
    with pytest.raises(ValueError, match="capacity must be at least 1, was 0"):
        BoundedMailbox(capacity=0)


def test_asks_keep_their_envelope_and_are_never_conflated() -> None:
    mailbox = ConflatingMailbox(key_of=lambda message: message[0])
    first, second = Envelope(("BTC", 1), reply_to=object()), Envelope(("BTC", 2), reply_to=object())
    mailbox.put(first)  # type: ignore[arg-type]
    mailbox.put(second)  # type: ignore[arg-type]
    mailbox.tell(("BTC", 3))
    assert mailbox.drain() == [first, second, ("BTC", 3)]


def test_a_pykka_tell_is_unwrapped_to_the_bare_message() -> None:
    mailbox = FifoMailbox()
    mailbox.put(Envelope("told through pykka"))
    assert mailbox.get() == "told through pykka"


def test_priority_classes_overtake_queued_work_on_a_fifo() -> None:
    @attrs.frozen
    class Urgent:
        pass

    mailbox = FifoMailbox(priority=[Urgent])
    mailbox.tell("first")
    mailbox.tell(Urgent())

    assert mailbox.get() == Urgent()
    assert mailbox.get() == "first"


def test_a_command_mailbox_refuses_a_command_class_that_is_also_a_priority_class() -> None:
    @attrs.frozen
    class Halt:
        reason: str

    with pytest.raises(
        ValueError, match=r"must not travel on the control lane too, were \['Halt'\]"
    ):
        CommandMailbox(1, [Halt], priority=[Halt])


def test_a_command_mailbox_refuses_commands_past_capacity_but_never_events() -> None:
    @attrs.frozen
    class Command:
        n: int

    dropped: list[tuple[object, str]] = []
    mailbox = CommandMailbox(2, [Command])
    mailbox.on_drop = lambda item, reason: dropped.append((item, reason))
    mailbox.tell(Command(1))
    mailbox.tell(Command(2))
    for n in range(1_000):
        mailbox.tell(("event", n))

    with pytest.raises(MailboxFullError, match="at most 2 waiting commands"):
        mailbox.tell(Command(3))
    assert dropped == [(Command(3), "2 commands already waiting")]
    assert mailbox.get() == Command(1)
    mailbox.tell(Command(4))  # one was taken: room for one more
    assert mailbox.depth() == 1_002
