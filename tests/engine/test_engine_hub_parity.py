"""Signal parity through the real bar builders: the bundled sample replayed (DbnReplay → BarHub → bus →
StrategyRunner) gives exactly the signals of the vectorised pandas reference over the hub's own bars."""

import pandas as pd
import pytest

from support.engine_reference import crossover_expected, supertrend_reversal_expected
from station.bus import Bus
from station.domain.commands import RecordSignal
from station.domain.config import RoutingConfig, StrategyConfig, TickerConfig
from station.engine.runner import StrategyRunner
from station.marketdata.hub import BarHub
from station.marketdata.replay import DbnReplay
from station.marketdata.service import sample_path

LINES = {"line1": {"type": "ema", "period": 9}, "line2": {"type": "sma", "period": 21}}
TREND = {"atr_period": 10, "multiplier": 2.0, "confirm_bars": 2, "trail_atr": 2.0}
ENGINES = {f"{kind}-{tf}": {"kind": kind, "timeframe": tf, **(LINES if kind == "crossover" else TREND)}
           for kind in ("crossover", "supertrend") for tf in ("1m", "512t")}


def expected(params: dict, frame: pd.DataFrame) -> list:
    if params["kind"] == "crossover":
        out = crossover_expected(frame, ("ema", 9), ("sma", 21))
    else:
        out = supertrend_reversal_expected(frame, 10, 2.0, 2, 2.0, None)
    return [(ts.floor("us"), action, target) for ts, action, target in out]


def hub_frame(hub: BarHub, timeframe: str) -> pd.DataFrame:
    """The closed ES bars the hub built, as the reference takes them."""
    bars = hub.series[("ES", timeframe)].store.arrays()
    index = pd.to_datetime(bars.start, utc=True)
    return pd.DataFrame({"open": bars.open, "high": bars.high, "low": bars.low, "close": bars.close,
                         "volume": bars.volume}, index=index)


@pytest.mark.slow
async def test_the_replayed_sample_gives_the_references_signals_over_the_hubs_bars():
    bus = Bus()
    hub = BarHub(bus, timeframes=("1m",))
    replay = DbnReplay(bus, hub)
    config = RoutingConfig(revision=1, strategies=tuple(
        StrategyConfig(name, tickers=(TickerConfig("ES"),), options={"engine": params}) for name, params in ENGINES.items()))
    runner = StrategyRunner(bus, lambda: config, clock_interval_s=3600)
    signals: dict[str, list] = {name: [] for name in ENGINES}
    bus.subscribe(RecordSignal, lambda c: signals[c.alert.strategy].append(
        (pd.Timestamp(c.alert.sent_at), str(c.alert.action), c.alert.target_position)))
    for part in (hub, replay, runner):
        await part.start()
    await runner.ready()
    for name in ENGINES:
        assert await runner.start_strategy(name)   # before any bar: every bar of the session is live
    replay.play(sample_path(), speed=0)
    await replay.finished.wait()
    for part in (runner, replay, hub):
        await part.stop()
    for name, params in ENGINES.items():
        frame = hub_frame(hub, params["timeframe"])
        want = expected(params, frame)
        assert len(want) >= 4, name
        assert signals[name] == want, name
