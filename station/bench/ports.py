"""`station bench ports`: an order handed to a NinjaTrader port -> its line read by a loopback strategy.

One way. Paced: 300 orders at 100 per second, latency from `submit` to the line's
arrival at a `LoopbackNinjaTrader`. Burst: 5,000 orders handed over at once, lines per
second until the last arrives. Baseline, in the same run: the same bytes written by a
bare asyncio socket writer to a second loopback listener (what the port costs on top).

Two way (`ports_two_way`): 300 alerts at 100 per second through a Station to the
NinjaTrader add-on's core under Mono: line written → ack read → order filled in the book.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import datetime, timezone
from decimal import Decimal

from station.brokers.ninjatrader.loopback import LoopbackNinjaTrader
from station.brokers.ninjatrader.parsing import port_line
from station.brokers.ninjatrader.tcp import TcpPortBroker
from station.bus import Bus
from station.domain.alert import Alert
from station.domain.enums import ConnectionState, Side
from station.domain.orders import OrderRequest

RATE = 100
PACED = 300
BURST = 5000


def _request(n: int, port: int) -> OrderRequest:
    alert = Alert(ticker="AAPL", action=Side.BUY, received_at=datetime.now(timezone.utc), qty=Decimal(10),
                  price=Decimal("150.25"), alert_id=n, trade_id=f"Open_Long_ID_{n}", position="short")
    return OrderRequest(client_order_id=f"a{n}-Bench-port_{port}", destination=f"port:{port}", ticker="AAPL",
                        side=Side.BUY, qty=Decimal(10), strategy="Bench", alert_id=n, alert=alert)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _paced(send, listener: LoopbackNinjaTrader, first: int, port: int) -> list[float]:
    sent: dict[str, float] = {}
    start = time.perf_counter()
    for i in range(PACED):
        request = _request(first + i, port)
        await asyncio.sleep(max(0.0, start + i / RATE - time.perf_counter()))
        sent[request.client_order_id] = time.perf_counter()
        await send(request)
    await listener.wait_for(PACED, timeout=30)
    return [(listener.received_at[cid] - t) * 1e6 for cid, t in sent.items()]


async def _burst(send, listener: LoopbackNinjaTrader, first: int, port: int) -> float:
    requests = [_request(first + i, port) for i in range(BURST)]
    start = time.perf_counter()
    for request in requests:
        await send(request)
    await listener.wait_for(PACED + BURST, timeout=60)
    return BURST / (time.perf_counter() - start)


async def _measure() -> dict:
    ours, bare = LoopbackNinjaTrader(), LoopbackNinjaTrader()
    await ours.start()
    await bare.start()
    broker = TcpPortBroker(ours.port, Bus())
    await broker.start()
    _, writer = await asyncio.open_connection("127.0.0.1", bare.port)

    async def raw(request: OrderRequest) -> None:
        writer.write(port_line(request))
        await writer.drain()

    try:
        while broker.state is not ConnectionState.CONNECTED:
            await asyncio.sleep(0.01)
        base = await _paced(raw, bare, 0, bare.port)
        port = await _paced(broker.submit, ours, 0, ours.port)
        base_rate = await _burst(raw, bare, PACED, bare.port)
        port_rate = await _burst(broker.submit, ours, PACED, ours.port)
    finally:
        writer.close()
        await broker.stop()
        await ours.stop()
        await bare.stop()
    return {
        "description": "order handed to a NinjaTrader port -> line read by a loopback strategy",
        "paced": f"{PACED} lines at {RATE}/s",
        "p50_us": round(statistics.median(port)),
        "p99_us": round(_pct(port, 0.99)),
        "baseline_p50_us": round(statistics.median(base)),
        "baseline_p99_us": round(_pct(base, 0.99)),
        "p99_vs_baseline": round(_pct(port, 0.99) / _pct(base, 0.99), 2),
        "burst_lines": BURST,
        "burst_lines_per_s": round(port_rate),
        "baseline_burst_lines_per_s": round(base_rate),
        "burst_vs_baseline": round(port_rate / base_rate, 2),
        "lost": PACED + BURST - len(ours.lines),
        "duplicates": len(ours.duplicates),
    }


def run(options) -> dict:
    """Measure the port path one way against a bare socket writer, then two way against the add-on's core (options
    are not used)."""
    from station.bench import ports_two_way

    one_way = asyncio.run(_measure())
    return {**one_way, **ports_two_way.measure(PACED, RATE)}
