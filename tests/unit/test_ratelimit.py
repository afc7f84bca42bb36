"""The public surfaces' token buckets: a minute's allowance at once, then the sustained rate; each address
and each surface on its own; idle buckets forgotten without changing anyone's allowance."""

from __future__ import annotations

from coinslot.ratelimit import RateLimiter


class FakeTime:
    def __init__(self) -> None:
        self.now_s = 1000.0

    def __call__(self) -> float:
        return self.now_s


def test_a_burst_of_a_minutes_allowance_then_the_sustained_rate() -> None:
    time = FakeTime()
    limiter = RateLimiter(monotonic_s=time)
    assert [limiter.take("public", "1.2.3.4", per_min=60) for _ in range(60)] == [None] * 60
    assert limiter.take("public", "1.2.3.4", per_min=60) == 1  # one a second from now on
    time.now_s += 1.0
    assert limiter.take("public", "1.2.3.4", per_min=60) is None
    assert limiter.take("public", "1.2.3.4", per_min=60) == 1


def test_the_wait_is_whole_seconds_until_the_next_request_would_pass() -> None:
    time = FakeTime()
    limiter = RateLimiter(monotonic_s=time)
    assert limiter.take("links", "a", per_min=2) is None
    assert limiter.take("links", "a", per_min=2) is None
    assert limiter.take("links", "a", per_min=2) == 30
    time.now_s += 29.5
    assert limiter.take("links", "a", per_min=2) == 1


def test_addresses_and_surfaces_are_counted_apart_and_zero_is_off() -> None:
    limiter = RateLimiter(monotonic_s=FakeTime())
    assert limiter.take("links", "a", per_min=1) is None
    assert limiter.take("links", "a", per_min=1) is not None
    assert limiter.take("links", "b", per_min=1) is None
    assert limiter.take("public", "a", per_min=1) is None
    assert all(limiter.take("webhooks", "a", per_min=0) is None for _ in range(1000))


def test_a_flood_from_many_addresses_keeps_the_table_bounded() -> None:
    time = FakeTime()
    limiter = RateLimiter(monotonic_s=time)
    for n in range(25_000):
        limiter.take("public", f"10.0.{n // 256}.{n % 256}", per_min=10)
        time.now_s += 0.001
    assert len(limiter._buckets) <= 10_000
