"""`station bench engine`: closed bars through the engine (bus → runner → crossover and Supertrend strategies).

This measures the engine's side of the tick → bar → signal path: how many closed bars
per second the runner and two strategies take, beside the bare bus dispatch of the same
bars in the same run. The whole path from 1M trades through the market data bar builders
(1m and 512t) is measured once those builders are wired in front of it; a 512-tick bar
costs the engine one bar's work, so `engine_ticks_per_s_at_512t` = bars/s × 512 is the
tick rate the engine alone could keep up with.
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import datetime, timedelta, timezone

from station.bus import Bus
from station.domain.config import RoutingConfig, StrategyConfig, TickerConfig
from station.domain.events import BarUpdated
from station.domain.marketdata import Bar

BARS = 100_000
LINES = {"line1": {"type": "ema", "period": 9}, "line2": {"type": "sma", "period": 21}}


def make_bars(count: int, timeframe: str, seed: int = 1) -> list[Bar]:
    """A random-walk series of closed bars."""
    rng = random.Random(seed)
    start = datetime(2025, 3, 3, 14, 30, tzinfo=timezone.utc)
    price, bars = 5800.0, []
    for i in range(count):
        open_ = price
        price += rng.gauss(0, 1.5)
        high, low = max(open_, price) + rng.random(), min(open_, price) - rng.random()
        bars.append(Bar("MES", timeframe, start + timedelta(seconds=i), open_, high, low, price, 512.0, True))
    return bars


def _config(timeframe: str) -> RoutingConfig:
    engines = {
        "Cross": {"kind": "crossover", "timeframe": timeframe, "trade_enabled": True, "qty": 1, **LINES},
        "Trend": {"kind": "supertrend", "timeframe": timeframe, "trade_enabled": True, "qty": 1,
                  "atr_period": 10, "multiplier": 3.0, "confirm_bars": 3},
    }
    return RoutingConfig(revision=1, strategies=tuple(
        StrategyConfig(name, tickers=(TickerConfig("MES"),), options={"engine": params})
        for name, params in engines.items()))


async def _engine_rate(bars: list[Bar], timeframe: str) -> tuple[float, int]:
    from station.engine.runner import StrategyRunner

    from station.domain.commands import RecordSignal

    bus = Bus()
    signals: list = []
    bus.subscribe(RecordSignal, signals.append)
    runner = StrategyRunner(bus, lambda: _config(timeframe), None, clock_interval_s=3600)
    await runner.start()
    await runner.ready()
    for name in ("Cross", "Trend"):
        await runner.start_strategy(name)
    events = [BarUpdated(bar) for bar in bars]
    publish = bus.publish
    start = time.perf_counter()
    for event in events:
        publish(event)
    elapsed = time.perf_counter() - start
    await runner.stop()
    return len(bars) / elapsed, len(signals)


def _bare_rate(bars: list[Bar]) -> float:
    bus = Bus()
    bus.subscribe(BarUpdated, lambda event: None)
    events = [BarUpdated(bar) for bar in bars]
    publish = bus.publish
    start = time.perf_counter()
    for event in events:
        publish(event)
    return len(bars) / (time.perf_counter() - start)


def run(options) -> dict:
    """Bars/s through the engine vs the bare bus, for 1m and 512t series."""
    result: dict = {"bars": BARS}
    for timeframe in ("1m", "512t"):
        bars = make_bars(BARS, timeframe)
        bare = _bare_rate(bars)
        rate, signals = asyncio.run(_engine_rate(bars, timeframe))
        result[f"bare_bus_bars_per_s_{timeframe}"] = round(bare)
        result[f"engine_bars_per_s_{timeframe}"] = round(rate)
        result[f"engine_vs_bare_{timeframe}"] = round(rate / bare, 3)
        result[f"signals_{timeframe}"] = signals
    result["engine_ticks_per_s_at_512t"] = round(result["engine_bars_per_s_512t"] * 512)
    result["note"] = "engine side only; 1M trades through the bar builders needs the market data branch"
    return result
