"""Indicators: incremental values equal a vectorised pandas reference on 10,000 random bars to 1e-9,
and reproduce published textbook figures."""

import math

import numpy as np
import pandas as pd
import pytest

from support.engine_reference import atr, average, random_bars, supertrend, true_range
from station.engine.indicators import ATR, EMA, SMA, RollingStd, SpreadZScore, Supertrend, TrueRange, Wilder, moving_average

N = 10_000
TOL = 1e-9


@pytest.fixture(scope="module")
def bars() -> pd.DataFrame:
    return random_bars(N, seed=11)


def run(indicator, values):
    return np.array([np.nan if (v := indicator.update(x)) is None else v for x in values])


def run_hlc(indicator, df):
    return np.array([np.nan if (v := indicator.update(h, l, c)) is None else v
                     for h, l, c in zip(df["high"], df["low"], df["close"])])


def assert_same(got: np.ndarray, want: pd.Series, warmup: int) -> None:
    want = want.to_numpy()
    assert np.isnan(got[:warmup]).all()
    assert not np.isnan(got[warmup:]).any()
    np.testing.assert_allclose(got[warmup:], want[warmup:], rtol=0, atol=TOL)


@pytest.mark.parametrize("kind", ["sma", "ema", "wilder"])
@pytest.mark.parametrize("period", [1, 2, 14, 50, 200])
def test_moving_averages_match_pandas(bars, kind, period):
    got = run(moving_average(kind, period), bars["close"])
    assert_same(got, average(kind, bars["close"], period), period - 1)


def test_true_range_and_atr_match_pandas(bars):
    got_tr = run_hlc(TrueRange(), bars)
    np.testing.assert_allclose(got_tr, true_range(bars).to_numpy(), rtol=0, atol=TOL)
    for period in (1, 14, 100):
        assert_same(run_hlc(ATR(period), bars), atr(bars, period), period - 1)


@pytest.mark.parametrize("period,ddof", [(2, 0), (20, 0), (20, 1), (390, 0)])
def test_rolling_std_and_zscore_match_pandas(bars, period, ddof):
    spread = bars["close"] - 0.8 * bars["open"].rolling(3, min_periods=1).mean()
    got = run(RollingStd(period, ddof), spread)
    want_std = spread.rolling(period).std(ddof=ddof)
    assert_same(got, want_std, period - 1)
    z = SpreadZScore(period, ddof)
    zs, means = [], []
    for x in spread:
        value = z.update(x)
        zs.append(np.nan if value is None else value)
        means.append(np.nan if z.mean is None or not z.initialized else z.mean)
    want_mean = spread.rolling(period).mean()
    assert_same(np.array(means), want_mean, period - 1)
    # z is ill-conditioned where σ is tiny (period 2): compare the distance in price, then z scaled by σ
    distance = (np.array(zs) * want_std.to_numpy())[period - 1:]
    np.testing.assert_allclose(distance, (spread - want_mean).to_numpy()[period - 1:], rtol=0, atol=TOL)
    scale = np.maximum(1.0, 1.0 / want_std.to_numpy()[period - 1:])
    assert (np.abs(np.array(zs)[period - 1:] - ((spread - want_mean) / want_std).to_numpy()[period - 1:]) <= TOL * scale).all()


@pytest.mark.parametrize("period,multiplier", [(10, 3.0), (7, 1.5), (14, 2.0)])
def test_supertrend_matches_reference(bars, period, multiplier):
    st = Supertrend(period, multiplier)
    lines, directions, flips = [], [], []
    for h, l, c in zip(bars["high"], bars["low"], bars["close"]):
        value = st.update(h, l, c)
        lines.append(np.nan if value is None else value)
        directions.append(st.direction if value is not None else np.nan)
        flips.append(st.flipped)
    want = supertrend(bars, period, multiplier)
    assert_same(np.array(lines), want["line"], period - 1)
    np.testing.assert_array_equal(np.array(directions)[period - 1:], want["direction"].to_numpy()[period - 1:])
    want_flips = (want["direction"] != want["direction"].shift(1)) & want["direction"].shift(1).notna()
    assert np.array(flips).sum() == want_flips.sum() > 20  # the random walk trends both ways many times


