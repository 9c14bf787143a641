"""Summaries a trader asks for: per strategy, ticker, destination and day; latency percentiles; the
worst slippages; alerts that did not trade; the equity curve; and the overall figures."""

from __future__ import annotations

import numpy as np
import pandas as pd

from station.analysis.matching import NONE, Matched

# (label, column of the alerts frame): the latency chain of an alert, stage by stage, then end to end
LATENCY_STAGES = (
    ("TradingView → received", "tv_to_received_ms"),
    ("received → committed", "received_to_committed_ms"),
    ("committed → routed", "committed_to_routed_ms"),
    ("routed → first fill", "routed_to_first_fill_ms"),
    ("received → routed", "received_to_routed_ms"),
    ("received → first fill", "received_to_first_fill_ms"),
)
DIMENSIONS = ("strategy", "ticker", "destination", "day")
NOT_TRADED = ("queued", "unrouted", "rejected", "no orders", "orders rejected", "not filled", "working",
              "partially filled")


def _keyed(matched: Matched, dimension: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Alerts, orders, fills and executions, each with a `key` column for `dimension`.

    An alert without a strategy of its own counts under every strategy its orders went to; an
    alert counts under each destination of its orders. Fills count on their own day.
    """
    alerts, orders, fills, executions = (matched.alerts.copy(), matched.orders.copy(), matched.fills.copy(),
                                         matched.executions.copy())
    if dimension == "strategy":
        alerts = alerts.assign(key=alerts["strategies"]).explode("key")
        orders["key"], fills["key"], executions["key"] = orders["strategy"], fills["strategy"], executions["strategy"]
    elif dimension == "ticker":
        alerts["key"] = alerts["ticker"]
        orders["key"], fills["key"], executions["key"] = orders["ticker_key"], fills["ticker_key"], executions["ticker_key"]
    elif dimension == "destination":
        alerts = alerts.assign(key=alerts["destination_keys"]).explode("key")
        orders["key"], fills["key"] = orders["destination"], fills["destination"]
        executions["key"] = executions["destination"]
    elif dimension == "day":
        alerts["key"], orders["key"], fills["key"], executions["key"] = (alerts["day"], orders["day"], fills["day"],
                                                                        executions["day"])
    else:
        raise ValueError(f"unknown dimension {dimension!r}")
    for frame in (alerts, orders, fills, executions):
        frame["key"] = frame["key"].fillna(NONE).astype(str)
    return alerts, orders, fills, executions


def summary(matched: Matched, dimension: str) -> pd.DataFrame:
    """One row per value of `dimension` (strategy, ticker, destination, day) with counts, fill rate,
    slippage and latency statistics, realised PnL and commissions."""
    alerts, orders, fills, executions = _keyed(matched, dimension)
    a = alerts.groupby("key")
    status = alerts.pivot_table(index="key", columns="status", values="alert_id", aggfunc="count", fill_value=0)
    parts = [pd.DataFrame({"alerts": a["alert_id"].nunique()}),
             status.reindex(columns=["routed", "unrouted", "rejected", "queued"], fill_value=0),
             pd.DataFrame({"alerts_filled": (alerts["outcome"] == "filled").groupby(alerts["key"]).sum(),
                           "duplicates_avoided": a["duplicates"].sum()})]
    reporting = orders[orders["reports_fills"]]
    o = orders.groupby("key")
    r = reporting.groupby("key")
    parts.append(pd.DataFrame({
        "orders": o.size(), "orders_filled": (orders["status"] == "filled").groupby(orders["key"]).sum(),
        "orders_rejected": (orders["status"] == "rejected").groupby(orders["key"]).sum(),
    }))
    parts.append(pd.DataFrame({"ordered_qty": r["qty"].sum(), "filled_qty": r["filled_qty"].sum(),
                               "fill_rate": r["fill_ratio"].mean()}))
    f = fills.groupby("key")
    parts.append(pd.DataFrame({"fills": f.size(), "realized_pnl": f["realized_pnl"].sum(),
                               "commission": f["commission"].sum(), "gross_pnl": f["gross_pnl"].sum()}))
    e = executions.groupby("key")
    stats = {}
    units = (("", "slippage"), ("_ticks", "slippage_ticks"), ("_bps", "slippage_bps"))
    for suffix, column in units if dimension == "ticker" else units[1:]:
        stats[f"slippage_mean{suffix}"] = e[column].mean()
        stats[f"slippage_median{suffix}"] = e[column].median()
        stats[f"slippage_p95{suffix}"] = e[column].quantile(0.95)
    stats["slippage_cost"] = e["slippage_cost"].sum()
    parts.append(pd.DataFrame(stats))
    latency = a["received_to_first_fill_ms"]
    parts.append(pd.DataFrame({"fill_latency_mean_ms": latency.mean(), "fill_latency_median_ms": latency.median(),
                               "fill_latency_p95_ms": latency.quantile(0.95),
                               "route_latency_median_ms": a["received_to_routed_ms"].median()}))
    table = pd.concat(parts, axis=1)
    counts = ["alerts", "routed", "unrouted", "rejected", "queued", "alerts_filled", "duplicates_avoided", "orders",
              "orders_filled", "orders_rejected", "fills"]
    table[counts] = table[counts].fillna(0).astype(int)
    for column in ("ordered_qty", "filled_qty", "realized_pnl", "commission", "gross_pnl", "slippage_cost"):
        table[column] = table[column].fillna(0.0)
    table = table.sort_index()
    table.index.name = dimension
    if dimension == "day":
        table["cumulative_pnl"] = table["realized_pnl"].cumsum()
    return table.reset_index()


def latency_percentiles(matched: Matched) -> pd.DataFrame:
    """Per stage of the latency chain: count, mean, p50, p90, p95, p99 and max in milliseconds."""
    rows = []
    for label, column in LATENCY_STAGES:
        values = matched.alerts[column].dropna()
        row = {"stage": label, "count": int(values.size)}
        for name, q in (("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99)):
            row[name] = values.quantile(q) if values.size else np.nan
        row.update(mean=values.mean() if values.size else np.nan, max=values.max() if values.size else np.nan)
        rows.append(row)
    return pd.DataFrame(rows, columns=["stage", "count", "mean", "p50", "p90", "p95", "p99", "max"])


def worst_slippages(matched: Matched, limit: int = 15) -> pd.DataFrame:
    """The executions that cost most against their alert price (money, then bps), adverse only."""
    adverse = matched.executions[matched.executions["slippage"] > 0]
    return adverse.sort_values(["slippage_cost", "slippage_bps"], ascending=False).head(limit)


def not_traded(matched: Matched) -> pd.DataFrame:
    """Alerts that did not trade in full (queued, unrouted, rejected, orders refused, unfilled), newest first."""
    alerts = matched.alerts[matched.alerts["outcome"].isin(NOT_TRADED)].copy()
    alerts["why"] = [_why(*row) for row in zip(alerts["status"], alerts["outcome"], alerts["status_reason"],
                                                alerts["order_reasons"], alerts["filled_qty"], alerts["ordered_qty"])]
    return alerts.sort_values("received_at", ascending=False)


def _why(status, outcome, reason, order_reasons, filled, ordered) -> str:
    said = [x for x in (reason, order_reasons) if isinstance(x, str) and x]
    if outcome in ("partially filled", "working", "not filled"):
        said.append(f"filled {filled:g} of {ordered:g}")
    if status == "queued":
        said.append("not routed yet (Station routes it when it next starts)")
    return "; ".join(said)


def equity_curve(matched: Matched) -> pd.DataFrame:
    """Cumulative realised PnL (net of commissions) after each fill: overall and per strategy."""
    fills = matched.fills[["time", "strategy", "realized_pnl"]].copy()
    fills["strategy"] = fills["strategy"].fillna(NONE)
    fills["total"] = fills["realized_pnl"].cumsum()
    fills["strategy_total"] = fills.groupby("strategy")["realized_pnl"].cumsum()
    return fills


def overview(matched: Matched) -> dict[str, float | int]:
    """The headline figures of the whole report."""
    alerts, orders, fills, executions = matched.alerts, matched.orders, matched.fills, matched.executions
    reporting = orders[orders["reports_fills"]]
    status = alerts["status"].value_counts()
    latency = alerts["received_to_first_fill_ms"].dropna()
    return {
        "alerts": int(len(alerts)), "routed": int(status.get("routed", 0)), "unrouted": int(status.get("unrouted", 0)),
        "rejected": int(status.get("rejected", 0)), "queued": int(status.get("queued", 0)),
        "alerts_filled": int((alerts["outcome"] == "filled").sum()), "duplicates_avoided": int(matched.duplicates),
        "orders": int(len(orders)), "orders_rejected": int((orders["status"] == "rejected").sum()),
        "fills": int(len(fills)),
        "fill_rate": float(reporting["fill_ratio"].mean()) if len(reporting) else np.nan,
        "slippage_median_bps": float(executions["slippage_bps"].median()) if len(executions) else np.nan,
        "slippage_median_ticks": float(executions["slippage_ticks"].median()) if len(executions) else np.nan,
        "slippage_cost": float(executions["slippage_cost"].sum()),
        "fill_latency_median_ms": float(latency.median()) if latency.size else np.nan,
        "fill_latency_p95_ms": float(latency.quantile(0.95)) if latency.size else np.nan,
        "realized_pnl": float(fills["realized_pnl"].sum()), "commission": float(fills["commission"].sum()),
    }
