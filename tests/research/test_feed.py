"""The backtest feed in process: every fill on the market time and price of the trade it followed, as a paced live
replay would have it (tick bars close on a trade, time bars at their end), and the clock never ahead of the data."""

from __future__ import annotations

import numpy as np
import pytest

from support.backtest import data_dir_with, random_walk, strategy_config
from station.marketdata.databento.files import DbnFile
from station.marketdata.trades import to_ns
from station.research.config import backtest_document
from station.research.run import BacktestSpec, run_backtest
from station.store import Store
from station.store.config_repo import ConfigRepository

LINES = {"line1": {"type": "ema", "period": 2}, "line2": {"type": "sma", "period": 3}}


@pytest.mark.parametrize("timeframe, apart", [("3t", 1.0), ("5t", 0.3), ("1m", 7.0)])
def test_each_fill_is_at_the_price_and_time_of_the_trade_it_followed(tmp_path, timeframe, apart):
    data = random_walk(tmp_path / "w.dbn", "ES", 400, seconds_apart=apart, offset_s=3.5, seed=13)
    data_dir = data_dir_with(tmp_path, strategy_config("S", "ES", {"kind": "crossover", "timeframe": timeframe,
                                                                   **LINES}))
    store = Store(data_dir)
    try:
        document = backtest_document(ConfigRepository(store), "S")
    finally:
        store.close()
    records = run_backtest(BacktestSpec("S", document, str(data))).records
    assert len(records) >= 4
    trades = DbnFile(data).store.to_ndarray()
    ts, prices = trades["ts_event"].astype(np.int64), trades["price"] / 1e9
    for fill in records:
        at = to_ns(fill.time)  # fill times are kept to the microsecond, trade times to the nanosecond
        last = int(np.searchsorted(ts, at + 999, "right")) - 1
        assert float(fill.price) == prices[last]  # the last price when it filled
        if timeframe.endswith("t"):
            assert at == ts[last] // 1000 * 1000  # a tick bar closes on its last trade: the clock is that trade's
        else:
            assert at % 60_000_000_000 == 0 and ts[last] < at  # a time bar at its end, before the next trade


def test_the_feed_takes_the_strategys_symbols_in_the_period_with_a_price():
    from station.marketdata.trades import TradeBatch
    from station.research.feed import NO_END, _select

    ts = np.arange(10, dtype=np.int64) * 100
    price = np.array([1, 2, np.nan, 4, 5, 6, 7, 8, 9, 10], float)
    batch = TradeBatch(("ES", "NQ"), np.array([0, 1] * 5), ts, price, np.ones(10), synthetic=True)

    def rows(selected):
        return None if selected is None else (tuple(selected.symbols), [
            (selected.symbols[c], int(t), float(p)) for c, t, p in zip(selected.code, selected.ts, selected.price)],
            selected.synthetic)

    assert rows(_select(batch, {"ES"}, 0, NO_END)) == (("ES",), [("ES", 0, 1), ("ES", 400, 5), ("ES", 600, 7),
                                                                 ("ES", 800, 9)], True)  # the NaN print is dropped
    assert rows(_select(batch, {"ES", "NQ"}, 300, 700)) == (("ES", "NQ"), [("NQ", 300, 4), ("ES", 400, 5),
                                                                          ("NQ", 500, 6), ("ES", 600, 7)], True)
    assert rows(_select(batch, {"NQ"}, 0, 200)) == (("NQ",), [("NQ", 100, 2)], True)
    assert _select(batch, {"CL"}, 0, NO_END) is None and _select(batch, {"ES"}, 2000, NO_END) is None
    clean = TradeBatch(("ES",), np.zeros(3, np.intp), ts[:3], np.array([1.0, 2, 3]), np.ones(3))
    assert _select(clean, {"ES"}, 0, NO_END) is clean  # nothing to drop: no copy
