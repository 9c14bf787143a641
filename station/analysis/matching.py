"""Alert ↔ orders ↔ fills: slippage per fill and per pair, then one row per alert with what became of it.

Slippage is signed so that positive is adverse (a cost): for a buy, a fill above the alert's
price; for a sell, a fill below it. An alert is judged by its entries: a bracket's protective exits
(role stop, target, trailing) carry the alert's id, and their fills count in its PnL, but not in
what was ordered and filled for it, nor in its slippage (an exit fills at its own price, not the alert's). A pair's slippage is that of its spread
`price1 − hedge × price2` against the alert's spread price, as the pairs servers reported it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from station.analysis.instruments import PointValues
from station.analysis.load import Tables
from station.analysis.ticks import TickSizes
from station.domain.enums import Side
from station.domain.pairs import Leg, PairFill
from station.domain.timeutil import EASTERN

SIGN = {"buy": 1.0, "sell": -1.0}
# NinjaTrader TCP ports take the order as a line and report no fills: they count as sent, not as unfilled.
NO_FILL_REPORTS = ("port:",)
OPEN_STATUSES = ("new", "submitted", "working", "partially_filled")
NONE = "(none)"


@dataclass(frozen=True)
class Matched:
    """The joined frames: alerts, orders and fills, and executions (a single order's fill, or a pair)."""

    alerts: pd.DataFrame
    orders: pd.DataFrame
    fills: pd.DataFrame
    executions: pd.DataFrame
    duplicates: int


def _ms(later: pd.Series, earlier: pd.Series) -> pd.Series:
    return (later - earlier).dt.total_seconds() * 1000.0


def _lookup(values: pd.Series, keys: pd.Series) -> pd.Series:
    """`values[key]` for each of `keys` (missing: NA), keeping the values' dtype even when empty."""
    return values.reindex(keys).set_axis(keys.index)


def _weighted(frame: pd.DataFrame, key: str, values: list[str], weight: str) -> pd.DataFrame:
    """Per `key`, the `weight`-weighted mean of each column in `values` (NaNs left out)."""
    out = {}
    grouped = frame.groupby(key)
    for column in values:
        present = frame[column].notna()
        w = frame[weight].where(present, 0.0)
        num = (frame[column].fillna(0.0) * w).groupby(frame[key]).sum()
        den = w.groupby(frame[key]).sum()
        out[column] = num / den.replace(0.0, np.nan)
    return pd.DataFrame(out, index=grouped.size().index)


def match(tables: Tables, ticks: TickSizes, points: PointValues | None = None) -> Matched:
    """Join alerts, orders and fills; compute slippage, latency, fill ratio and outcome.

    Money is points × each order's point value as `points` resolves it (the config's setting now, else what the
    order recorded, else the futures table), so ES and NQ never add up as points and a `point_value` set after
    the trade still counts; tick sizes follow the same instrument (a bare `ES` is the future)."""
    points = points or PointValues()
    orders = _orders(tables, ticks, points)
    fills = _fills(tables.fills, orders, ticks, points)
    parts = [frame for frame in (_single_executions(fills), _pair_executions(tables.pairs, orders, fills, ticks))
             if len(frame)]
    executions = (pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()).reindex(columns=EXECUTION_COLUMNS)
    executions["time"] = pd.to_datetime(executions["time"], utc=True)
    for column in NUMERIC_EXECUTION_COLUMNS:
        executions[column] = pd.to_numeric(executions[column], errors="coerce").astype(float)
    executions["alert_id"] = executions["alert_id"].astype("Int64")
    alerts = _alerts(tables, orders, fills, executions)
    return Matched(alerts, orders, fills, executions, len(tables.duplicates))


def _orders(tables: Tables, ticks: TickSizes, points: PointValues) -> pd.DataFrame:
    orders = tables.orders.copy()
    alerts = tables.alerts.set_index("alert_id")
    for column, source in (("alert_ticker", "ticker"), ("alert_price", "price"), ("alert_received_at", "received_at")):
        orders[column] = _lookup(alerts[source], orders["alert_id"])
    orders["recorded_point_value"] = orders["point_value"].fillna(1.0)
    orders["point_value"] = [points.of(s, t, i, r) for s, t, i, r in zip(
        orders["strategy"], orders["ticker"], orders["instrument"], orders["recorded_point_value"])]
    orders["entry"] = orders["role"].fillna("entry").eq("entry")
    orders["reports_fills"] = ~orders["destination"].str.startswith(NO_FILL_REPORTS)
    orders["fill_ratio"] = (orders["filled_qty"] / orders["qty"]).where(orders["reports_fills"])
    orders["ticker_key"] = orders["alert_ticker"].fillna(orders["ticker"])
    orders["day"] = _day(orders["alert_received_at"].fillna(orders["created_at"]))
    orders["tick_size"] = [ticks.size(t, i, p) for t, i, p in
                           zip(orders["ticker"], orders["instrument"], orders["point_value"])]
    return orders


def _fills(fills: pd.DataFrame, orders: pd.DataFrame, ticks: TickSizes, points: PointValues) -> pd.DataFrame:
    fills = fills.sort_values(["time", "seq"], kind="stable").reset_index(drop=True)
    by_id = orders.set_index("client_order_id")
    for column in ("alert_id", "alert_ticker", "alert_price", "alert_received_at", "pair_group", "leg",
                   "point_value", "recorded_point_value", "price_hint", "instrument", "tick_size", "entry"):
        fills[column] = _lookup(by_id[column], fills["client_order_id"])
    fills["entry"] = fills["entry"].fillna(True).astype(bool)  # a fill of no known order: as before, an entry
    fills["strategy"] = fills["strategy"].fillna(_lookup(by_id["strategy"], fills["client_order_id"]))
    orphan = fills["point_value"].isna()  # a fill of an order not in the journal: its ticker's value
    fills.loc[orphan, "point_value"] = [points.of(s, t) for s, t in zip(fills.loc[orphan, "strategy"],
                                                                        fills.loc[orphan, "ticker"])]
    fills["point_value"] = fills["point_value"].astype(float)
    # the book valued each fill by the point value its order had then (1 when none was set): in money now
    recorded = fills["recorded_point_value"].fillna(1.0).astype(float)
    fills["realized_pnl"] = ((fills["realized_pnl"] + fills["commission"]) * fills["point_value"] / recorded
                             - fills["commission"])
    fills["alert_id"] = fills["alert_id"].astype("Int64")
    for column in ("alert_price", "price_hint", "tick_size"):
        fills[column] = pd.to_numeric(fills[column], errors="coerce").astype(float)
    missing_tick = fills["tick_size"].isna()
    fills.loc[missing_tick, "tick_size"] = [ticks.size(t, None, p) for t, p in zip(
        fills.loc[missing_tick, "ticker"], fills.loc[missing_tick, "point_value"])]
    # a pair leg has no price of its own to compare with: its pair is judged as a whole
    reference = fills["alert_price"].where(fills["alert_id"].notna(), fills["price_hint"])
    fills["reference_price"] = reference.where(fills["pair_group"].isna() & fills["entry"])
    sign = fills["side"].map(SIGN).astype(float)  # float even when no fill is left (an empty map keeps str)
    fills["slippage"] = (fills["price"] - fills["reference_price"]) * sign
    fills["slippage_ticks"] = fills["slippage"] / fills["tick_size"]
    fills["slippage_bps"] = fills["slippage"] / fills["reference_price"].abs() * 1e4
    fills["slippage_cost"] = fills["slippage"] * fills["qty"] * fills["point_value"]
    fills["latency_ms"] = _ms(fills["time"], fills["alert_received_at"])
    fills["gross_pnl"] = fills["realized_pnl"] + fills["commission"]
    fills["cumulative_pnl"] = fills["realized_pnl"].cumsum()
    fills["ticker_key"] = fills["alert_ticker"].fillna(fills["ticker"])
    fills["day"] = _day(fills["time"])
    return fills


EXECUTION_COLUMNS = ["kind", "alert_id", "strategy", "ticker_key", "destination", "side", "qty", "price",
                     "reference_price", "slippage", "slippage_ticks", "slippage_bps", "slippage_cost", "time", "day",
                     "execution_id"]
NUMERIC_EXECUTION_COLUMNS = ("qty", "price", "reference_price", "slippage", "slippage_ticks", "slippage_bps",
                             "slippage_cost")


def _single_executions(fills: pd.DataFrame) -> pd.DataFrame:
    single = fills[fills["slippage"].notna()].copy()
    single["kind"] = "fill"
    single["execution_id"] = single["fill_id"]
    return single.reindex(columns=EXECUTION_COLUMNS)


def _dec(value) -> Decimal | None:
    return None if value is None or pd.isna(value) else Decimal(repr(float(value)))


def _pair_executions(pairs: pd.DataFrame, orders: pd.DataFrame, fills: pd.DataFrame, ticks: TickSizes) -> pd.DataFrame:
    """One row per pair group whose two legs both have fills: the spread's fill price and slippage."""
    legs = {(row.pair_group, row.leg): row for row in orders[orders["pair_group"].notna()].itertuples(index=False)}
    last_fill = fills[fills["pair_group"].notna()].groupby("pair_group")["time"].max()
    rows = []
    for group in pairs.itertuples(index=False):
        def leg(key: str, ticker: str) -> Leg:
            row = legs.get((group.pair_group, key))
            if row is None:
                return Leg(ticker, Decimal(0))
            return Leg(row.ticker, _dec(row.qty), _dec(row.filled_qty) or Decimal(0), _dec(row.avg_price))

        pair = PairFill(Side(group.side), _dec(group.hedge), _dec(group.order_price),
                        leg("1", group.ticker1), leg("2", group.ticker2))
        if pair.fill_price is None:
            continue
        point_value = float(legs[(group.pair_group, "1")].point_value)
        slippage = None if pair.slippage is None else -float(pair.slippage)  # the domain's sign: + is better
        gross = float(abs(pair.leg1.avg_price) + abs(pair.hedge) * abs(pair.leg2.avg_price))
        qty = float(pair.leg1.filled_qty)
        time = last_fill.get(group.pair_group, pd.NaT)
        rows.append({
            "kind": "pair", "alert_id": group.alert_id, "strategy": group.strategy,
            "destination": group.destination, "side": group.side, "qty": qty, "price": float(pair.fill_price),
            "reference_price": group.order_price, "slippage": slippage,
            "slippage_ticks": None if slippage is None else slippage / ticks.size(group.ticker1, None, point_value),
            "slippage_bps": None if slippage is None else slippage / gross * 1e4,
            "slippage_cost": None if slippage is None else slippage * qty * point_value,
            "time": time, "execution_id": group.pair_group,
        })
    frame = pd.DataFrame(rows, columns=EXECUTION_COLUMNS)
    if not frame.empty:
        frame["ticker_key"] = [legs[(g, "1")].ticker_key for g in frame["execution_id"]]
        frame["time"] = pd.to_datetime(frame["time"], utc=True)
        frame["day"] = _day(frame["time"])
    return frame


def eastern_wall_clock(times: pd.Series) -> pd.Series:
    """UTC times as naive US/Eastern wall-clock times (formatted by numpy in C, not per row)."""
    return times.dt.tz_convert(EASTERN).dt.tz_localize(None)


def _day(times: pd.Series) -> pd.Series:
    """The US/Eastern date of each time, as text (for grouping and the CSV files)."""
    days = np.datetime_as_string(eastern_wall_clock(times).to_numpy(dtype="datetime64[D]"), unit="D")
    return pd.Series(days, index=times.index, dtype=object).where(times.notna())


def _alerts(tables: Tables, orders: pd.DataFrame, fills: pd.DataFrame, executions: pd.DataFrame) -> pd.DataFrame:
    alerts = tables.alerts.copy()
    ids = alerts["alert_id"]
    of_alert = orders[orders["alert_id"].notna() & orders["entry"]].copy()
    of_alert["port"] = ~of_alert["reports_fills"]
    of_alert["open"] = of_alert["reports_fills"] & of_alert["status"].isin(OPEN_STATUSES)
    of_alert["rejected"] = of_alert["reports_fills"] & (of_alert["status"] == "rejected")
    by_order = of_alert.groupby("alert_id")
    per_order = pd.concat([_order_texts(of_alert), pd.DataFrame({
        "orders": by_order.size(), "port_orders": by_order["port"].sum(),
        "open_orders": by_order["open"].sum(), "rejected_orders": by_order["rejected"].sum(),
    })], axis=1)
    by_reporting = of_alert[of_alert["reports_fills"]].groupby("alert_id")
    per_reporting = pd.DataFrame({"ordered_qty": by_reporting["qty"].sum(), "filled_qty": by_reporting["filled_qty"].sum(),
                                  "reporting_orders": by_reporting.size()})
    alert_fills = fills[fills["alert_id"].notna()]
    by_fill = alert_fills[alert_fills["entry"]].groupby("alert_id")
    every_fill = alert_fills.groupby("alert_id")  # its exits' too: the commission and PnL of the whole trade
    per_fill = pd.DataFrame({
        "fills": by_fill.size(), "first_fill_at": by_fill["time"].min(), "last_fill_at": by_fill["time"].max(),
        "commission": every_fill["commission"].sum(), "realized_pnl": every_fill["realized_pnl"].sum(),
    })
    alert_exec = executions[executions["alert_id"].notna()].astype({"alert_id": "Int64"})
    per_exec = _weighted(alert_exec, "alert_id", ["price", "slippage", "slippage_ticks", "slippage_bps"], "qty")
    per_exec = per_exec.rename(columns={"price": "avg_fill_price"})
    per_exec["slippage_cost"] = alert_exec.groupby("alert_id")["slippage_cost"].sum(min_count=1)
    duplicates = tables.duplicates.groupby("original_alert_id").size()

    for frame in (per_order, per_reporting, per_fill, per_exec):
        frame.index = frame.index.astype("Int64")
        alerts = alerts.join(frame, on="alert_id")
    alerts["duplicates"] = _lookup(duplicates, ids).fillna(0).astype(int)
    for column in ("orders", "port_orders", "fills", "open_orders", "rejected_orders", "reporting_orders"):
        alerts[column] = alerts[column].fillna(0).astype(int)
    alerts["fill_ratio"] = alerts["filled_qty"] / alerts["ordered_qty"].replace(0.0, np.nan)
    alerts["tv_to_received_ms"] = _ms(alerts["received_at"], alerts["sent_at"])
    alerts["received_to_committed_ms"] = _ms(alerts["committed_at"], alerts["received_at"])
    alerts["committed_to_routed_ms"] = _ms(alerts["routed_at"], alerts["committed_at"])
    alerts["received_to_routed_ms"] = _ms(alerts["routed_at"], alerts["received_at"])
    alerts["routed_to_first_fill_ms"] = _ms(alerts["first_fill_at"], alerts["routed_at"])
    alerts["received_to_first_fill_ms"] = _ms(alerts["first_fill_at"], alerts["received_at"])
    alerts["outcome"] = [_outcome(*row) for row in zip(
        alerts["status"], alerts["reporting_orders"], alerts["port_orders"], alerts["ordered_qty"],
        alerts["filled_qty"], alerts["rejected_orders"], alerts["open_orders"])]
    alerts["strategies"] = [[s] if isinstance(s, str) and s else (list(o) if isinstance(o, list) and o else [NONE])
                            for s, o in zip(alerts["strategy"], alerts["order_strategies"])]
    alerts["destination_keys"] = [d.split(";") if isinstance(d, str) and d else [NONE] for d in alerts["destinations"]]
    alerts["day"] = _day(alerts["received_at"])
    return alerts.drop(columns=["order_strategies"])


def _order_texts(orders: pd.DataFrame) -> pd.DataFrame:
    """Per alert: its destinations, order statuses with counts, order reasons and strategies.

    One pass in plain Python: a pandas aggregation calling a function per alert is a hundred
    times slower with tens of thousands of alerts.
    """
    found: dict[int, tuple[set, dict, dict, set]] = {}
    for alert_id, destination, status, reason, strategy in zip(
            orders["alert_id"], orders["destination"], orders["status"], orders["reason"], orders["strategy"]):
        destinations, statuses, reasons, strategies = found.setdefault(int(alert_id), (set(), {}, {}, set()))
        destinations.add(destination)
        statuses[status] = statuses.get(status, 0) + 1
        if isinstance(reason, str) and reason:
            reasons[reason] = None
        if isinstance(strategy, str) and strategy:
            strategies.add(strategy)
    frame = pd.DataFrame(
        [(";".join(sorted(d)), ";".join(f"{k}:{v}" for k, v in sorted(st.items())), "; ".join(r), sorted(sg))
         for d, st, r, sg in found.values()],
        index=pd.Index(list(found), dtype="Int64", name="alert_id"),
        columns=["destinations", "order_statuses", "order_reasons", "order_strategies"])
    return frame


def _outcome(status, reporting, ports, ordered, filled, rejected, open_) -> str:
    """What became of an alert, in a word or two (routing status first, then its orders)."""
    if status != "routed":
        return status  # queued (not routed yet), unrouted, rejected
    if not reporting:
        return "sent" if ports else "no orders"
    if ordered > 0 and filled >= ordered:
        return "filled"
    if filled > 0:
        return "partially filled"
    if rejected == reporting:
        return "orders rejected"
    if open_:
        return "working"
    return "not filled"
