"""`station bench replay`: trades/s from a 1M-trade DBN file through decode → bar builders → bus.

The file (written to a temp dir: two futures over one Globex session, zstd like a
Databento download) is first only decoded, the limit any pipeline on it has; then
replayed as fast as possible through the same `DbnFile` → `BarHub` → `Bus` path as
live and `--demo`, building 1m (the default), 5m and 512t bars for both symbols,
with bus subscribers counting what they receive. Best of `REPEATS` runs each.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from station.bench._machine import load_average

TRADES = 1_000_000
REPEATS = 3
SYMBOLS = {"ESM5": 4916, "NQM5": 2786}
SESSION_OPEN = datetime(2025, 5, 14, 22, 0, tzinfo=timezone.utc)


def write_trades_file(directory: Path, trades: int | None = None) -> Path:
    """The benchmark file: `trades` (default `TRADES`) trades of two futures over one Globex session, zstd DBN v3."""
    from station.marketdata.databento.write import metadata_bytes, random_walk_trades, write_dbn

    trades = trades or TRADES
    records = random_walk_trades(trades, SYMBOLS, SESSION_OPEN, rate_per_s=trades / (23 * 3600 - 60))
    start = int(SESSION_OPEN.timestamp()) * 1_000_000_000
    header = metadata_bytes(SYMBOLS, start, start + 23 * 3600 * 1_000_000_000)
    return write_dbn(directory / "trades-1m.dbn.zst", header, records, zstd_level=3)


def _decode(path: Path) -> float:
    """CPU seconds to decode the whole file into record arrays (the limit of any replay of it)."""
    import databento

    started = time.process_time()
    count = 0
    for chunk in databento.DBNStore.from_file(path).to_ndarray(count=65_536):
        count += len(chunk)
    assert count == TRADES
    return time.process_time() - started


async def _pipeline(path: Path) -> dict:
    from station.bus import Bus
    from station.domain.events import BarUpdated, TickReceived
    from station.marketdata.databento.files import DbnFile
    from station.marketdata.hub import BarHub

    bus = Bus()
    seen = {"closed": 0, "forming": 0, "ticks": 0}
    bus.subscribe(BarUpdated, lambda e: seen.__setitem__("closed" if e.bar.closed else "forming",
                                                         seen["closed" if e.bar.closed else "forming"] + 1))
    bus.subscribe(TickReceived, lambda e: seen.__setitem__("ticks", seen["ticks"] + 1))
    hub = BarHub(bus, timeframes=("1m",))
    await hub.start()
    for symbol in SYMBOLS:
        hub.request(symbol, "5m", "bench")
        hub.request(symbol, "512t", "bench")
    started, started_cpu = time.perf_counter(), time.process_time()
    for batch in DbnFile(path).batches():
        hub.ingest(batch, now_ns=int(batch.ts[-1]))
        await asyncio.sleep(0)  # as the replay does: let the loop breathe between chunks
    elapsed, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    await hub.stop()
    return {"elapsed": elapsed, "cpu": cpu, "trades": hub.trades, **seen}


def run(options) -> dict:
    """Decode-only rate vs. the full replay path on the same file, in this run."""
    with tempfile.TemporaryDirectory(prefix="station-bench-replay-") as tmp:
        path = write_trades_file(Path(tmp))
        size_mb = path.stat().st_size / 1e6
        decodes = [(_timed(_decode, path), _decode(path)) for _ in range(REPEATS)]
        runs = [asyncio.run(_pipeline(path)) for _ in range(REPEATS)]
    best = min(runs, key=lambda r: r["elapsed"])
    pipeline_rate = best["trades"] / best["elapsed"]
    decode_rate = TRADES / min(wall for wall, _ in decodes)
    return {
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "load_average": load_average(),
        "file": f"{TRADES:,} trades, 2 symbols, one session, zstd DBN v3 ({size_mb:.1f} MB)",
        "decode_trades_per_s": round(decode_rate),
        "replay_trades_per_s": round(pipeline_rate),
        "replay_vs_decode": round(pipeline_rate / decode_rate, 3),
        "decode_trades_per_cpu_s": round(TRADES / min(cpu for _, cpu in decodes)),
        "replay_trades_per_cpu_s": round(best["trades"] / min(r["cpu"] for r in runs)),
        "target_trades_per_s": 2_000_000,
        "bars": "1m, 5m, 512t for each symbol",
        "bus_events": {"closed_bars": best["closed"], "forming_bars": best["forming"], "ticks": best["ticks"]},
        "runs_s": [round(r["elapsed"], 4) for r in runs],
    }


def _timed(fn, *args) -> float:
    started = time.perf_counter()
    fn(*args)
    return time.perf_counter() - started