def test_large_prices_and_long_sessions_do_not_drift():
    """A million updates on prices near 1e5: the exact recompute on wrap keeps the sum honest."""
    rng = np.random.default_rng(3)
    values = 1e5 + np.cumsum(rng.normal(0, 1, 1_000_000))
    sma, std = SMA(50), RollingStd(50)
    for x in values:
        sma.update(x)
        std.update(x)
    tail = values[-50:]
    assert abs(sma.value - tail.mean()) < 1e-9
    assert abs(std.value - tail.std()) < 1e-9


def test_reset_and_initialized():
    for indicator in (SMA(3), EMA(3), Wilder(3), RollingStd(3), SpreadZScore(3)):
        assert not indicator.initialized and indicator.value is None
        for x in (1.0, 2.0):
            assert indicator.update(x) is None
        assert indicator.update(3.0) is not None and indicator.initialized
        indicator.reset()
        assert not indicator.initialized and indicator.value is None
        assert indicator.update(5.0) is None
    st = Supertrend(2, 3.0)
    assert st.update(10, 9, 9.5) is None
    assert st.update(11, 10, 10.5) is not None and st.initialized
    st.reset()
    assert not st.initialized and st.update(10, 9, 9.5) is None
    with pytest.raises(ValueError, match="unknown moving average"):
        moving_average("hull", 3)
    with pytest.raises(ValueError):
        SMA(0)


# ---- published values ------------------------------------------------------------------------


def test_sma_stockcharts_example():
    """StockCharts ChartSchool, "Moving Averages - Simple and Exponential": closes 11..17, 5-day SMA 13, 14, 15."""
    sma = SMA(5)
    assert [sma.update(x) for x in range(11, 18)][4:] == [13.0, 14.0, 15.0]


def test_ema_stockcharts_example():
    """StockCharts ChartSchool, "Moving Averages - Simple and Exponential" (cs-movavg spreadsheet):
    10-day EMA, multiplier 2/(10+1) = 0.1818, seeded with the 10-day SMA 22.22."""
    closes = [22.27, 22.19, 22.08, 22.17, 22.18, 22.13, 22.23, 22.43, 22.24, 22.29,
              22.15, 22.39, 22.38, 22.61, 23.36, 24.05, 23.75, 23.83, 23.95, 23.63,
              23.82, 23.87, 23.65, 23.19, 23.10, 23.33, 22.68, 23.10, 22.40, 22.17]
    published = [22.22, 22.21, 22.24, 22.27, 22.33, 22.52, 22.80, 22.97, 23.13, 23.28, 23.34,
                 23.43, 23.51, 23.54, 23.47, 23.40, 23.39, 23.26, 23.23, 23.08, 22.92]
    ema = EMA(10)
    got = [v for x in closes if (v := ema.update(x)) is not None]
    # the spreadsheet rounds its multiplier to 0.1818: agree to the cent
    assert len(got) == len(published)
    assert all(abs(g - p) <= 0.01 for g, p in zip(got, published))
    assert round(got[0], 2) == 22.22 and round(got[-1], 2) == 22.92


def test_atr_is_wilders_definition_on_a_hand_worked_series():
    """Wilder's ATR: TR = max(H-L, |H-Cprev|, |L-Cprev|); ATR1 = mean of the first n TR, then (ATR*(n-1)+TR)/n."""
    bars = [(10.0, 9.0, 9.5), (10.5, 9.8, 10.2), (11.5, 10.4, 11.0), (10.8, 9.6, 9.9), (10.0, 8.5, 9.0)]
    # TR: 1.0 (H-L), 1.0 (10.5-9.5), 1.3 (11.5-10.2), 1.4 (11.0-9.6), 1.5 (10.0-8.5)
    a = ATR(3)
    values = [a.update(*b) for b in bars]
    assert values[:2] == [None, None]
    assert math.isclose(values[2], 1.1)
    assert math.isclose(values[3], (1.1 * 2 + 1.4) / 3)
    assert math.isclose(values[4], (1.2 * 2 + 1.5) / 3)
