"""`station bench brackets`: an alert with a stop and a target → its entry and both exits live at paper, against a
plain entry in the same run; and the cost of one price tick through the exit manager by how many exits it works.

- latency (one process, no network, the core as `station --headless` builds it): a journaled alert to its
  entry filled (plain, recorded) or to its entry filled and both exits live at the paper broker (bracket: the
  fill, the arming write, the two OCO orders sent and acknowledged by the broker: `bracket_live_…`), p50/p99,
  the two kinds alternating at 100 alerts/s; the ratio of the bracket's p99 to the plain entry's (target: at
  most 1.5). `bracket_…` goes one step further, to both exits recorded as working in Station's book (a commit
  that can only follow the broker's acknowledgement);
- tick cost: one price through `Marks` into the exit manager with 10, 100, 1,000 and 10,000 exits worked on
  Station's prices (stops and targets around the market, none reached), ns per tick (target: at most 1 ms
  at 1,000). Levels sit in two heaps per symbol, so a tick that reaches nothing costs two comparisons
  whatever the count (O(1)); each exit reached costs O(log n). Trailing stops are measured too: each tick
  looks at every trailing stop of its symbol (O(t)).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from station.bench._machine import load_average

SIZES = {"alerts": 600, "ticks": 20_000, "counts": (10, 100, 1_000, 10_000)}
QUICK = {"alerts": 60, "ticks": 2_000, "counts": (10, 100, 1_000)}  # STATION_BENCH_QUICK=1 (the test suite)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _latency(data_dir: Path, count: int) -> dict:
    from station.app import Options, Station
    from station.domain.alert import Alert
    from station.domain.enums import OrderStatus, Side
    from station.domain.events import AlertReceived, OrderReported, OrderUpdated, TickReceived
    from station.domain.instructions import ExitLevel, Offset, OrderInstructions
    from station.domain.marketdata import Tick
    from station.domain.timeutil import utc_now
    from station.secrets import MemoryBackend, SecretStore

    station = Station(Options(data_dir=data_dir, port=0), SecretStore(MemoryBackend()))
    station.config.import_document({"destinations": {"paper": {"type": "paper"}},
                                    "strategies": {"Bench": {"tickers": {"ES": {"destinations": {"paper": {}}}}}}})
    await station.start()
    station.bus.publish(TickReceived(Tick("ES", utc_now(), 5000.0)))
    bracket = OrderInstructions(stop_loss=ExitLevel(offset=Offset("ticks", Decimal(40))),
                                take_profit=ExitLevel(offset=Offset("ticks", Decimal(40))))
    sent: dict[int, float] = {}
    kind: dict[int, str] = {}
    done: dict[int, float] = {}
    working: dict[int, int] = {}

    filled: dict[int, float] = {}  # the entry's fill recorded
    live: dict[int, float] = {}  # both exits acknowledged by the paper broker: live there
    acked: dict[int, int] = {}

    def on_update(event: OrderUpdated) -> None:
        order = event.order
        alert_id = order.request.alert_id
        if alert_id not in sent or alert_id in done:
            return
        if not order.request.protective and order.status is OrderStatus.FILLED:
            filled[alert_id] = time.perf_counter()
            if kind[alert_id] == "plain":
                done[alert_id] = filled[alert_id]
        elif order.request.protective and order.status is OrderStatus.WORKING:
            working[alert_id] = working.get(alert_id, 0) + 1
            if working[alert_id] == 2:
                done[alert_id] = time.perf_counter()

    def on_report(event: OrderReported) -> None:
        order = station.oms.book.orders.get(event.client_order_id)
        if order is None or not order.request.protective or event.status is not OrderStatus.WORKING:
            return
        alert_id = order.request.alert_id
        acked[alert_id] = acked.get(alert_id, 0) + 1
        if acked[alert_id] == 2:
            live[alert_id] = time.perf_counter()

    station.bus.subscribe(OrderUpdated, on_update)
    station.bus.subscribe(OrderReported, on_report)

    def insert(conn):
        return conn.execute("INSERT INTO alerts (ticker, action, qty, price, source, fingerprint, raw, received_at) "
                            "VALUES ('ES', 'buy', '1', '5000', 'bench', 'f', '{}', ?)", (utc_now().isoformat(),)).lastrowid

    ids = []
    for index in range(count):
        alert_id = await station.store.writer.run(insert)
        kind[alert_id] = "bracket" if index % 2 else "plain"
        sent[alert_id] = time.perf_counter()
        station.bus.publish(AlertReceived(Alert("ES", Side.BUY, utc_now(), Decimal(1), Decimal(5000), alert_id=alert_id,
                                                instructions=bracket if kind[alert_id] == "bracket" else None)))
        ids.append(alert_id)
        await asyncio.sleep(0.01)
    deadline = time.perf_counter() + 30
    while len([i for i in ids if i in done]) < len(ids) and time.perf_counter() < deadline:
        await asyncio.sleep(0.01)
    orders = station.store.query("SELECT COUNT(*) AS n FROM orders")[0]["n"]
    await station.stop()
    by_kind = {name: [(done[i] - sent[i]) * 1000 for i in ids if kind[i] == name and i in done]
               for name in ("plain", "bracket")}
    result = {}
    for name, values in by_kind.items():
        result[f"{name}_p50_ms"] = round(statistics.median(values), 3)
        result[f"{name}_p99_ms"] = round(_pct(values, 0.99), 3)
    # the measure: the entry filled (recorded) and both exits live at the paper broker (acknowledged there)
    brackets = [i for i in ids if kind[i] == "bracket" and i in live and i in filled]
    live_ms = [(max(live[i], filled[i]) - sent[i]) * 1000 for i in brackets]
    result["bracket_live_p50_ms"] = round(statistics.median(live_ms), 3)
    result["bracket_live_p99_ms"] = round(_pct(live_ms, 0.99), 3)
    result["ratio_bracket_live_p99_vs_plain_p99"] = round(result["bracket_live_p99_ms"] / result["plain_p99_ms"], 2)
    # and until Station has recorded both exits as working (one more commit, after the broker's acknowledgement)
    result["ratio_bracket_p99_vs_plain_p99"] = round(result["bracket_p99_ms"] / result["plain_p99_ms"], 2)
    result["alerts_per_s"] = 100
    result["alerts"] = count
    result["unfinished"] = len(ids) - len(done)
    result["orders"] = orders
    return result


def _tick_cost(count: int, ticks: int, *, trailing: bool = False) -> float:
    """ns per price through Marks into the exit manager with `count` exits worked on Station's prices."""
    from types import SimpleNamespace

    from station.bus import Bus
    from station.domain.enums import OrderRole, OrderStatus, OrderType, Side
    from station.domain.instructions import Offset
    from station.domain.orders import Order, OrderRequest
    from station.oms.book import Book, OrderMeta
    from station.oms.destinations import DestinationCapabilities
    from station.oms.exits.manager import ExitManager

    book = Book()
    manager = ExitManager(Bus(), book, SimpleNamespace(recorder=None), DestinationCapabilities(), None)
    book.marks.listeners.append(manager.on_price)
    for index in range(count):
        entry_id = f"e{index}"
        if trailing:
            role, kind, price = OrderRole.TRAILING_STOP, OrderType.TRAILING_STOP, Decimal(4900)
        elif index % 2:
            role, kind, price = OrderRole.STOP_LOSS, OrderType.STOP, Decimal(4900) - index % 50
        else:
            role, kind, price = OrderRole.TAKE_PROFIT, OrderType.LIMIT, Decimal(5100) + index % 50
        request = OrderRequest(f"{entry_id}-x", "emu", "ES", Side.SELL, Decimal(1), kind,
                               limit_price=price if kind is OrderType.LIMIT else None,
                               stop_price=None if kind is OrderType.LIMIT else price, role=role, parent_id=entry_id,
                               oco_group=f"{entry_id}-oco", offset=Offset("points", Decimal(100)) if trailing else None,
                               tick_size=Decimal("0.25"), price_hint=Decimal(5000))
        order = Order(request, status=OrderStatus.WORKING)
        book.add_order(order, OrderMeta("bench"), "station")
        manager._watch(order, None)
    path = [5000 + (i % 200 - 100) / 4 for i in range(ticks)]  # 4975..5024.75: reaches none of them
    started = time.perf_counter_ns()
    for price in path:
        book.marks.set_feed("ES", price)
    return (time.perf_counter_ns() - started) / ticks


