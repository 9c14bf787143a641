"""`station bench backtest`: a backtest's speed beside `station bench engine`'s, sweeps on 1 and 2 processes and
Dask, and the memory of one run over 10M trades.

- One run: the crossover (EMA 9 × SMA 21) on 1m bars of ESM5 with its protective stop (`stop_points`), over
  `station bench engine`'s 1M-trade file, through the whole live pipeline (oms, dispatcher, paper broker),
  trades/s of the whole run (set-up and metrics included) beside the engine bench's replay of the same file in
  this same run, best of `REPEATS` each; target ≥ 0.6 of it.
- 16 parameter sets (line periods) over that file with `--workers 1`, `--workers 2` (alternated, best of
  `SWEEP_REPEATS` each) and a 2-worker Dask `LocalCluster`: wall times, the speed-up of 2 workers (target ≥ 1.7
  on 2 cores), and the per-task overhead of Dask against the local pool.
- Peak memory (max RSS of a fresh process) of one run over a 10M-trade file written for it; target ≤ 500 MB.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import resource
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from station.bench._machine import load_average

TRADES = 1_000_000
BIG_TRADES = 10_000_000
REPEATS = 5
SWEEP_REPEATS = 2
SWEEP = [{"line1.period": fast, "line2.period": slow} for fast in (5, 7, 9, 12) for slow in (18, 21, 26, 34)]
ENGINE = {"kind": "crossover", "timeframe": "1m", "line1": {"type": "ema", "period": 9},
          "line2": {"type": "sma", "period": 21}, "stop_points": 8}
TARGET_RATIO, TARGET_SPEEDUP, TARGET_MB = 0.6, 1.7, 500


def _spec(path: Path):
    from station.research.run import BacktestSpec

    ticker = {"ports": [], "destinations": {"backtest": {"qty": 1}}}
    document = {"destinations": {"backtest": {"type": "paper"}},
                "strategies": {"Cross": {"engine": ENGINE, "tickers": {"ESM5": ticker}}}}
    return BacktestSpec("Cross", document, str(path), commission=2.0, slippage_ticks=1)


def _timed_backtest(spec) -> tuple[float, int, float]:
    """(wall time of the whole run, fills, wall time of the replay through the running pipeline alone)."""
    from station.research.run import run_backtest

    started = time.perf_counter()
    result = run_backtest(spec)
    return time.perf_counter() - started, len(result.records), result.feed_s


def _sweeps(spec) -> dict:
    from station.research.executors import run_dask, run_local

    specs = [spec.with_params(combo) for combo in SWEEP]
    times = {}
    rows = {}
    runs: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(SWEEP_REPEATS):  # alternated, best of each: a moment of the machine's noise hits one run only
        for workers in (1, 2):
            started = time.perf_counter()
            rows[workers] = run_local(specs, workers)
            runs[workers].append(round(time.perf_counter() - started, 3))
    for workers, seconds in runs.items():
        times[f"workers_{workers}_s"] = min(seconds)
        times[f"workers_{workers}_runs_s"] = seconds
    try:
        from distributed import LocalCluster
    except ImportError:
        times["dask_s"] = None
        return times
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        from distributed import Client

        with Client(cluster.scheduler_address) as client:  # workers import Station once, as a forked pool has it
            client.run(_warm)
        started = time.perf_counter()
        dask_rows = run_dask(specs, cluster.scheduler_address)
        times["dask_2_workers_s"] = round(time.perf_counter() - started, 3)
    times["speedup_2_workers"] = round(times["workers_1_s"] / times["workers_2_s"], 3)
    times["dask_overhead_per_task_ms"] = round((times["dask_2_workers_s"] - times["workers_2_s"]) / len(specs) * 1000, 1)
    times["rows_equal"] = rows[1] == rows[2] == dask_rows
    return times


def _warm() -> None:
    import station.research.tasks  # noqa: F401 - the import a worker's first task would otherwise pay


def write_big_file(path: Path, trades: int, chunk: int = 1_000_000) -> Path:
    """`trades` trades of ESM5 and NQM5 over one session, zstd DBN, written chunk by chunk (little memory)."""
    import zstandard

    from station.bench.replay import SESSION_OPEN, SYMBOLS
    from station.marketdata.databento.write import metadata_bytes, random_walk_trades

    start = int(SESSION_OPEN.timestamp()) * 1_000_000_000
    span = 23 * 3600 * 1_000_000_000
    with path.open("wb") as raw, zstandard.ZstdCompressor(level=1).stream_writer(raw) as out:
        out.write(metadata_bytes(SYMBOLS, start, start + span))
        last_price = None
        for index, first in enumerate(range(0, trades, chunk)):
            n = min(chunk, trades - first)
            offset = datetime.fromtimestamp((start + span * first // trades) // 1_000_000_000, timezone.utc)
            records = random_walk_trades(n, SYMBOLS, offset, rate_per_s=trades / (23 * 3600 - 60), seed=index + 1)
            if last_price is not None:  # the walk goes on where the last chunk ended
                records["price"] += last_price - records["price"][0]
            last_price = int(records["price"][-1])
            out.write(records.tobytes())
            del records
    return path


def _peak_child(path: str) -> dict:
    elapsed, fills, _ = _timed_backtest(_spec(Path(path)))
    return {"peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1), "s": round(elapsed, 2),
            "fills": fills}


def _memory(directory: Path) -> dict:
    path = write_big_file(directory / "trades-10m.dbn.zst", BIG_TRADES)
    with multiprocessing.get_context("spawn").Pool(1) as pool:  # a fresh process: its peak is the run's own
        result = pool.apply(_peak_child, (str(path),))
    return {"trades": BIG_TRADES, "peak_rss_mb": result["peak_mb"], "run_s": result["s"], "fills": result["fills"],
            "target_mb": TARGET_MB}


def run(options) -> dict:
    """The figures (see the module docstring); nothing is asserted."""
    from station.bench.engine import _replay
    from station.bench.replay import SYMBOLS, write_trades_file

    with tempfile.TemporaryDirectory(prefix="station-bench-backtest-") as tmp:
        path = write_trades_file(Path(tmp), TRADES)
        spec = _spec(path)
        engine = [asyncio.run(_replay(path, list(SYMBOLS), engine=True)) for _ in range(REPEATS)]
        runs = [_timed_backtest(spec) for _ in range(REPEATS)]
        best_engine = min(r["elapsed"] for r in engine)
        best = min(elapsed for elapsed, _, _ in runs)
        best_feed = min(feed for _, _, feed in runs)
        sweeps = _sweeps(spec)
        memory = _memory(Path(tmp)) if BIG_TRADES else None
    engine_rate, rate, feed_rate = TRADES / best_engine, TRADES / best, TRADES / best_feed
    return {
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "load_average": load_average(),
        "file": f"{TRADES:,} trades of ESM5 and NQM5 over one Globex session (station bench engine's file)",
        "backtest": "crossover EMA 9 x SMA 21 on 1m bars of ESM5, stop 8 points, through oms, dispatcher and paper",
        "engine_ticks_per_s": round(engine_rate),
        # the same scope as bench engine's figure: the file replayed through parts already started
        "backtest_ticks_per_s": round(feed_rate),
        "backtest_vs_engine": round(feed_rate / engine_rate, 3),
        # the whole run: building the pipeline, the replay, stopping it, round trips and metrics
        "backtest_whole_run_ticks_per_s": round(rate),
        "backtest_whole_run_vs_engine": round(rate / engine_rate, 3),
        "target_vs_engine": TARGET_RATIO,
        "backtest_fills": runs[0][1],
        "runs_s": {"engine": [round(r["elapsed"], 4) for r in engine],
                   "backtest_replay": [round(f, 4) for _, _, f in runs],
                   "backtest_whole_run": [round(e, 4) for e, _, _ in runs]},
        "sweep_16": {**sweeps, "target_speedup": TARGET_SPEEDUP},
        "memory_10m": memory,
    }
