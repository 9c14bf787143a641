"""A burst of alerts: every order goes out once, in order, and never faster than TWS's 45 messages a second."""

from __future__ import annotations

import time

import pytest

from support.ib import fake, make_broker, request, wait_until  # noqa: F401 - fixtures
from station.brokers.ib.pacing import max_in_window

BURST = 100


def record_sends(broker) -> list[float]:
    """The moment each message leaves for the socket (what TWS counts), from ib_async's connection."""
    times: list[float] = []
    conn = broker.link.ib.client.conn
    original = conn.sendMsg

    def send(msg):
        times.append(time.monotonic())
        return original(msg)

    conn.sendMsg = send
    return times


@pytest.mark.slow
async def test_a_burst_is_paced_at_45_messages_a_second_and_nothing_is_lost_or_doubled(fake, make_broker):
    broker, rec, bus = await make_broker(fake.port)
    await broker.submit(request("AAPL"))  # the contract is looked up once, before the burst
    await wait_until(lambda: len(fake.placed()) == 1, what="warm-up order")
    sent_at = record_sends(broker)
    orders = [request("AAPL", qty="1") for _ in range(BURST)]
    for order in orders:  # as the oms would on a burst of alerts: one submit after another
        await broker.submit(order)
    await wait_until(lambda: sum(1 for o in orders if "filled" in rec.statuses(o.client_order_id)) == BURST,
                     timeout=15, what="every order filled")
    assert max_in_window(sent_at, 1.0) <= 45
    assert sent_at[-1] - sent_at[0] >= BURST // 45  # it really was paced, not sent at once
    placed = fake.placed()[1:]
    assert [o.order_ref for o in placed] == [o.client_order_id for o in orders]
    assert len({o.order_id for o in placed}) == BURST
    assert all(len(rec.fills(o.client_order_id)) == 1 for o in orders)
    assert not [e for e in fake.errors_sent if e[1] in (100, 103)]  # no pacing violation, no duplicate id
