"""Running the analysis: read the store, match, summarise, write the CSV files and the HTML page."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from station.analysis.instruments import PointValues
from station.analysis.load import load_tables
from station.analysis.matching import Matched, eastern_wall_clock, match
from station.analysis.options import AnalysisError, prepare_out_dir
from station.analysis.report_html import FORMATS, render
from station.analysis.summaries import DIMENSIONS, overview, summary
from station.analysis.ticks import TickSizes
from station.analysis.trips import live_trips, trip_figures
from station.domain.numbers import decimal_or_none
from station.domain.timeutil import utc_now
from station.store.config_repo import ConfigRepository
from station.store.database import Store

ALERT_CSV = [
    "alert_id", "received_at", "sent_at", "committed_at", "routed_at", "first_fill_at", "last_fill_at", "source",
    "strategy", "ticker", "ticker1", "hedge", "ticker2", "action", "qty", "price", "trade_id", "position",
    "target_position", "status", "status_reason", "outcome", "orders", "destinations", "order_statuses",
    "order_reasons", "ordered_qty", "filled_qty", "fill_ratio", "fills", "avg_fill_price", "slippage",
    "slippage_ticks", "slippage_bps", "slippage_cost", "commission", "realized_pnl", "tv_to_received_ms",
    "received_to_committed_ms", "committed_to_routed_ms", "received_to_routed_ms", "routed_to_first_fill_ms",
    "received_to_first_fill_ms", "duplicates",
]
FILL_CSV = [
    "fill_id", "time", "alert_id", "alert_received_at", "strategy", "alert_ticker", "ticker", "destination",
    "client_order_id", "pair_group", "leg", "side", "qty", "price", "alert_price", "reference_price", "slippage",
    "slippage_ticks", "slippage_bps", "slippage_cost", "tick_size", "point_value", "commission", "realized_pnl",
    "gross_pnl", "cumulative_pnl", "latency_ms",
]
CSV_FILES = ("alerts.csv", "fills.csv", "summary_by_strategy.csv", "summary_by_ticker.csv",
             "summary_by_destination.csv", "daily.csv", "round_trips.csv")
TRIP_CSV = ["strategy", "entry_time", "exit_time", "ticker", "side", "qty", "entry_price", "exit_price", "pnl_points",
            "pnl", "commission", "point_value"]


@dataclass(frozen=True)
class Report:
    """Where the report went and its headline figures."""

    out_dir: Path
    html: Path
    figures: dict
    files: tuple[Path, ...] = field(default=())

    def summary_lines(self) -> list[str]:
        """A few lines for the terminal or a status bar."""
        f = self.figures

        def show(key: str, kind: str) -> str:
            value = f.get(key)
            missing = value is None or (isinstance(value, float) and math.isnan(value))
            return "n/a" if missing else FORMATS[kind](value)

        return [
            f"Report written to {self.html}",
            f"Alerts: {f['alerts']} ({f['routed']} routed, {f['unrouted']} unrouted, {f['rejected']} rejected, "
            f"{f['queued']} queued); {f['alerts_filled']} filled in full; {f['duplicates_avoided']} duplicates avoided",
            f"Orders: {f['orders']} ({f['orders_rejected']} rejected); fills: {f['fills']}; "
            f"order fill rate {show('fill_rate', 'pct')}",
            f"Slippage: median {show('slippage_median_ticks', 'num')} ticks ({show('slippage_median_bps', 'num')} bps); "
            f"cost {show('slippage_cost', 'money')}",
            f"Alert to first fill: median {show('fill_latency_median_ms', 'ms')}, p95 {show('fill_latency_p95_ms', 'ms')}",
            f"Realised PnL {show('realized_pnl', 'money')} (commissions {show('commission', 'money')})",
            f"Round trips: {f.get('round_trips', 0)}, net {show('trips_net_pnl', 'money')}; win rate "
            f"{show('win_rate', 'pct')}, profit factor {show('profit_factor', 'num')}, max drawdown "
            f"{show('max_drawdown', 'money')}",
        ]


def _eastern_text(series: pd.Series) -> pd.Series:
    """ISO times in US/Eastern with their offset, to the millisecond ('' when unset)."""
    # numpy formats naive times in C; strftime on aware times runs per row in Python (50x slower)
    local = eastern_wall_clock(series)
    minutes = ((local - series.dt.tz_localize(None)).dt.total_seconds() // 60).fillna(0).astype(int)
    offsets = {m: f"{'-' if m < 0 else '+'}{abs(m) // 60:02d}:{abs(m) % 60:02d}" for m in set(minutes)}
    text = np.datetime_as_string(local.to_numpy(dtype="datetime64[ms]"), unit="ms")
    out = pd.Series(text, index=series.index, dtype=object) + minutes.map(offsets)
    return out.where(series.notna(), "")


FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value):
    """A text cell a spreadsheet would run as a formula (`=HYPERLINK(…)`, `+1+cmd`), quoted with a leading '.

    Numbers stay numbers ("-12.5" is a loss, not a formula); only text is touched.
    """
    if isinstance(value, str) and value.startswith(FORMULA_LEADS) and decimal_or_none(value.strip()) is None:
        return "'" + value
    return value


def _csv(frame: pd.DataFrame, columns: list[str], path: Path) -> Path:
    out = frame.reindex(columns=columns).copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.DatetimeTZDtype):
            out[column] = _eastern_text(out[column])
        elif out[column].dtype == object or pd.api.types.is_string_dtype(out[column].dtype):
            out[column] = out[column].map(neutralize)
    out.to_csv(path, index=False, float_format="%.10g", lineterminator="\n")
    return path


def write_report(matched: Matched, out_dir: Path, *, since: datetime | None = None) -> Report:
    """Write the six CSV files and report.html into `out_dir` (which must exist)."""
    summaries = {name: summary(matched, name) for name in DIMENSIONS}
    trips = live_trips(matched)
    figures = {**overview(matched), **trip_figures(trips)}
    try:
        files = [_csv(matched.alerts, ALERT_CSV, out_dir / "alerts.csv"),
                 _csv(matched.fills, FILL_CSV, out_dir / "fills.csv")]
        for name in ("strategy", "ticker", "destination"):
            frame = summaries[name]
            files.append(_csv(frame, list(frame.columns), out_dir / f"summary_by_{name}.csv"))
        files.append(_csv(summaries["day"], list(summaries["day"].columns), out_dir / "daily.csv"))
        files.append(_csv(trips, TRIP_CSV, out_dir / "round_trips.csv"))
        html = out_dir / "report.html"
        html.write_text(render(matched, summaries, figures, since=since, generated=utc_now(), trips=trips),
                        encoding="utf-8")
    except OSError as exc:
        raise AnalysisError(f"cannot write the report into {out_dir}: {exc.strerror or exc}") from None
    return Report(out_dir, html, figures, tuple(files) + (html,))


def run_analysis(store: Store, out_dir: Path, *, since: datetime | None = None) -> Report:
    """Read the store (alerts received at or after `since`), write the report into `out_dir`."""
    out_dir = prepare_out_dir(out_dir)
    config = ConfigRepository(store).load()
    ticks, points = TickSizes.from_config(config), PointValues.from_config(config)
    return write_report(match(load_tables(store, since), ticks, points), out_dir, since=since)
