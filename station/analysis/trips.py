"""What was traded live, as round trips: the same figures a backtest reports (`analysis/metrics.py`), in money.

From the matched fills (each at its order's resolved point value, `analysis/instruments.py`): the round trips,
the overall figures (`trips`, `net_pnl`, `win_rate`, `profit_factor`, `max_drawdown`, …) and per strategy and
ticker.
"""

from __future__ import annotations

import pandas as pd

from station.analysis import metrics
from station.analysis.matching import NONE, Matched

TRIP_FIGURES = {"trades": "round_trips", "net_pnl": "trips_net_pnl", "win_rate": "win_rate",
                "profit_factor": "profit_factor", "max_drawdown": "max_drawdown", "expectancy": "expectancy",
                "sharpe": "sharpe"}


def live_trips(matched: Matched) -> pd.DataFrame:
    """The round trips of every strategy and ticker, flat to flat, net of commissions."""
    fills = matched.fills
    frame = pd.DataFrame({"time": fills["time"], "strategy": fills["strategy"].fillna(NONE),
                          "ticker": fills["ticker"], "side": fills["side"], "qty": fills["qty"].astype(float),
                          "price": fills["price"].astype(float), "commission": fills["commission"].fillna(0.0),
                          "point_value": fills["point_value"].astype(float)})
    return metrics.round_trips(frame.dropna(subset=["time", "price", "qty"]))


def trip_figures(trips: pd.DataFrame) -> dict:
    """The headline round-trip figures, keyed as the report's overview shows them."""
    summary = metrics.summarize(trips)
    return {name: summary[key] for key, name in TRIP_FIGURES.items()}


def by(trips: pd.DataFrame, key: str) -> pd.DataFrame:
    """The round-trip summary per strategy or ticker."""
    return metrics.summary_by(trips, key)
