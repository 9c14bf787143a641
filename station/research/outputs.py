"""A backtest's files: `trades.csv`, `equity.csv`, `summary.json` and `report.html` (CONTRACT.md, "Backtests").

Times are written in US/Eastern with their offset (as `station analyze` writes them), money in
cents, and nothing that changes from run to run (no run time, no temporary path): the same
inputs always give the same bytes.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from station.domain.timeutil import EASTERN
from station.research.report import render_report
from station.research.run import BacktestResult, BacktestSpec, period_label

TRADE_COLUMNS = ["entry_time", "exit_time", "ticker", "side", "qty", "entry_price", "exit_price", "pnl_points", "pnl"]
EQUITY_COLUMNS = ["time", "pnl", "equity", "drawdown"]
SUMMARY_KEYS = ("trades", "net_pnl", "gross_profit", "gross_loss", "win_rate", "profit_factor", "max_drawdown",
                "sharpe", "commission")


class OutputError(OSError):
    """The output folder cannot be written; the message says why."""


def eastern(series: pd.Series) -> pd.Series:
    """Aware times as ISO text in US/Eastern with the offset of that day, to the microsecond."""
    times = pd.to_datetime(series, utc=True).dt.tz_convert(EASTERN)
    return times.map(lambda t: t.isoformat(timespec="microseconds"))


def summary_document(spec: BacktestSpec, result: BacktestResult) -> dict[str, Any]:
    """`summary.json`: the contract's keys first, then the other figures and what was run."""
    summary = result.summary
    document: dict[str, Any] = {key: summary.get(key) for key in SUMMARY_KEYS}
    document.update({key: value for key, value in summary.items() if key not in document})
    document["run"] = {"strategy": spec.strategy, "data": Path(spec.data).name, "params": dict(spec.params),
                       "period": period_label(spec.start_ns, spec.end_ns),
                       "commission_per_contract": spec.commission, "slippage_ticks": spec.slippage_ticks,
                       "split": spec.split}
    return _finite(document)


def summary_line(spec: BacktestSpec, result: BacktestResult) -> str:
    """`--json`: the summary as one JSON line."""
    return json.dumps(summary_document(spec, result), separators=(",", ":"))


def write_outputs(spec: BacktestSpec, result: BacktestResult, out_dir: Path) -> list[Path]:
    """Write the four files into `out_dir` (made if missing); OutputError when it cannot be written."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        trades = result.trips.reindex(columns=TRADE_COLUMNS).copy()
        for column in ("entry_time", "exit_time"):
            trades[column] = eastern(trades[column]) if len(trades) else trades[column]
        equity = result.equity.reindex(columns=EQUITY_COLUMNS).copy()
        equity["time"] = eastern(equity["time"])
        paths = [out_dir / "trades.csv", out_dir / "equity.csv", out_dir / "summary.json", out_dir / "report.html"]
        trades.to_csv(paths[0], index=False, float_format="%.10g", lineterminator="\n")
        equity.to_csv(paths[1], index=False, float_format="%.10g", lineterminator="\n")
        paths[2].write_text(json.dumps(summary_document(spec, result), indent=2) + "\n", encoding="utf-8")
        paths[3].write_text(render_report(spec, result), encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write the backtest into {out_dir}: {exc.strerror or exc}") from None
    return paths


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: those figures are null (undefined)."""
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
