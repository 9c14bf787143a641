"""One backtest: a strategy's engine with some parameters over a file, through the live pipeline, into metrics.

`run_backtest(spec)` is what every executor runs (in this process, a local worker process or a Dask
worker): it builds the pipeline on a throwaway store, runs it on the file's market time
(`domain.timeutil.market_clock`), then turns the paper broker's fills into round trips, the equity
curve and the summary with `analysis/metrics.py` — money by `domain/contracts.py`'s point values,
slippage in ticks against the trader on what fills at a trade's price, commission per contract
on every fill.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import asyncio
from decimal import Decimal
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from station.analysis import metrics
from station.analysis.ticks import TickSizes
from station.domain.contracts import point_value
from station.domain.timeutil import market_clock
from station.marketdata.databento.files import DbnFile
from station.marketdata.trades import ns_to_datetime
from station.research import params as parameters
from station.research.contracts import ContractRolls
from station.research.feed import NO_END, HistoryFeed
from station.research.pipeline import BacktestPipeline, settle

MONEY = ("net_pnl", "gross_profit", "gross_loss", "avg_win", "avg_loss", "expectancy", "max_drawdown", "commission")


@dataclass(frozen=True)
class BacktestSpec:
    """Everything one run needs; picklable, so a worker process or a Dask worker can take it."""

    strategy: str
    document: dict[str, Any]  # the backtest's config (`research/config.py`), before `params`
    data: str
    params: dict[str, Any] = field(default_factory=dict)
    start_ns: int = 0
    end_ns: int = NO_END
    commission: float = 0.0  # money per contract, per fill
    slippage_ticks: float = 0.0
    split: float | None = None  # the in-sample share of the period, by entry time

    def with_params(self, overrides: dict[str, Any]) -> "BacktestSpec":
        return BacktestSpec(self.strategy, self.document, self.data, {**self.params, **overrides}, self.start_ns,
                            self.end_ns, self.commission, self.slippage_ticks, self.split)


@dataclass
class BacktestResult:
    """The round trips, the equity curve, the summary (and its in-sample and out-of-sample halves)."""

    trips: pd.DataFrame
    equity: pd.DataFrame
    summary: dict[str, Any]
    fills: pd.DataFrame  # as the metrics read them: slippage and commission applied
    first_ns: int
    last_ns: int
    records: list = field(default_factory=list)  # the paper broker's fills as it made them (`FillRecord`)
    feed_s: float = 0.0  # wall time of feeding the file through the running pipeline (set-up and metrics aside)


def engine_document(spec: BacktestSpec) -> dict[str, Any]:
    """The spec's config document with its parameters applied to the strategy's engine (checked)."""
    strategies = dict(spec.document["strategies"])
    strategy = dict(strategies[spec.strategy])
    strategy["engine"] = parameters.apply(strategy["engine"], spec.params)
    strategies[spec.strategy] = strategy
    return {**spec.document, "strategies": strategies}


def run_backtest(spec: BacktestSpec, *, cancelled: Callable[[], bool] = lambda: False,
                 progress: Callable[[float], None] | None = None) -> BacktestResult:
    """Run `spec` in this process (its own event loop and temporary store) and measure it."""
    document = engine_document(spec)
    with tempfile.TemporaryDirectory(prefix="station-backtest-", dir=_fast_tmp()) as folder:
        fills, first_ns, last_ns, feed_s, rolls = asyncio.run(_play(spec, document, Path(folder), cancelled, progress))
    result = measure(spec, document, fills, first_ns, last_ns)
    result.feed_s = feed_s
    if rolls:  # the file's contracts this run traded as its tickers (`research/contracts.py`)
        result.summary["contracts"] = rolls.summary()
    return result


async def _play(spec: BacktestSpec, document: dict, folder: Path, cancelled, progress):
    start = max(spec.start_ns, DbnFile(spec.data).start_ns)
    now = {"ns": start}
    clock = lambda: ns_to_datetime(now["ns"])  # noqa: E731
    with market_clock(clock):
        pipeline = BacktestPipeline(document, spec.strategy, folder, clock)
        await pipeline.start()
        # slippage is the simulator's own rule (against the trader on what fills at a trade's price), so an
        # exit priced from its entry's fill is priced from the slipped fill, as at a broker
        pipeline.broker().simulator.slippage = _slippage(spec, document)
        try:
            await settle()
            symbols = {t for t in document["strategies"][spec.strategy]["tickers"]}
            rolls = ContractRolls.for_file(spec.data, sorted(symbols))
            minute = [0]

            def on_time(ns: int) -> None:
                now["ns"] = ns
                if ns // 60_000_000_000 != minute[0]:  # time-of-day decisions (a 0DTE close) are taken by the minute
                    minute[0] = ns // 60_000_000_000
                    pipeline.runner.on_clock(clock())

            feed = HistoryFeed(pipeline.hub, settle, lambda: _working(pipeline.broker()), on_time=on_time)
            span = _span(spec)

            def on_chunk(p) -> None:
                if progress and p.first_ns is not None:
                    progress(min(1.0, (p.now_ns - span[0]) / max(span[1] - span[0], 1)))

            started = time.perf_counter()
            await feed.play(spec.data, symbols, spec.start_ns, spec.end_ns, cancelled=cancelled, on_chunk=on_chunk,
                            rolls=rolls)
            feed_s = time.perf_counter() - started
            if progress:
                progress(1.0)
        finally:
            await pipeline.stop()
    first = feed.progress.first_ns
    return list(pipeline.fills), (first if first is not None else start), now["ns"], feed_s, rolls


def _span(spec: BacktestSpec) -> tuple[int, int]:
    """The period the progress goes over: the file's, cut to --from/--to."""
    dbn = DbnFile(spec.data)
    start = max(spec.start_ns, dbn.start_ns)
    end = int(dbn.metadata.end or 0)
    end = min(spec.end_ns, end) if 0 < end < 2**63 else spec.end_ns
    return start, (end if end != NO_END else start + 1)


