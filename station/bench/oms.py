"""`station bench oms`: journaled alert → routed → paper fill committed, latency at 100 alerts/s and burst rate.

The baseline is the journal's own commit (one writer round trip) measured in the
same run, so the ratio says what routing, the risk check, the order rows and the
paper fill add on this machine.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _measure(data_dir: Path, paced: int, burst: int) -> dict:
    from station.app import Options, Station
    from station.domain.events import AlertReceived, OrderFilled
    from station.secrets import MemoryBackend, SecretStore

    station = Station(Options(data_dir=data_dir, port=0), SecretStore(MemoryBackend()))
    station.config.import_document({"destinations": {"paper": {"type": "paper"}},
                                    "strategies": {"Bench": {"tickers": {"ES": {"destinations": {"paper": {}}}}}}})
    await station.start()
    from station.domain.alert import Alert
    from station.domain.enums import Side
    from station.domain.timeutil import utc_now
    from decimal import Decimal

    sent: dict[int, float] = {}
    filled: dict[int, float] = {}
    station.bus.subscribe(OrderFilled, lambda e: filled.setdefault(e.order.request.alert_id, time.perf_counter()))

    def insert(conn):
        return conn.execute("INSERT INTO alerts (ticker, action, qty, price, source, fingerprint, raw, received_at) "
                            "VALUES ('ES', 'buy', '1', '5000', 'bench', 'f', '{}', ?)", (utc_now().isoformat(),)).lastrowid

    async def one() -> int:
        alert_id = await station.store.writer.run(insert)
        sent[alert_id] = time.perf_counter()
        station.bus.publish(AlertReceived(Alert("ES", Side.BUY, utc_now(), Decimal(1), Decimal(5000), alert_id=alert_id)))
        return alert_id

    journal = []
    for _ in range(100):  # baseline: the journal commit alone
        start = time.perf_counter()
        await station.store.writer.run(insert)
        journal.append((time.perf_counter() - start) * 1000)
    station.store.writer.call(lambda conn: conn.execute("UPDATE alerts SET status = 'rejected'"))

    ids = []
    for _ in range(paced):
        ids.append(await one())
        await asyncio.sleep(0.01)
    while len([i for i in ids if i in filled]) < len(ids):
        await asyncio.sleep(0.01)
    latency = [(filled[i] - sent[i]) * 1000 for i in ids]

    start = time.perf_counter()
    burst_ids = await asyncio.gather(*(one() for _ in range(burst)))
    while len([i for i in burst_ids if i in filled]) < burst:
        await asyncio.sleep(0.005)
    rate = burst / (time.perf_counter() - start)
    orders = station.store.query("SELECT COUNT(*) AS n FROM orders")[0]["n"]
    await station.stop()
    return {"journal_commit_p50_ms": round(statistics.median(journal), 3),
            "route_to_fill_p50_ms": round(statistics.median(latency), 3),
            "route_to_fill_p99_ms": round(_pct(latency, 0.99), 3),
            "ratio_p50_vs_journal_commit": round(statistics.median(latency) / statistics.median(journal), 2),
            "paced_alerts": paced, "burst_alerts": burst, "burst_alerts_per_s": round(rate, 1),
            "orders": orders, "duplicates": orders - paced - burst}


def run(options) -> dict:
    """Alert → paper fill at 100 alerts/s (p50/p99) and the rate of a burst, against the journal commit."""
    with tempfile.TemporaryDirectory() as tmp:
        result = asyncio.run(_measure(Path(tmp), paced=300, burst=2000))
    return {"description": "journaled alert -> routed -> paper fill committed (one process, no network)", **result}
