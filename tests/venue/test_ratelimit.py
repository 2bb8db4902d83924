from __future__ import annotations

import random
import threading

import pytest

from perpsbot.clock import FakeClock
from perpsbot.venue import Backoff, RateLimits, TokenBucket, VenueRateLimiter
from tests.venue.conftest import FakeWait


def test_bucket_allows_its_burst_without_waiting(
    fake_clock: FakeClock, fake_wait: FakeWait
) -> None:
    bucket = TokenBucket("b", 10, 3, clock=fake_clock, wait=fake_wait)
    assert [bucket.acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert fake_wait.waits == []


def test_bucket_spaces_requests_past_the_burst_at_its_rate(
    fake_clock: FakeClock, fake_wait: FakeWait
) -> None:
    bucket = TokenBucket("b", 10, 1, clock=fake_clock, wait=fake_wait)
    start = fake_clock.monotonic()
    for _ in range(21):
        bucket.acquire()
    assert fake_clock.monotonic() - start == pytest.approx(2.0)


def test_sustained_rate_never_exceeds_the_limit_in_any_second(
    fake_clock: FakeClock, fake_wait: FakeWait
) -> None:
    limiter = VenueRateLimiter(clock=fake_clock, wait=fake_wait)
    times = []
    for _ in range(300):
        limiter.private.acquire()
        times.append(fake_clock.monotonic())
    for i, t in enumerate(times):
        in_window = sum(1 for u in times[i:] if u < t + 1.0)
        assert in_window <= 30 + limiter.limits.private_burst


def test_hold_off_blocks_every_caller_of_the_bucket(
    fake_clock: FakeClock, fake_wait: FakeWait
) -> None:
    bucket = TokenBucket("b", 30, 10, clock=fake_clock, wait=fake_wait)
    bucket.hold_off(2.5)
    assert bucket.acquire() == pytest.approx(2.5)


def test_try_acquire_takes_a_free_slot_or_refuses_without_waiting(
    fake_clock: FakeClock, fake_wait: FakeWait
) -> None:
    bucket = TokenBucket("b", 10, 10, clock=fake_clock, wait=fake_wait)

    taken = [bucket.try_acquire() for _ in range(11)]
    left = bucket.available()
    fake_clock.advance(0.1)

    assert taken == [True] * 10 + [False]
    assert left == 0
    assert bucket.available() == 1
    assert bucket.try_acquire()
    assert fake_wait.waits == []


def test_limiter_has_the_venue_budgets() -> None:
    limiter = VenueRateLimiter(clock=FakeClock(), limits=RateLimits())
    assert limiter.private.rate_per_s == 30
    assert limiter.public.rate_per_s == 10
    assert limiter.websocket.rate_per_s == 8


def test_bucket_is_shared_safely_between_threads(fake_clock: FakeClock) -> None:
    lock = threading.Lock()
    waits: list[float] = []

    def wait(seconds: float) -> None:
        with lock:
            waits.append(seconds)

    bucket = TokenBucket("b", 10, 1, clock=fake_clock, wait=wait)
    threads = [
        threading.Thread(target=lambda: [bucket.acquire() for _ in range(25)]) for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    # With time frozen, 100 reservations must be spread over distinct 0.1 s slots.
    assert bucket.acquired == 100
    assert sorted(round(w, 6) for w in waits) == [round(0.1 * i, 6) for i in range(1, 100)]


def test_backoff_grows_exponentially_up_to_its_cap() -> None:
    backoff = Backoff(initial_s=0.5, max_s=30, multiplier=2, jitter=0)
    rng = random.Random(1)
    assert [backoff.delay_s(n, rng) for n in range(1, 9)] == [0.5, 1, 2, 4, 8, 16, 30, 30]


def test_backoff_jitter_stays_between_floor_and_ceiling() -> None:
    backoff = Backoff(initial_s=1, max_s=60, jitter=0.5)
    rng = random.Random(3)
    for attempt in range(1, 12):
        for _ in range(50):
            delay = backoff.delay_s(attempt, rng)
            assert backoff.floor_s(attempt) <= delay <= backoff.ceiling_s(attempt)
