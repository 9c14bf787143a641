"""The trading metrics traders read first, one implementation for backtests and `station analyze`.

From fills (time, strategy, ticker, side, qty, price, commission, point_value) to:
- round trips: flat to flat per strategy and ticker (a fill that reverses the position
  closes one trip and opens the next with the rest); entry and exit prices are the
  averages of the fills on each side; `pnl_points` = (exit − entry) × direction;
  `pnl` = points × qty × point value − the trip's commissions (money, net);
- the equity curve (cumulative net PnL at each trip's exit) and its drawdown;
- the summary: trades, net PnL, gross profit and loss, win rate, average win and loss,
  profit factor, expectancy, max drawdown (money and % of the peak), Sharpe and Sortino
  on daily PnL (every weekday from the first entry to the last exit, 252 a year),
  exposure (the share of that span with a position open), commission.
Money is always points × the instrument's point value, so ES and NQ never mix as points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

TRIP_COLUMNS = ["strategy", "entry_time", "exit_time", "ticker", "side", "qty", "entry_price", "exit_price",
                "pnl_points", "pnl", "commission", "point_value"]
SUMMARY_KEYS = ("trades", "net_pnl", "gross_profit", "gross_loss", "win_rate", "avg_win", "avg_loss",
                "profit_factor", "expectancy", "max_drawdown", "max_drawdown_pct", "sharpe", "sortino", "exposure",
                "commission")
TRADING_DAYS = 252


@dataclass
class _Open:
    """A position being built, flat to flat."""

    direction: int
    entry_time: pd.Timestamp
    qty: float = 0.0
    entry_value: float = 0.0
    exit_qty: float = 0.0
    exit_value: float = 0.0
    commission: float = 0.0
    point_value: float = 1.0
    exit_time: pd.Timestamp | None = None

    def trip(self, strategy, ticker) -> dict:
        entry = self.entry_value / self.qty
        exit_ = self.exit_value / self.exit_qty
        points = (exit_ - entry) * self.direction
        return {"strategy": strategy, "entry_time": self.entry_time, "exit_time": self.exit_time, "ticker": ticker,
                "side": "long" if self.direction > 0 else "short", "qty": self.qty, "entry_price": entry,
                "exit_price": exit_, "pnl_points": points,
                "pnl": points * self.qty * self.point_value - self.commission,
                "commission": self.commission, "point_value": self.point_value}


def round_trips(fills: pd.DataFrame) -> pd.DataFrame:
    """One row per flat-to-flat round trip (TRIP_COLUMNS), in exit order."""
    trips: list[dict] = []
    if len(fills):
        frame = fills.sort_values("time", kind="stable")
        for (strategy, ticker), group in frame.groupby(["strategy", "ticker"], dropna=False, sort=False):
            trips += _trips_of(strategy, ticker, group)
    out = pd.DataFrame(trips, columns=TRIP_COLUMNS)
    return out.sort_values(["exit_time", "entry_time"], kind="stable").reset_index(drop=True)


def _trips_of(strategy, ticker, fills: pd.DataFrame) -> list[dict]:
    trips, position, current = [], 0.0, None
    for time, side, qty, price, commission, point_value in zip(
            fills["time"], fills["side"], fills["qty"].astype(float), fills["price"].astype(float),
            fills["commission"].astype(float), fills["point_value"].astype(float)):
        signed = qty if str(side).lower() == "buy" else -qty
        fee_per_unit = commission / qty if qty else 0.0
        while signed:
            if current is None:  # opening
                current = _Open(direction=1 if signed > 0 else -1, entry_time=time, point_value=point_value)
            if current.direction * signed > 0:  # adding to it
                current.qty += abs(signed)
                current.entry_value += abs(signed) * price
                current.commission += abs(signed) * fee_per_unit
                position += signed
                signed = 0.0
                continue
            closing = min(abs(signed), abs(position))  # reducing it, maybe through flat
            current.exit_qty += closing
            current.exit_value += closing * price
            current.commission += closing * fee_per_unit
            current.exit_time = time
            position -= math.copysign(closing, position)
            signed -= math.copysign(closing, signed)  # what is left of the fill reverses the position
            if abs(position) < 1e-12:
                position = 0.0
                trips.append(current.trip(strategy, ticker))
                current = None
    return trips


def equity_curve(trips: pd.DataFrame) -> pd.DataFrame:
    """`time`, `pnl`, `equity` (cumulative net PnL) and `drawdown` (≤ 0, from the running peak) per trip."""
    equity = trips["pnl"].astype(float).cumsum()
    peak = np.maximum.accumulate(np.concatenate([[0.0], equity.to_numpy()]))[1:] if len(equity) else np.array([])
    return pd.DataFrame({"time": trips["exit_time"].to_numpy(), "pnl": trips["pnl"].to_numpy(dtype=float),
                         "equity": equity.to_numpy(), "drawdown": equity.to_numpy() - peak})


def summarize(trips: pd.DataFrame, *, capital: float = 0.0) -> dict:
    """The summary figures (SUMMARY_KEYS); None where a figure is undefined (no losses for a profit factor…)."""
    pnl = trips["pnl"].astype(float)
    wins, losses = pnl[pnl > 0], pnl[pnl < 0]
    gross_profit, gross_loss = float(wins.sum()), float(losses.sum())
    curve = equity_curve(trips)
    drawdown = float(-curve["drawdown"].min()) + 0.0 if len(curve) else 0.0  # + 0.0: never "-0.00" when none
    daily = daily_pnl(trips)
    return {
        "trades": int(len(trips)),
        "net_pnl": float(pnl.sum()),
        "gross_profit": gross_profit,
        "gross_loss": gross_loss,
        "win_rate": float(len(wins) / len(trips)) if len(trips) else None,
        "avg_win": float(wins.mean()) if len(wins) else None,
        "avg_loss": float(losses.mean()) if len(losses) else None,
        "profit_factor": gross_profit / -gross_loss if gross_loss < 0 else None,
        "expectancy": float(pnl.mean()) if len(trips) else None,
        "max_drawdown": drawdown,
        "max_drawdown_pct": _drawdown_pct(curve["equity"].to_numpy(), capital),
        "sharpe": _ratio(daily, downside=False),
        "sortino": _ratio(daily, downside=True),
        "exposure": exposure(trips),
        "commission": float(trips["commission"].astype(float).sum()),
    }


def _drawdown_pct(equity: np.ndarray, capital: float) -> float | None:
    """The largest fall from a peak, in % of that peak's account value (capital + equity); None if no peak > 0."""
    value = capital + equity
    peak = np.maximum.accumulate(np.concatenate([[capital], value]))[1:]
    positive = peak > 0
    if not positive.any():
        return None
    return float(((peak[positive] - value[positive]) / peak[positive]).max() * 100)


