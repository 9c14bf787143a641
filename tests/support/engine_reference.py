"""Vectorised pandas references for the engine's indicators and strategies, written independently
of station/engine (tests compare the incremental code against these)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def random_bars(n: int, seed: int = 7, start: str = "2024-01-02 14:30", freq: str = "1min", price: float = 5000.0) -> pd.DataFrame:
    """A random-walk OHLC frame (UTC index) with consistent highs and lows."""
    rng = np.random.default_rng(seed)
    close = price + np.cumsum(rng.normal(0, 2.0, n))
    open_ = np.concatenate([[price], close[:-1]]) + rng.normal(0, 0.5, n)
    high = np.maximum(open_, close) + rng.exponential(1.0, n)
    low = np.minimum(open_, close) - rng.exponential(1.0, n)
    index = pd.date_range(start, periods=n, freq=freq, tz="UTC")
    return pd.DataFrame({"open": open_, "high": high, "low": low, "close": close, "volume": 1.0}, index=index)


def seeded_ewm(s: pd.Series, period: int, alpha: float) -> pd.Series:
    """EMA seeded with the SMA of the first `period` values (NaN before)."""
    out = pd.Series(np.nan, index=s.index)
    seeded = s.iloc[period - 1:].copy()
    seeded.iloc[0] = s.iloc[:period].mean()
    out.iloc[period - 1:] = seeded.ewm(alpha=alpha, adjust=False).mean().to_numpy()
    return out


def average(kind: str, s: pd.Series, period: int) -> pd.Series:
    if kind == "sma":
        return s.rolling(period).mean()
    if kind == "ema":
        return seeded_ewm(s, period, 2.0 / (period + 1))
    if kind == "wilder":
        return seeded_ewm(s, period, 1.0 / period)
    raise ValueError(kind)


def true_range(df: pd.DataFrame) -> pd.Series:
    prev = df["close"].shift(1)
    tr = pd.concat([df["high"] - df["low"], (df["high"] - prev).abs(), (df["low"] - prev).abs()], axis=1).max(axis=1)
    tr.iloc[0] = df["high"].iloc[0] - df["low"].iloc[0]
    return tr


def atr(df: pd.DataFrame, period: int) -> pd.Series:
    return average("wilder", true_range(df), period)


def supertrend(df: pd.DataFrame, period: int, multiplier: float) -> pd.DataFrame:
    """Supertrend line and direction (+1 up, -1 down), bands that only tighten (loop over numpy arrays)."""
    a = atr(df, period).to_numpy()
    mid = ((df["high"] + df["low"]) / 2).to_numpy()
    close = df["close"].to_numpy()
    basic_up, basic_dn = mid + multiplier * a, mid - multiplier * a
    n = len(df)
    up, dn, line, direction = (np.full(n, np.nan) for _ in range(4))
    first = period - 1
    for i in range(first, n):
        if i == first:
            up[i], dn[i], direction[i] = basic_up[i], basic_dn[i], -1
        else:
            up[i] = basic_up[i] if basic_up[i] < up[i - 1] or close[i - 1] > up[i - 1] else up[i - 1]
            dn[i] = basic_dn[i] if basic_dn[i] > dn[i - 1] or close[i - 1] < dn[i - 1] else dn[i - 1]
            if direction[i - 1] < 0:
                direction[i] = 1 if close[i] > up[i] else -1
            else:
                direction[i] = -1 if close[i] < dn[i] else 1
        line[i] = dn[i] if direction[i] > 0 else up[i]
    return pd.DataFrame({"line": line, "direction": direction, "upper": up, "lower": dn}, index=df.index)


def crossover_signals(df: pd.DataFrame, line1: tuple[str, int], line2: tuple[str, int]) -> pd.DataFrame:
    """Bars where line 1 crosses line 2: +1 above, -1 below (both lines defined on this and the previous bar)."""
    l1 = average(line1[0], df["close"], line1[1])
    l2 = average(line2[0], df["close"], line2[1])
    diff = l1 - l2
    prev = diff.shift(1)
    up = (diff > 0) & (prev <= 0)
    down = (diff < 0) & (prev >= 0)
    side = pd.Series(0, index=df.index)
    side[up] = 1
    side[down] = -1
    return pd.DataFrame({"side": side, "close": df["close"]})[side != 0]


# ---- strategy references: indicators and conditions vectorised, the position kept in a plain loop ----

Expected = list[tuple[pd.Timestamp, str, str]]  # (bar start, action, target position)
NAMES = {1: "long", -1: "short", 0: "flat"}


def crossover_expected(df: pd.DataFrame, line1: tuple[str, int], line2: tuple[str, int]) -> Expected:
    """Entries and reversals of the crossover strategy (no stop): a cross the same way as the last one does nothing."""
    crosses = crossover_signals(df, line1, line2)["side"]
    crosses = crosses[crosses != crosses.shift(1)]
    out: Expected = []
    for i, (ts, side) in enumerate(crosses.items()):
        action = "buy" if side > 0 else "sell"
        if i:
            out.append((ts, action, "flat"))
        out.append((ts, action, NAMES[side]))
    return out


def supertrend_reversal_expected(df: pd.DataFrame, period: int, multiplier: float, confirm_bars: int,
                                 trail_atr: float, take_profit_atr: float | None) -> Expected:
    st = supertrend(df, period, multiplier)
    a = atr(df, period).to_numpy()
    direction = st["direction"].to_numpy()
    prev_dir = st["direction"].shift(1).to_numpy()
    flip = (direction != prev_dir) & ~np.isnan(prev_dir) & ~np.isnan(direction)
    bull = ((df["close"] > df["open"]) & (df["close"] > df["high"].shift(1))).to_numpy()
    bear = ((df["close"] < df["open"]) & (df["close"] < df["low"].shift(1))).to_numpy()
    high, low, close = df["high"].to_numpy(), df["low"].to_numpy(), df["close"].to_numpy()
    out: Expected = []
    pos, stop, target, pending, age = 0, np.nan, np.nan, 0, 0
    index = df.index

    def trade(i, new_pos):
        nonlocal pos
        out.append((index[i], "buy" if new_pos > pos else "sell", NAMES[new_pos]))
        pos = new_pos

    for i in range(len(df)):
        if pos > 0 and (low[i] <= stop or (take_profit_atr and high[i] >= target)):
            trade(i, 0)
        elif pos < 0 and (high[i] >= stop or (take_profit_atr and low[i] <= target)):
            trade(i, 0)
        if np.isnan(direction[i]):
            continue
        if flip[i]:
            pending, age = int(direction[i]), 0
            if pos == -pending:
                trade(i, 0)
        if pending:
            if bull[i] if pending > 0 else bear[i]:
                if pos != pending:
                    if pos:
                        trade(i, 0)
                    trade(i, pending)
                    stop = close[i] - pending * trail_atr * a[i]
                    target = close[i] + pending * (take_profit_atr or 0) * a[i]
                pending = 0
            else:
                age += 1
                if age >= confirm_bars:
                    pending = 0
        if pos:
            trail = close[i] - pos * trail_atr * a[i]
            stop = max(stop, trail) if pos > 0 else min(stop, trail)
    return out


def pairs_expected(one: pd.DataFrame, two: pd.DataFrame, hedge: float, lookback: int, entry_z: float,
                   exit_z: float) -> tuple[Expected, pd.DataFrame]:
    # renamed rather than suffixed: pandas 2.2 has no `suffixes`, pandas 3 deprecates `lsuffix`/`rsuffix`
    both = one[["close"]].rename(columns={"close": "close1"}).join(two[["close"]].rename(columns={"close": "close2"}),
                                                                    how="inner")
    spread = both["close1"] - hedge * both["close2"]
    mean = spread.rolling(lookback).mean()
    std = spread.rolling(lookback).std(ddof=0)
    z = (spread - mean) / std
    out: Expected = []
    pos = 0
    for ts, value in z.items():
        if np.isnan(value):
            continue
        if (pos > 0 and value >= -exit_z) or (pos < 0 and value <= exit_z):
            out.append((ts, "sell" if pos > 0 else "buy", "flat"))
            pos = 0
        if pos == 0 and abs(value) >= entry_z:
            pos = -1 if value > 0 else 1
            out.append((ts, "buy" if pos > 0 else "sell", NAMES[pos]))
    return out, pd.DataFrame({"spread": spread, "mean": mean, "std": std, "z": z})
