"""`report.html` of a backtest: one self-contained page in the house style of `station analyze`'s report
(`analysis/report_html.py`, `analysis/svg.py`): the summary, equity and drawdown curves, monthly returns,
the distribution of trade results, in-sample against out-of-sample, and the trades."""

from __future__ import annotations

from html import escape
from pathlib import Path

import numpy as np
import pandas as pd

from station.analysis import svg
from station.analysis.report_html import FORMATS, _css, _missing, table
from station.domain.timeutil import EASTERN
from station.research.contracts import contracts_text

CARDS = (("trades", "round trips", "int"), ("net_pnl", "net PnL", "money"), ("gross_profit", "gross profit", "money"),
         ("gross_loss", "gross loss", "money"), ("win_rate", "win rate", "pct"), ("profit_factor", "profit factor", "num"),
         ("avg_win", "average win", "money"), ("avg_loss", "average loss", "money"),
         ("expectancy", "expectancy (per trade)", "money"), ("max_drawdown", "max drawdown", "cost"),
         ("sharpe", "Sharpe (daily)", "num"), ("sortino", "Sortino (daily)", "num"), ("exposure", "exposure", "pct"),
         ("commission", "commissions", "num"))
TRADE_TABLE = [("entry_time", "entry", "time"), ("exit_time", "exit", "time"), ("ticker", "ticker", "text"),
               ("side", "side", "text"), ("qty", "qty", "num"), ("entry_price", "entry price", "price"),
               ("exit_price", "exit price", "price"), ("pnl_points", "points", "price"), ("pnl", "PnL", "money")]


def _value(summary: dict, key: str, kind: str) -> str:
    value = summary.get(key)
    return "—" if _missing(value) else FORMATS[kind](value)


def _cards(summary: dict) -> str:
    return '<div class="kpis">' + "".join(
        f'<div class="kpi"><b>{escape(_value(summary, key, kind))}</b><span>{escape(title)}</span></div>'
        for key, title, kind in CARDS) + "</div>"


def monthly_returns(trips: pd.DataFrame) -> pd.DataFrame:
    """Net PnL per calendar month (US/Eastern, by exit), one row per year and a column per month plus the year."""
    if not len(trips):
        return pd.DataFrame()
    exits = pd.to_datetime(trips["exit_time"], utc=True).dt.tz_convert(EASTERN)
    frame = pd.DataFrame({"year": exits.dt.year, "month": exits.dt.month, "pnl": trips["pnl"].astype(float)})
    grid = frame.pivot_table(index="year", columns="month", values="pnl", aggfunc="sum")
    grid = grid.reindex(columns=range(1, 13))
    grid.columns = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    grid["Year"] = frame.groupby("year")["pnl"].sum()
    return grid.reset_index()


def _halves(summary: dict) -> str:
    if "in_sample" not in summary:
        return ""
    rows = pd.DataFrame([{"part": "in sample", **summary["in_sample"]}, {"part": "out of sample",
                                                                         **summary["out_of_sample"]}])
    columns = [("part", "", "text")] + [(key, title, kind) for key, title, kind in CARDS]
    cut = pd.Timestamp(summary["split_time"]).tz_convert(EASTERN)
    return (f"<h2 id=split>In sample and out of sample</h2><p class=meta>Trades entered before "
            f"{cut:%Y-%m-%d %H:%M:%S} ET are in sample.</p>" + table(rows, columns))


def _contracts(summary: dict) -> str:
    return f" · traded {escape(contracts_text(summary['contracts']))}" if summary.get("contracts") else ""


def render_report(spec, result) -> str:
    """The whole page."""
    summary, trips, equity = result.summary, result.trips, result.equity
    seconds = pd.to_datetime(equity["time"], utc=True).astype("int64").to_numpy() / 1e9
    curves = svg.step_chart([("equity", seconds, equity["equity"].to_numpy(float))], label="equity",
                            y_label="net PnL")
    drawdown = svg.step_chart([("drawdown", seconds, equity["drawdown"].to_numpy(float))], label="drawdown",
                              y_label="below the peak")
    months = monthly_returns(trips)
    month_columns = [("year", "year", "text")] + [(c, c, "money") for c in months.columns if c != "year"]
    distribution = svg.histogram(trips["pnl"].to_numpy(float) if len(trips) else np.array([]),
                                 label="trade results", x_label="net PnL per round trip", signed=True, gains=True)
    params = ", ".join(f"{k}={v}" for k, v in spec.params.items()) or "as configured"
    title = f"Backtest: {spec.strategy}"
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(title)}</title>"
        f"<meta name=viewport content='width=device-width,initial-scale=1'><style>{_css()}</style></head><body>"
        f"<header><h1>{escape(title)}</h1><p class=meta>{escape(Path(spec.data).name)} · parameters: "
        f"{escape(params)} · commission {spec.commission:g} per contract per fill · slippage "
        f"{spec.slippage_ticks:g} ticks · {int(summary.get('fills') or 0):,d} fills{_contracts(summary)}</p>"
        "<nav><a href=#summary>Summary</a><a href=#equity>Equity</a><a href=#months>Months</a>"
        "<a href=#distribution>Distribution</a><a href=#trades>Trades</a></nav></header>"
        f"<h2 id=summary>Summary</h2>{_cards(summary)}{_halves(summary)}"
        f"<h2 id=equity>Equity and drawdown</h2>{curves}{drawdown}"
        f"<h2 id=months>Monthly returns</h2>{table(months, month_columns)}"
        f"<h2 id=distribution>Trade distribution</h2>{distribution}"
        f"<h2 id=trades>Trades</h2>{table(trips, TRADE_TABLE, more='trades.csv')}"
        "</body></html>"
    )