def daily_pnl(trips: pd.DataFrame) -> pd.Series:
    """Net PnL per weekday (by exit day, US/Eastern) from the first entry to the last exit; 0 where none."""
    if not len(trips):
        return pd.Series(dtype=float)
    exits = pd.to_datetime(trips["exit_time"], utc=True).dt.tz_convert("America/New_York").dt.normalize()
    by_day = trips["pnl"].astype(float).groupby(exits.dt.tz_localize(None)).sum()
    first = pd.to_datetime(trips["entry_time"], utc=True).min().tz_convert("America/New_York").normalize()
    days = pd.bdate_range(first.tz_localize(None), by_day.index.max())
    return by_day.reindex(days.union(by_day.index), fill_value=0.0)


def _ratio(daily: pd.Series, *, downside: bool) -> float | None:
    if len(daily) < 2:
        return None
    mean = float(daily.mean())
    spread = math.sqrt(float((np.minimum(daily, 0.0) ** 2).mean())) if downside else float(daily.std(ddof=1))
    if not spread or not math.isfinite(spread):
        return None
    return mean / spread * math.sqrt(TRADING_DAYS)


def exposure(trips: pd.DataFrame) -> float | None:
    """The share of the span (first entry to last exit) during which some position was open."""
    if not len(trips):
        return None
    spans = sorted(zip(pd.to_datetime(trips["entry_time"], utc=True), pd.to_datetime(trips["exit_time"], utc=True)))
    total = (max(end for _, end in spans) - spans[0][0]).total_seconds()
    if total <= 0:
        return None
    covered, start, end = 0.0, spans[0][0], spans[0][1]
    for begin, finish in spans[1:]:
        if begin > end:
            covered += (end - start).total_seconds()
            start, end = begin, finish
        else:
            end = max(end, finish)
    covered += (end - start).total_seconds()
    return covered / total


def summary_by(trips: pd.DataFrame, key: str) -> pd.DataFrame:
    """The summary per value of `key` (`strategy` or `ticker`), one row each."""
    rows = {value: summarize(group) for value, group in trips.groupby(key, dropna=False, sort=True)}
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(SUMMARY_KEYS)).rename_axis(key).reset_index()
