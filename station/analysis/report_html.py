"""The report as one self-contained HTML page: inline CSS (light and dark), inline SVG charts, no network."""

from __future__ import annotations

import math
from datetime import datetime
from html import escape
from typing import Callable, Sequence

import pandas as pd

from station.analysis import svg
from station.analysis.summaries import equity_curve, latency_percentiles, not_traded, worst_slippages
from station.domain.timeutil import EASTERN

MAX_ROWS = 200
PALETTE_LIGHT = ("#2563eb", "#db2777", "#059669", "#d97706", "#7c3aed", "#0891b2")
PALETTE_DARK = ("#60a5fa", "#f472b6", "#34d399", "#fbbf24", "#a78bfa", "#22d3ee")


def _css() -> str:
    light = "".join(f"--s{i}:{c};" for i, c in enumerate(PALETTE_LIGHT))
    dark = "".join(f"--s{i}:{c};" for i, c in enumerate(PALETTE_DARK))
    series = "".join(f"svg .line.s{i}{{stroke:var(--s{i})}}.legend i.s{i}{{background:var(--s{i})}}" for i in range(6))
    return (
        ":root{color-scheme:light dark;--bg:#fff;--fg:#1d2330;--muted:#5b6575;--line:#dde2ea;--card:#f4f6f9;"
        f"--accent:#2563eb;--good:#15803d;--bad:#c2410c;{light}}}"
        "@media (prefers-color-scheme:dark){:root{--bg:#14171c;--fg:#e6e9ef;--muted:#9aa4b2;--line:#2f3542;"
        f"--card:#1c2129;--accent:#60a5fa;--good:#4ade80;--bad:#fb923c;{dark}}}}}"
        "body{background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"
        "margin:0 auto;max-width:1240px;padding:20px 24px 48px}"
        "h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;padding-top:8px;"
        "border-top:1px solid var(--line)}p{margin:6px 0}.meta,.note,.empty{color:var(--muted)}"
        "nav a{color:var(--accent);margin-right:14px;text-decoration:none}nav{margin:10px 0 4px}"
        ".kpis{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:8px}"
        ".kpi{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:8px 10px}"
        ".kpi b{display:block;font-size:19px;font-variant-numeric:tabular-nums}.kpi span{color:var(--muted);"
        "font-size:12px}.wrap{overflow-x:auto}table{border-collapse:collapse;width:100%;"
        "font-variant-numeric:tabular-nums;font-size:12.5px}th{text-align:left;color:var(--muted);font-weight:600;"
        "border-bottom:2px solid var(--line);white-space:normal;vertical-align:bottom}th,td{padding:4px 6px;border-bottom:1px solid var(--line)}"
        "td{white-space:nowrap}td.wide{white-space:normal;min-width:260px}.n{text-align:right}"
        "tbody tr:hover{background:var(--card)}.neg{color:var(--bad)}.pos{color:var(--good)}"
        "svg.chart{width:100%;height:auto;max-width:880px;display:block}svg text{fill:var(--muted);font-size:11px}"
        "svg .label{font-size:12px}svg .grid{stroke:var(--line)}svg .zero{stroke:var(--muted)}"
        "svg .line{fill:none;stroke-width:1.5}svg .line.total{stroke-width:2.5}svg .bar{fill:var(--accent)}"
        ".legend span{margin-right:16px;color:var(--muted);font-size:12px}.legend i{display:inline-block;"
        "width:10px;height:10px;margin-right:5px;border-radius:2px}"
        f"svg .bar.adverse{{fill:var(--bad)}}svg .bar.better{{fill:var(--good)}}{series}"
    )


# ---- cell formats -----------------------------------------------------------------------------------

def _missing(value) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def fmt_ms(value: float) -> str:
    """A latency with its unit: 12.3 ms, 1.25 s, 4.2 min."""
    size = abs(value)
    if size < 1000:
        return f"{value:,.1f} ms"
    if size < 60_000:
        return f"{value / 1000:,.2f} s"
    return f"{value / 60_000:,.1f} min"


def fmt_time(value) -> str:
    return pd.Timestamp(value).tz_convert(EASTERN).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


FORMATS: dict[str, Callable] = {
    "text": lambda v: str(v), "int": lambda v: f"{int(v):,d}", "num": lambda v: f"{v:,.2f}",
    "price": lambda v: f"{v:.10g}", "pct": lambda v: f"{v:.1%}", "ms": fmt_ms, "money": lambda v: f"{v:,.2f}",
    "cost": lambda v: f"{v:,.2f}",
    "time": fmt_time,
}


