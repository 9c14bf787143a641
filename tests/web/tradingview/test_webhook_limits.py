"""Rate limits, the allow-list with X-Forwarded-For, and the de-duplication index (fake clocks)."""

import asyncio

import pytest

from station.web.tradingview.dedup import DedupIndex, fingerprint
from station.web.limits import RateLimiter, SourceAccess, retry_after_header
from support.wait import until


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_limit_allows_its_burst_then_says_how_long_to_wait():
    clock = Clock()
    limiter = RateLimiter(["3 per minute"], clock=clock)
    assert [limiter.hit("a") for _ in range(3)] == [0, 0, 0]
    wait = limiter.hit("a")
    assert wait == pytest.approx(20.0) and retry_after_header(wait) == "20"
    assert limiter.hit("b") == 0  # per address
    clock.now += 20
    assert limiter.hit("a") == 0 and limiter.hit("a") > 0


def test_every_limit_must_allow_and_a_refusal_consumes_nothing():
    clock = Clock()
    limiter = RateLimiter(["50 per hour", "200 per day"], clock=clock)
    for _ in range(50):
        assert limiter.hit("a") == 0
    first = limiter.hit("a")
    assert first == pytest.approx(72.0)
    assert limiter.hit("a") == pytest.approx(72.0)  # the refused one did not count
    assert limiter.retry_after("a") == pytest.approx(72.0)


def test_no_limits_means_no_limiting_and_configure_starts_afresh():
    limiter = RateLimiter([], clock=Clock())
    assert not limiter.enabled and all(limiter.hit("a") == 0 for _ in range(10_000))
    limiter.configure(["1 per day"])
    assert limiter.hit("a") == 0 and limiter.hit("a") > 0
    limiter.configure(["1 per day"])
    assert limiter.hit("a") == 0


def test_idle_addresses_are_forgotten():
    from station.web import limits

    clock = Clock()
    limiter = RateLimiter(["10 per second"], clock=clock)
    for i in range(limits.PURGE_EVERY - 1):
        limiter.hit(f"10.0.{i // 256}.{i % 256}")
    clock.now += 10
    limiter.hit("192.0.2.1")
    assert len(limiter._tat) == 1


def test_forwarded_for_counts_only_behind_a_tunnel_and_only_from_loopback():
    access = SourceAccess()
    assert access.client_address("127.0.0.1", "52.89.214.238") == "127.0.0.1"
    access.configure([], behind_tunnel=True)
    assert access.client_address("127.0.0.1", "52.89.214.238") == "52.89.214.238"
    assert access.client_address("::1", "9.9.9.9, 52.89.214.238") == "52.89.214.238"  # the tunnel's own entry
    assert access.client_address("127.0.0.1", "52.89.214.238:443") == "52.89.214.238"
    assert access.client_address("203.0.113.9", "52.89.214.238") == "203.0.113.9"  # not from the tunnel
    assert access.client_address("127.0.0.1", None) == "127.0.0.1"


def test_allow_list_of_addresses_and_networks():
    access = SourceAccess()
    assert access.allowed("203.0.113.9")  # off
    access.configure(["52.89.214.238", "10.0.0.0/8"], behind_tunnel=False)
    assert access.allowed("52.89.214.238") and access.allowed("10.1.2.3") and access.allowed("::ffff:10.1.2.3")
    assert not access.allowed("127.0.0.1") and not access.allowed("not an address")


async def test_dedup_index_holds_the_original_for_the_window():
    clock = Clock()
    index = DedupIndex(30, clock=clock)
    key = fingerprint("Momentum", '{"a":1}')
    assert key != fingerprint(None, '{"a":1}') and index.original(key) is None
    future = asyncio.get_running_loop().create_future()
    index.add(key, future)
    assert index.original(key) is future
    clock.now += 29
    assert index.original(key) is future
    index.settle(key, 7)  # committed: the id is kept, for the rest of the original's window
    assert index.original(key) == 7
    clock.now += 2
    assert index.original(key) is None


async def test_a_failed_original_is_forgotten_and_expired_entries_are_dropped():
    clock = Clock()
    clock.now = 946684800.0 + 100  # 2000-01-01 00:01:40 UTC
    index = DedupIndex(30, clock=clock)
    future = asyncio.get_running_loop().create_future()
    index.add("k", future)
    future.set_exception(RuntimeError("disk full"))
    await until(lambda: index.original("k") is None, what="the failed original forgotten")
    index.load([("old", 1, "2000-01-01T00:00:00+00:00"), ("recent", 2, "2000-01-01T00:01:30+00:00")])
    assert index.original("old") is None and index.original("recent") == 2
    index.add("new", 3)
    assert len(index) == 2
