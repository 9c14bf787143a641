"""`station bench ib`: the IB destination against the loopback fake TWS (the source tree's tests/support/).

Figures: connect time (connect + reconcile until CONNECTED), order -> acknowledged
(WORKING reported) and order -> filled (FillReported) latency, median and p99, for
orders sent below TWS's pace; then a burst of alerts at once: how long until all are
filled, and the most messages that left in any one second (ib_async paces at 45).
Baseline: the same measurements with bare ib_async on the same fake in the same run,
so the ratios show what Station's broker adds. The fake runs on its own thread and
loop, as TWS is another process.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

CONNECTS = 15
ORDERS = 150
ORDER_GAP_S = 0.03  # ~33 orders a second: under the 45/s pace, so latency is the stack's own
BURST = 200


def run(options) -> dict:
    """Run every phase; figures in milliseconds unless named otherwise."""
    fake_tws = _load_fake()
    return asyncio.run(_main(fake_tws))


def _load_fake():
    tests = Path(__file__).resolve().parents[2] / "tests"
    if not (tests / "support" / "fake_tws").is_dir():
        raise SystemExit("station bench ib needs the source tree's tests/support/fake_tws "
                         "(it is not part of an installed app)")
    sys.path.insert(0, str(tests))
    from support import fake_tws

    return fake_tws


class FakeOnThread:
    """The fake TWS on its own thread and event loop."""

    def __init__(self, fake_tws) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="fake-tws", daemon=True)
        self.thread.start()
        self.tws = fake_tws.FakeTWS()
        self.port = self.call(self.tws.start())

    def call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def close(self) -> None:
        self.call(self.tws.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def _ms(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    return round(statistics.median(ordered) * 1000, 2), round(p99 * 1000, 2)


async def _main(fake_tws) -> dict:
    fake = FakeOnThread(fake_tws)
    try:
        raw_connect = await _raw_connects(fake.port)
        connect = await _broker_connects(fake.port)
        raw_ack, raw_fill = await _raw_orders(fake.port)
        raw_burst = await _raw_burst(fake.port)
        ack, fill, burst = await _broker_orders(fake.port)
    finally:
        fake.close()
    result = {"connect_ms_median": connect[0], "connect_ms_p99": connect[1],
              "baseline_connect_ms_median": raw_connect[0], "connect_ratio": _ratio(connect[0], raw_connect[0])}
    for name, ours, base in (("ack", ack, raw_ack), ("fill", fill, raw_fill)):
        result |= {f"{name}_ms_median": ours[0], f"{name}_ms_p99": ours[1],
                   f"baseline_{name}_ms_median": base[0], f"baseline_{name}_ms_p99": base[1],
                   f"{name}_ratio": _ratio(ours[0], base[0])}
    return result | burst | {"baseline_burst_max_messages_in_1s": raw_burst, "orders": ORDERS, "connects": CONNECTS}


def _ratio(ours: float, base: float) -> float:
    return round(ours / base, 2) if base else 0.0


async def _raw_connects(port: int) -> tuple[float, float]:
    import ib_async

    times = []
    for _ in range(CONNECTS):
        ib = ib_async.IB()
        started = time.perf_counter()
        await ib.connectAsync("127.0.0.1", port, clientId=90, timeout=5)
        times.append(time.perf_counter() - started)
        ib.disconnect()
        await asyncio.sleep(0.02)
    return _ms(times)


def _record_sends(ib) -> list[float]:
    """When each message leaves ib_async for the socket (what TWS counts against its limit)."""
    sends: list[float] = []
    conn = ib.client.conn
    original = conn.sendMsg
    conn.sendMsg = lambda msg: (sends.append(time.monotonic()), original(msg))[1]
    return sends


async def _raw_burst(port: int) -> int:
    """Bare ib_async given the whole burst at once: the most messages that left in one second."""
    import ib_async

    from station.brokers.ib.pacing import max_in_window

    ib = ib_async.IB()
    await ib.connectAsync("127.0.0.1", port, clientId=94, timeout=5)
    [contract] = await ib.qualifyContractsAsync(ib_async.Stock("AAPL", "SMART", "USD"))
    sends = _record_sends(ib)
    await asyncio.sleep(1.1)
    trades = [ib.placeOrder(contract, ib_async.MarketOrder("BUY", 1)) for _ in range(BURST)]
    await _until(lambda: all(t.fills for t in trades), timeout=60)
    ib.disconnect()
    return max_in_window(sends, 1.0)


def _broker(port: int, client_id: int):
    from station.brokers.ib.broker import IBBroker
    from station.brokers.ib.config import IBSettings
    from station.bus import Bus

    bus = Bus()
    bus.bind(asyncio.get_running_loop())
    return IBBroker("ib", IBSettings(port=port, client_id=client_id, reconnect_initial_s=0.05, reconnect_max_s=0.05), bus), bus


async def _until(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("bench ib: the fake TWS did not answer in time")
        await asyncio.sleep(0.0005)


async def _broker_connects(port: int) -> tuple[float, float]:
    from station.domain.enums import ConnectionState

    times = []
    for _ in range(CONNECTS):
        broker, _bus = _broker(port, 91)
        started = time.perf_counter()
        await broker.start()
        await _until(lambda: broker.state is ConnectionState.CONNECTED)
        times.append(time.perf_counter() - started)
        await broker.stop()
        await asyncio.sleep(0.02)
    return _ms(times)


async def _raw_orders(port: int) -> tuple[tuple, tuple]:
    import ib_async

    ib = ib_async.IB()
    await ib.connectAsync("127.0.0.1", port, clientId=92, timeout=5)
    [contract] = await ib.qualifyContractsAsync(ib_async.Stock("AAPL", "SMART", "USD"))
    acks, fills = [], []
    for index in range(ORDERS):
        started = time.perf_counter()
        trade = ib.placeOrder(contract, ib_async.MarketOrder("BUY", 1, orderRef=f"raw-{index}"))
        await _until(lambda: trade.orderStatus.status in ("PreSubmitted", "Submitted", "Filled"))
        acks.append(time.perf_counter() - started)
        await _until(lambda: bool(trade.fills))
        fills.append(time.perf_counter() - started)
        await asyncio.sleep(ORDER_GAP_S)
    ib.disconnect()
    return _ms(acks), _ms(fills)


async def _broker_orders(port: int) -> tuple[tuple, tuple, dict]:
    from station.brokers.ib.pacing import max_in_window
    from station.domain.enums import ConnectionState, OrderStatus, Side
    from station.domain.events import FillReported, OrderReported
    from station.domain.orders import OrderRequest

    broker, bus = _broker(port, 93)
    acked, filled = {}, {}
    bus.subscribe(OrderReported, lambda e: e.status is OrderStatus.WORKING
                  and acked.setdefault(e.client_order_id, time.perf_counter()))
    bus.subscribe(FillReported, lambda e: filled.setdefault(e.fill.client_order_id, time.perf_counter()))
    await broker.start()
    await _until(lambda: broker.state is ConnectionState.CONNECTED)

    def order(tag: str) -> OrderRequest:
        return OrderRequest(client_order_id=tag, destination="ib", ticker="AAPL", side=Side.BUY, qty=Decimal(1))

    await broker.submit(order("warm-up"))  # the contract lookup is not part of an order's latency
    await _until(lambda: "warm-up" in filled)
    started_at = {}
    for index in range(ORDERS):
        tag = f"s{index}"
        started_at[tag] = time.perf_counter()
        await broker.submit(order(tag))
        await _until(lambda: tag in filled)
        await asyncio.sleep(ORDER_GAP_S)
    ack = _ms([acked[t] - s for t, s in started_at.items()])
    fill = _ms([filled[t] - s for t, s in started_at.items()])

    sends = _record_sends(broker.link.ib)
    await asyncio.sleep(1.1)  # let the pacing window empty
    began = time.perf_counter()  # a burst of alerts: all arrive now, the oms hands each over in turn
    handed = {}
    for index in range(BURST):
        tag = f"b{index}"
        await broker.submit(order(tag))
        handed[tag] = time.perf_counter()  # the broker paced it and it went out
    await _until(lambda: all(t in filled for t in handed), timeout=60)
    elapsed = max(filled[t] for t in handed) - began
    await broker.stop()
    wire_ack = _ms([acked[t] - s for t, s in handed.items()])
    from_alert = _ms([filled[t] - began for t in handed])
    return ack, fill, {
        "burst_orders": BURST, "burst_all_filled_s": round(elapsed, 2), "burst_orders_per_s": round(BURST / elapsed, 1),
        "burst_max_messages_in_1s": max_in_window(sends, 1.0), "burst_pacer_wait_s": round(broker.pacer.waited_s, 2),
        "burst_ack_after_send_ms_median": wire_ack[0], "burst_ack_after_send_ms_p99": wire_ack[1],
        "burst_fill_from_alert_ms_median": from_alert[0], "burst_fill_from_alert_ms_p99": from_alert[1],
        "burst_fills_reported": sum(1 for t in handed if t in filled)}