def measure(spec: BacktestSpec, document: dict, fills: list, first_ns: int, last_ns: int) -> BacktestResult:
    """Fills → round trips, equity and summary (plus in-sample/out-of-sample with a split)."""
    frame = fills_frame(spec, document, fills)
    trips = metrics.round_trips(frame)
    trips["pnl"] = trips["pnl"].astype(float).round(2)
    summary = money(metrics.summarize(trips))
    summary["fills"] = int(len(frame))
    if spec.split is not None:
        cut = pd.Timestamp(first_ns + int(spec.split * (last_ns - first_ns)), unit="ns", tz="UTC")
        entries = pd.to_datetime(trips["entry_time"], utc=True)
        summary["split_time"] = cut.isoformat()
        summary["in_sample"] = money(metrics.summarize(trips[entries < cut]))
        summary["out_of_sample"] = money(metrics.summarize(trips[entries >= cut]))
    equity = equity_frame(trips, first_ns)
    return BacktestResult(trips, equity, summary, frame, first_ns, last_ns, list(fills))


def _slippage(spec: BacktestSpec, document: dict) -> Callable[[str], Decimal]:
    """The price a symbol's fills slip by: `--slippage-ticks` ticks of its tick size (its setting, else the table)."""
    tickers = document["strategies"][spec.strategy]["tickers"]
    ticks = TickSizes({name: entry["tick_size"] for name, entry in tickers.items() if entry.get("tick_size")})
    return lambda symbol: Decimal(repr(spec.slippage_ticks * ticks.size(symbol, point_value=float(point_value(
        symbol, configured=(tickers.get(symbol) or {}).get("point_value"))))))


def fills_frame(spec: BacktestSpec, document: dict, fills: list) -> pd.DataFrame:
    """The fills as `analysis.metrics` reads them (slipped by the simulator), commission applied."""
    tickers = document["strategies"][spec.strategy]["tickers"]
    configured = {name: (entry.get("point_value"), entry.get("tick_size")) for name, entry in tickers.items()}
    rows = []
    for f in fills:
        value = float(point_value(f.ticker, configured=configured.get(f.ticker, (None, None))[0]))
        rows.append({"time": pd.Timestamp(f.time), "strategy": spec.strategy, "ticker": f.ticker, "side": f.side,
                     "qty": float(f.qty), "price": float(f.price), "commission": spec.commission * float(f.qty),
                     "point_value": value, "order_type": f.order_type, "client_order_id": f.client_order_id})
    columns = ["time", "strategy", "ticker", "side", "qty", "price", "commission", "point_value", "order_type",
               "client_order_id"]
    return pd.DataFrame(rows, columns=columns)


def equity_frame(trips: pd.DataFrame, first_ns: int) -> pd.DataFrame:
    """The equity curve from 0 at the first trade, one row per round trip (its last row is the net PnL)."""
    curve = metrics.equity_curve(trips)
    start = pd.DataFrame({"time": [pd.Timestamp(first_ns, unit="ns", tz="UTC")], "pnl": [0.0], "equity": [0.0],
                          "drawdown": [0.0]})
    curve = pd.concat([start, curve], ignore_index=True) if len(curve) else start
    for column in ("pnl", "equity", "drawdown"):
        curve[column] = curve[column].astype(float).round(2)
    return curve


def money(summary: dict[str, Any]) -> dict[str, Any]:
    """Money in cents (so the sum of the trades and the equity's last row agree to the cent)."""
    out = dict(summary)
    for key in MONEY:
        if out.get(key) is not None:
            out[key] = round(float(out[key]), 2) + 0.0
    for key in ("win_rate", "profit_factor", "max_drawdown_pct", "sharpe", "sortino", "exposure"):
        if out.get(key) is not None:
            out[key] = round(float(out[key]), 6)
    return out


def _fast_tmp() -> str | None:
    """A memory-backed folder for the throwaway store where the OS has one."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


def period_label(start_ns: int, end_ns: int) -> str:
    def show(ns: int) -> str:
        return ns_to_datetime(ns).isoformat() if 0 < ns < NO_END else "…"
    return f"{show(start_ns)} – {show(end_ns)}"


__all__ = ["BacktestSpec", "BacktestResult", "run_backtest", "measure", "engine_document", "period_label"]


if TYPE_CHECKING:
    from station.brokers.paper.simulator import PaperSimulator


def _working(broker) -> "PaperSimulator | None":
    """The paper broker's simulator while it works an order (the feed then cuts slices at its crossings)."""
    simulator = broker.simulator
    return simulator if next(iter(simulator.working()), None) is not None else None
