"""Sweeps: every combination of a grid (`--sweep`) or a search of ranges (`--search`, Optuna), run by an executor.

A grid's rows come back in grid order and are sorted best first by net PnL (ties keep grid order),
so the file is the same however the tasks were run. A search asks Optuna's TPE sampler (seeded) for
as many parameter sets as there are workers at a time, runs them, and tells it their net PnL in the
order asked: the same search gives the same trials. Optuna is the `station[research]` extra (only
`--search` needs it).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any, Callable, Sequence

from station.research.params import SearchRange, apply
from station.research.run import BacktestSpec

Executor = Callable[[Sequence[BacktestSpec]], list[dict]]
SEED = 7


class SearchUnavailable(RuntimeError):
    """Optuna is not installed."""


def run_grid(base: BacktestSpec, combos: list[dict[str, Any]], execute: Executor) -> list[dict]:
    """One row per combination, best first by net PnL."""
    return best_first(execute([base.with_params(combo) for combo in combos]))


def run_search(base: BacktestSpec, ranges: Sequence[SearchRange], trials: int, batch: int,
               execute: Executor) -> list[dict]:
    """`trials` parameter sets chosen by Optuna (maximising net PnL), `batch` at a time; rows best first."""
    try:
        import optuna
    except ImportError:
        raise SearchUnavailable('--search needs Optuna: pip install "station[research]"') from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=SEED))
    rows: list[dict] = []
    while len(rows) < trials:
        asked = [study.ask() for _ in range(min(batch, trials - len(rows)))]
        combos = [_suggest(trial, ranges) for trial in asked]
        for combo in combos:  # a value the engine refuses is an error before anything runs
            apply(base.document["strategies"][base.strategy]["engine"], {**base.params, **combo})
        results = execute([base.with_params(combo) for combo in combos])
        for trial, row in zip(asked, results):
            value = row.get("net_pnl")
            study.tell(trial, float(value) if value is not None and math.isfinite(value) else float("-inf"))
            rows.append({"trial": trial.number, **row})
    return best_first(rows)


def _suggest(trial, ranges: Sequence[SearchRange]) -> dict[str, Any]:
    return {r.key: trial.suggest_int(r.key, int(r.low), int(r.high)) if r.integer
            else trial.suggest_float(r.key, float(r.low), float(r.high)) for r in ranges}


def best_first(rows: list[dict]) -> list[dict]:
    """Sorted by net PnL, highest first; a row without one last; ties in their given order."""
    def key(item):
        index, row = item
        value = row.get("net_pnl")
        return (0, -value, index) if value is not None and math.isfinite(value) else (1, 0, index)
    return [row for _, row in sorted(enumerate(rows), key=key)]


def write_sweep(rows: list[dict], path: Path) -> Path:
    """`sweep.csv`: one row per parameter set, its parameters first."""
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: _cell(row.get(key)) for key in columns})
    return path


def _cell(value: Any) -> Any:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.10g}"
    return value