def table(frame: pd.DataFrame, columns: Sequence[tuple[str, str, str]], *, limit: int = MAX_ROWS,
          more: str = "") -> str:
    """An HTML table of `frame`'s `(column, header, format)`; at most `limit` rows, then a note."""
    if frame.empty:
        return '<p class="empty">None.</p>'
    head = "".join(f'<th class="{"" if kind in ("text", "time", "wide") else "n"}">{escape(title)}</th>'
                   for _, title, kind in columns)
    rows = []
    for record in frame.head(limit).itertuples(index=False):
        values = record._asdict()
        cells = []
        for column, _, kind in columns:
            value = values.get(column)
            if _missing(value) or value == "":
                cells.append('<td class="n">—</td>' if kind not in ("text", "wide") else "<td></td>")
                continue
            text = escape(FORMATS.get(kind, str)(value))
            cls = {"text": "", "time": "", "wide": "wide"}.get(kind, "n")
            if kind in ("money", "cost") and value:
                cls += " neg" if (value < 0) == (kind == "money") else " pos"
            cells.append(f'<td class="{cls.strip()}">{text}</td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    note = ""
    if len(frame) > limit:
        note = f'<p class="note">{len(frame) - limit:,d} more rows in {escape(more)}.</p>'
    return f'<div class="wrap"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>{note}'


SUMMARY_COLUMNS = [
    ("alerts", "alerts", "int"), ("routed", "routed", "int"), ("unrouted", "unrouted", "int"),
    ("rejected", "rejected", "int"), ("orders", "orders", "int"), ("fills", "fills", "int"),
    ("fill_rate", "fill rate", "pct"), ("slippage_median_ticks", "slip. median (ticks)", "num"),
    ("slippage_p95_ticks", "slip. p95 (ticks)", "num"), ("slippage_median_bps", "slip. median (bps)", "num"),
    ("slippage_cost", "slippage cost", "cost"), ("fill_latency_median_ms", "latency median", "ms"),
    ("fill_latency_p95_ms", "latency p95", "ms"), ("realized_pnl", "realised PnL", "money"),
    ("commission", "commission", "num"),
]


def _kpis(figures: dict) -> str:
    def value(key, kind):
        v = figures.get(key)
        return "—" if _missing(v) else FORMATS[kind](v)

    cards = [("alerts", "alerts", "int"), ("routed", "routed", "int"), ("unrouted", "unrouted", "int"),
             ("rejected", "rejected (kill switch, risk)", "int"), ("alerts_filled", "alerts filled in full", "int"),
             ("duplicates_avoided", "duplicates avoided", "int"), ("orders", "orders", "int"),
             ("fills", "fills", "int"), ("fill_rate", "order fill rate", "pct"),
             ("slippage_median_ticks", "median slippage (ticks)", "num"),
             ("slippage_median_bps", "median slippage (bps)", "num"), ("slippage_cost", "slippage cost", "cost"),
             ("fill_latency_median_ms", "alert → fill, median", "ms"), ("fill_latency_p95_ms", "alert → fill, p95", "ms"),
             ("realized_pnl", "realised PnL (net)", "money"), ("commission", "commissions", "num"),
             ("round_trips", "round trips", "int"), ("win_rate", "win rate", "pct"),
             ("profit_factor", "profit factor", "num"), ("max_drawdown", "max drawdown", "cost")]
    return '<div class="kpis">' + "".join(
        f'<div class="kpi"><b>{escape(value(key, kind))}</b><span>{escape(title)}</span></div>'
        for key, title, kind in cards) + "</div>"


def _pnl_chart(matched) -> str:
    curve = equity_curve(matched)
    if curve.empty:
        return svg.step_chart([], label="cumulative PnL", y_label="PnL")
    seconds = (curve["time"] - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy()
    series = [("all strategies", seconds, curve["total"].to_numpy())]
    strategies = curve["strategy"].unique()
    if 1 < len(strategies) <= 5:
        for name in strategies:
            part = curve["strategy"] == name
            series.append((name, seconds[part.to_numpy()], curve.loc[part, "strategy_total"].to_numpy()))
    return svg.step_chart(series, label="cumulative realised PnL", y_label="realised PnL")


TRIP_COLUMNS = [("trades", "round trips", "int"), ("net_pnl", "net PnL", "money"), ("win_rate", "win rate", "pct"),
                ("profit_factor", "profit factor", "num"), ("avg_win", "avg win", "money"),
                ("avg_loss", "avg loss", "money"), ("expectancy", "expectancy", "money"),
                ("max_drawdown", "max drawdown", "cost"), ("commission", "commission", "num")]


def _trips(trips: pd.DataFrame | None) -> str:
    """Round trips by strategy and ticker: the figures a backtest of the same strategy reports."""
    from station.analysis.trips import by

    if trips is None or trips.empty:
        return '<p class="empty">No round trip closed yet.</p>'
    return "".join(f"<h3>By {key}</h3>" + table(by(trips, key), [(key, key, "text"), *TRIP_COLUMNS])
                   for key in ("strategy", "ticker")) + (
        '<p class="note">Flat to flat per strategy and ticker, net of commissions, in money: points × the '
        "ticker's point value (its setting, else the contract's: ES 50, NQ 20, …). All trips in round_trips.csv.</p>")


def render(matched, summaries: dict[str, pd.DataFrame], figures: dict, *, since: datetime | None,
           generated: datetime, trips: pd.DataFrame | None = None) -> str:
    """The whole page."""
    since_text = "all alerts" if since is None else f"alerts received since {fmt_time(since)} ET"
    latency = latency_percentiles(matched)
    worst = worst_slippages(matched)
    missed = not_traded(matched)
    slip_ticks = matched.executions["slippage_ticks"].to_numpy(dtype=float)
    fill_latency = matched.alerts["received_to_first_fill_ms"].to_numpy(dtype=float)
    sections = [
        ("overview", "Overview", _kpis(figures)),
        ("pnl", "Cumulative realised PnL", _pnl_chart(matched) +
         '<p class="note">From the fills, net of commissions; open positions are not marked to market.</p>'),
        ("trips", "Round trips", _trips(trips)),
        *[(f"by-{name}", f"By {name}", table(summaries[name], [(name, name, "text"), *SUMMARY_COLUMNS],
                                              more=f"summary_by_{name}.csv"))
          for name in ("strategy", "ticker", "destination")],
        ("daily", "Daily", table(summaries["day"], [("day", "day (ET)", "text"), *SUMMARY_COLUMNS,
                                                   ("cumulative_pnl", "cumulative PnL", "money")], more="daily.csv")),
        ("latency", "Latency", table(latency, [("stage", "stage", "text"), ("count", "alerts", "int"),
                                               ("p50", "p50", "ms"), ("p90", "p90", "ms"), ("p95", "p95", "ms"),
                                               ("p99", "p99", "ms"), ("max", "max", "ms"), ("mean", "mean", "ms")])
         + svg.histogram(fill_latency, label="alert received to first fill", x_label="received → first fill (ms)")
         + '<p class="note">TradingView → received uses the alert\'s own time field: with {{time}} (the bar\'s '
           'time) rather than {{timenow}} it measures the bar, not the network.</p>'),
        ("slippage", "Slippage", svg.histogram(slip_ticks, label="slippage per execution in ticks",
                                               x_label="slippage (ticks; + is adverse)", signed=True)
         + "<h3>Worst slippages</h3>" + table(worst, [
             ("time", "time (ET)", "time"), ("alert_id", "alert", "int"), ("strategy", "strategy", "text"),
             ("ticker_key", "ticker", "text"), ("destination", "destination", "text"), ("side", "side", "text"),
             ("qty", "qty", "price"), ("reference_price", "reference price", "price"), ("price", "fill price", "price"),
             ("slippage", "slippage", "price"), ("slippage_ticks", "ticks", "num"), ("slippage_bps", "bps", "num"),
             ("slippage_cost", "cost", "cost")])),
        ("not-traded", "Alerts that did not trade", table(missed, [
            ("received_at", "received (ET)", "time"), ("alert_id", "alert", "int"), ("strategy", "strategy", "text"),
            ("ticker", "ticker", "text"), ("action", "action", "text"), ("qty", "qty", "price"),
            ("price", "price", "price"), ("outcome", "outcome", "text"), ("why", "why", "wide")], more="alerts.csv")),
        ("notes", "How to read this", NOTES),
    ]
    nav = "".join(f'<a href="#{key}">{escape(title)}</a>' for key, title, _ in sections[:-1])
    body = "".join(f'<section id="{key}"><h2>{escape(title)}</h2>{content}</section>'
                   for key, title, content in sections)
    return ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta name="color-scheme" content="light dark"><title>Station — alerts vs fills</title>'
            f"<style>{_css()}</style></head><body><header><h1>Alerts vs fills</h1>"
            f'<p class="meta">{escape(since_text)} · generated {escape(fmt_time(generated))} ET · times in US/Eastern'
            f"</p><nav>{nav}</nav></header>{body}</body></html>\n")


NOTES = (
    "<p><b>Slippage</b> compares each fill with the alert's price (a manual order's own price when it has no "
    "alert: the reference price); positive is adverse (a buy filled above "
    "the alert price, a sell below it). Ticks use the ticker's <code>tick_size</code> setting, else the "
    "contract's known tick, else 0.01; bps are relative to the alert price; cost is slippage × quantity × point "
    "value. A pair is judged as a whole: its spread <code>price1 − hedge × price2</code> against the alert's spread "
    "price, in bps of the legs' gross price.</p>"
    "<p><b>Fill rate</b> is the mean of each order's filled / ordered quantity. NinjaTrader TCP ports report no "
    "fills: their alerts count as <i>sent</i>. <b>Latency</b> runs from the alert's receipt (or TradingView's "
    "time) through the journal commit and routing to the first fill. Manual orders appear in fills.csv and the "
    "PnL but have no alert.</p>"
    "<p>The CSV files beside this page hold every row: alerts.csv, fills.csv, summary_by_strategy.csv, "
    "summary_by_ticker.csv, summary_by_destination.csv and daily.csv.</p>"
)