def run(options) -> dict:
    """Bracket vs plain entry latency at paper, and the exit manager's cost per tick by exits worked."""
    sizes = QUICK if os.environ.get("STATION_BENCH_QUICK") else SIZES
    base = Path(options.data_dir)
    base.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-brackets-", dir=base, ignore_cleanup_errors=True) as folder:
        latency = asyncio.run(_latency(Path(folder), sizes["alerts"]))
    baseline = _tick_cost(0, sizes["ticks"])
    per_tick = {f"tick_ns_at_{n}_exits": round(_tick_cost(n, sizes["ticks"])) for n in sizes["counts"]}
    trailing = {f"tick_ns_at_{n}_trailing_stops": round(_tick_cost(n, sizes["ticks"], trailing=True))
                for n in sizes["counts"] if n <= 1_000}
    return {"description": "alert -> entry + both exits working at paper vs a plain entry filled (100 alerts/s, "
                           "alternating); one price tick through Marks and the exit manager by exits worked",
            **latency, "tick_ns_no_exits": round(baseline), **per_tick, **trailing,
            "growth": "fixed stops and targets: O(1) per tick (two heap tops), O(log n) per exit reached; "
                      "trailing stops: O(t) per tick for t at that symbol",
            "target": "bracket live p99 <= 1.5 x plain p99; <= 1,000,000 ns per tick at 1,000 exits",
            "load_average": load_average()}
