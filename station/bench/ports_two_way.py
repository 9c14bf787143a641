"""`station bench ports`, the two-way row: line written → ack read → order filled in Station's book.

A Station in this process routes journaled ES alerts at 100 per second to a NinjaTrader port;
the NinjaTrader add-on's core, compiled with Mono, listens there on a simulated account that
fills market orders at once (`addon_receiver`). From the moment each line is written to the
socket (its SUBMITTED report) it times the receiver's ack as read by the port, and the
order's `OrderFilled` (the fill applied to the book and committed). Skipped, saying why,
where Mono or a source checkout is missing.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _measure(folder: Path, count: int, rate: float) -> dict:
    import socket

    from station.app import Options, Station
    from station.bench.addon_receiver import AddonReceiver
    from station.brokers.ninjatrader.replies import AckReply
    from station.domain.alert import Alert
    from station.domain.enums import ConnectionState, OrderStatus, Side
    from station.domain.events import AlertReceived, OrderFilled, OrderReported
    from station.domain.timeutil import utc_now
    from station.secrets import MemoryBackend, SecretStore

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    receiver = await asyncio.to_thread(AddonReceiver(folder / "NinjaTrader", [port]).start)
    secrets = SecretStore(MemoryBackend())
    for secret in ("webhook-passphrase", "api-token"):  # set, so Station does not make (and announce) new ones
        secrets.set(secret, f"bench-{secret}-0123456789")
    station = Station(Options(data_dir=folder / "data", port=0), secrets)
    station.config.import_document({"strategies": {"Bench": {"tickers": {"ES": {"ports": [port]}}}}})
    name = f"port:{port}"
    written: dict[str, float] = {}
    acked: dict[str, float] = {}
    filled: dict[str, float] = {}

    def on_report(event: OrderReported) -> None:
        if event.destination == name and event.status is OrderStatus.SUBMITTED:
            written.setdefault(event.client_order_id, time.perf_counter())

    def on_reply(reply) -> None:
        if isinstance(reply, AckReply):
            acked.setdefault(reply.id, time.perf_counter())

    station.bus.subscribe(OrderReported, on_report)
    station.bus.subscribe(OrderFilled, lambda e: filled.setdefault(e.order.client_order_id, time.perf_counter()))
    try:
        await station.start()
        broker = station.dispatcher.brokers[name]
        broker.reply_listener = on_reply
        while name not in station.dispatcher.ready or broker.state is not ConnectionState.CONNECTED:
            await asyncio.sleep(0.01)

        def insert(conn):
            return conn.execute("INSERT INTO alerts (ticker, action, qty, price, source, fingerprint, raw, "
                                "received_at) VALUES ('ES', 'buy', '1', '5000', 'bench', 'f', '{}', ?)",
                                (utc_now().isoformat(),)).lastrowid

        start = time.perf_counter()
        for i in range(count):
            await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
            alert_id = await station.store.writer.run(insert)
            station.bus.publish(AlertReceived(Alert("ES", Side.BUY, utc_now(), Decimal(1), Decimal(5000),
                                                    alert_id=alert_id, strategy="Bench")))
        deadline = time.monotonic() + 60
        while len(filled) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
    finally:
        await station.stop()
        await asyncio.to_thread(receiver.stop)
    ids = [cid for cid in written if cid in acked and cid in filled]
    ack = [(acked[cid] - written[cid]) * 1e6 for cid in ids]
    fill = [(filled[cid] - written[cid]) * 1e6 for cid in ids]
    return {
        "two_way": f"{count} lines at {rate:g}/s to the add-on's core under Mono (simulated account)",
        "two_way_written_to_ack_p50_us": round(statistics.median(ack)),
        "two_way_written_to_ack_p99_us": round(_pct(ack, 0.99)),
        "two_way_written_to_filled_p50_us": round(statistics.median(fill)),
        "two_way_written_to_filled_p99_us": round(_pct(fill, 0.99)),
        "two_way_lost": count - len(ids),
    }


def measure(count: int = 300, rate: float = 100) -> dict:
    """The two-way figures, or a `two_way` note saying why they were skipped."""
    from station.bench import addon_receiver

    why = addon_receiver.unavailable()
    if why is not None:
        return {"two_way": f"skipped: {why}"}
    with tempfile.TemporaryDirectory(prefix="station-bench-ports-") as folder:
        return asyncio.run(_measure(Path(folder), count, rate))
