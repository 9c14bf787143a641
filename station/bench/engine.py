"""`station bench engine`: 1M trades through the whole tick → bar → signal path, beside the bare replay.

The file (written to a temp dir as `station bench replay` writes it: two futures over one Globex
session, zstd DBN) is replayed as fast as possible by the real `DbnReplay` into the `BarHub`,
building 1m and 512t bars of both symbols. The bare run stops there (its bars reach no one); the
engine run adds the `StrategyRunner` with a trend-line crossover and a Supertrend on each of those
series of each symbol, their signals leaving as `RecordSignal` commands. Both runs take the same
file in the same process, best of `REPEATS` each; ticks/s is trades replayed per second of the run.
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
TIMEFRAMES = ("1m", "512t")
LINES = {"line1": {"type": "ema", "period": 9}, "line2": {"type": "sma", "period": 21}}
ENGINES = {
    "crossover": {"kind": "crossover", **LINES},
    "supertrend": {"kind": "supertrend", "atr_period": 10, "multiplier": 3.0, "confirm_bars": 3},
}
TARGET = 1_000_000


def _config(symbols):
    from station.domain.config import RoutingConfig, StrategyConfig, TickerConfig

    return RoutingConfig(revision=1, strategies=tuple(
        StrategyConfig(f"{kind} {timeframe}", tickers=tuple(TickerConfig(s) for s in symbols),
                       options={"engine": {**params, "timeframe": timeframe, "qty": 1}})
        for kind, params in ENGINES.items() for timeframe in TIMEFRAMES))


async def _replay(path: Path, symbols, engine: bool) -> dict:
    """One replay of the file at full speed; with `engine`, through the strategies too."""
    from station.bus import Bus
    from station.domain.commands import RecordSignal
    from station.engine.runner import StrategyRunner
    from station.marketdata.hub import BarHub
    from station.marketdata.replay import DbnReplay

    bus = Bus()
    hub = BarHub(bus, timeframes=("1m",))
    replay = DbnReplay(bus, hub)
    signals: list = []
    bus.subscribe(RecordSignal, signals.append)
    parts: list = [hub, replay]
    if engine:
        config = _config(symbols)
        runner = StrategyRunner(bus, lambda: config, clock_interval_s=3600)
        parts.append(runner)
    for part in parts:
        await part.start()
    if engine:
        await runner.ready()
        for strategy in config.strategies:
            assert await runner.start_strategy(strategy.name), strategy.name  # asks the hub for its bars
    else:
        for symbol in symbols:
            hub.request(symbol, "512t", "bench")
    started, started_cpu = time.perf_counter(), time.process_time()
    replay.play(path, speed=0)
    await replay.finished.wait()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    for part in reversed(parts):
        await part.stop()
    bars = {tf: sum(len(hub.series[(s, tf)].store) for s in symbols) for tf in TIMEFRAMES}
    return {"elapsed": elapsed, "cpu": cpu, "trades": replay.replayed, "signals": len(signals), "bars": bars}


def run(options) -> dict:
    """Ticks/s through the engine vs the bare replay of the same file, in this run."""
    from station.bench.replay import SYMBOLS, write_trades_file

    with tempfile.TemporaryDirectory(prefix="station-bench-engine-") as tmp:
        path = write_trades_file(Path(tmp), TRADES)
        size_mb = path.stat().st_size / 1e6
        bare = [asyncio.run(_replay(path, list(SYMBOLS), engine=False)) for _ in range(REPEATS)]
        full = [asyncio.run(_replay(path, list(SYMBOLS), engine=True)) for _ in range(REPEATS)]
    best_bare, best = (min(runs, key=lambda r: r["elapsed"]) for runs in (bare, full))
    bare_rate, rate = best_bare["trades"] / best_bare["elapsed"], best["trades"] / best["elapsed"]
    return {
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "load_average": load_average(),
        "file": f"{best['trades']:,} trades, {len(SYMBOLS)} symbols, one session, zstd DBN v3 ({size_mb:.1f} MB)",
        "strategies": f"crossover (EMA 9 x SMA 21) and Supertrend (10, 3) on {' and '.join(TIMEFRAMES)} bars "
                      f"of each symbol: {len(ENGINES) * len(TIMEFRAMES) * len(SYMBOLS)} instances",
        "bare_replay_ticks_per_s": round(bare_rate),
        "engine_ticks_per_s": round(rate),
        "engine_vs_bare": round(rate / bare_rate, 3),
        "bare_replay_ticks_per_cpu_s": round(best_bare["trades"] / min(r["cpu"] for r in bare)),
        "engine_ticks_per_cpu_s": round(best["trades"] / min(r["cpu"] for r in full)),
        "target_ticks_per_s": TARGET,
        "closed_bars": best["bars"],
        "signals": best["signals"],
        "runs_s": {"bare": [round(r["elapsed"], 4) for r in bare], "engine": [round(r["elapsed"], 4) for r in full]},
    }
