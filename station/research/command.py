"""`station backtest …` (CONTRACT.md, "Backtests"): the arguments, their checks, and the run.

Everything the user gives is checked before any work starts (the strategy exists and has an engine,
the file is DBN with trades of its tickers, every parameter set passes the engine's schema, the
output folder can be written): a problem is one `CommandError` line (exit 2), nothing written.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from station.domain.timeutil import EASTERN, UTC, utc_now
from station.paths import writable_folder
from station.research import params as parameters
from station.research.contracts import contracts_text
from station.research.data import DataError, check_data

NO_END = 2**63 - 1  # no --to: to the end of the file (the feed's own NO_END)


class CommandError(Exception):
    """A problem the user can fix: one line on stderr, exit code 2."""


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{value:g} is not between 0 and 1 (the in-sample share)")
    return value


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a number of at least 0")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The subcommand's own words."""
    parser.add_argument("--strategy", required=True, metavar="NAME", help="an engine strategy of the config")
    parser.add_argument("--data", required=True, type=Path, metavar="FILE.dbn", help="DBN trades (plain or zstd)")
    parser.add_argument("--from", dest="start", metavar="T", help="first time (ISO; US/Eastern unless it names a zone)")
    parser.add_argument("--to", dest="end", metavar="T", help="end time, not included")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override an engine key")
    parser.add_argument("--sweep", action="append", default=[], metavar="KEY=V1,V2,…", help="a grid of values")
    parser.add_argument("--search", action="append", default=[], metavar="KEY=LOW:HIGH", help="a range to search")
    parser.add_argument("--trials", type=_positive_int, default=20, metavar="N", help="parameter sets of a search")
    parser.add_argument("--split", type=_fraction, metavar="F", help="in-sample share of the period, e.g. 0.7")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_positive_int, metavar="N", help="local processes (default: the cores)")
    where.add_argument("--cluster", metavar="tcp://HOST:PORT", help="an existing Dask scheduler")
    parser.add_argument("--ship-data", action="store_true", help="send the file to every Dask worker once")
    parser.add_argument("--commission", type=_non_negative, default=0.0, metavar="PER_CONTRACT",
                        help="money per contract on every fill")
    parser.add_argument("--slippage-ticks", type=_non_negative, default=0.0, metavar="N",
                        help="ticks against the trader on fills at a trade's price")
    parser.add_argument("--out", type=Path, metavar="DIR", help="default: <data dir>/exports/backtest-<time>/")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON line")


def parse_time(text: str, flag: str) -> int:
    """An ISO date (midnight US/Eastern) or time (US/Eastern unless it names its zone) as UTC ns."""
    value = text.strip()
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise CommandError(f"{flag} {text!r} is not an ISO date or time (e.g. 2025-05-15 or 2025-05-15T09:30)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=EASTERN)
    from station.marketdata.trades import to_ns

    return to_ns(moment.astimezone(UTC))


def default_out_dir(data_dir: Path) -> Path:
    stamp = utc_now().astimezone(EASTERN).strftime("%Y%m%d-%H%M%S")
    base = Path(data_dir) / "exports" / f"backtest-{stamp}"
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


def run(args: argparse.Namespace, data_dir: Path, open_config: Callable[[], Any]) -> int:
    """Check everything, run the backtest or the sweep, write the files; 0."""
    from station.research.config import backtest_document
    from station.research.run import BacktestSpec

    try:
        overrides = dict(parameters.parse_set(item) for item in args.set)
        sweeps = [parameters.parse_sweep(item) for item in args.sweep]
        ranges = [parameters.parse_search(item) for item in args.search]
        if sweeps and ranges:
            raise CommandError("--sweep and --search do not go together: a grid or a search")
        if args.ship_data and not args.cluster:
            raise CommandError("--ship-data sends the file to Dask workers: it needs --cluster")
        if args.cluster is not None:
            _check_cluster(args.cluster)
        start = parse_time(args.start, "--from") if args.start else 0
        end = parse_time(args.end, "--to") if args.end else NO_END
        if start >= end:
            raise CommandError("--from must be before --to")
        repo = open_config()
        document = backtest_document(repo, args.strategy)
        engine = document["strategies"][args.strategy]["engine"]
        combos = parameters.grid(sweeps)
        engines = [parameters.apply(engine, {**overrides, **combo}) for combo in combos]  # all checked up front
        engines += [parameters.apply(engine, {**overrides, r.key: int(r.low) if r.integer else r.low}) for r in ranges]
    except parameters.ParamError as exc:
        raise CommandError(str(exc)) from None
    try:
        check_data(args.data, list(document["strategies"][args.strategy]["tickers"]),
                   {e["timeframe"] for e in engines if e.get("timeframe")})
    except DataError as exc:
        raise CommandError(str(exc)) from None
    spec = BacktestSpec(args.strategy, document, str(args.data.expanduser().absolute()), overrides, start, end,
                        args.commission, args.slippage_ticks, args.split)
    out_path = args.out if args.out is not None else default_out_dir(data_dir)
    made = not out_path.expanduser().exists()
    out_dir = _writable(out_path)
    try:
        if sweeps or ranges:
            return _sweep(args, spec, combos, ranges, out_dir)
        return _single(args, spec, out_dir)
    except CommandError:
        if made:  # a run that failed (a file cut off, a cluster out of reach) leaves no empty folder behind
            try:
                out_dir.rmdir()
            except OSError:
                pass
        raise


def _check_cluster(address: str) -> None:
    from station.research.executors import ClusterError, check_scheduler_address

    try:
        check_scheduler_address(address)
    except ClusterError as exc:
        raise CommandError(str(exc)) from None


def _writable(path: Path) -> Path:
    try:
        return writable_folder(path)
    except ValueError as exc:
        raise CommandError(str(exc)) from None


def _single(args, spec, out_dir: Path) -> int:
    from station.marketdata.databento.files import DbnError
    from station.research.outputs import OutputError, summary_document, summary_line, write_outputs
    from station.research.pipeline import PipelineError
    from station.research.run import run_backtest

    try:
        result = run_backtest(spec)
        write_outputs(spec, result, out_dir)
    except (OutputError, PipelineError, DbnError) as exc:
        raise CommandError(str(exc)) from None
    if args.json:
        print(summary_line(spec, result))
    else:
        s = summary_document(spec, result)
        print(f"Backtest written to {out_dir}")
        print(f"{s['trades']} round trips, net PnL {s['net_pnl']:,.2f}, win rate "
              f"{_pct(s['win_rate'])}, profit factor {_num(s['profit_factor'])}, max drawdown "
              f"{s['max_drawdown']:,.2f}, commissions {s['commission']:,.2f}")
        if s.get("contracts"):
            print(f"Traded {contracts_text(s['contracts'])}")
    return 0


def _sweep(args, spec, combos, ranges, out_dir: Path) -> int:
    from station.marketdata.databento.files import DbnError
    from station.research import executors, sweep
    from station.research.pipeline import PipelineError

    if args.cluster:
        def execute(specs):
            return executors.run_dask(specs, args.cluster, ship_data=args.ship_data)
        batch = 2 * max(1, args.workers or 1)
    else:
        workers = args.workers or executors.default_workers()

        def execute(specs):
            return executors.run_local(specs, workers)
        batch = workers
    try:
        rows = (sweep.run_search(spec, ranges, args.trials, batch, execute) if ranges
                else sweep.run_grid(spec, combos, execute))
        path = sweep.write_sweep(rows, out_dir / "sweep.csv")
    except (executors.ClusterError, sweep.SearchUnavailable, DbnError, PipelineError) as exc:  # raised by a task
        raise CommandError(str(exc)) from None
    except OSError as exc:
        raise CommandError(f"cannot write the sweep into {out_dir}: {exc.strerror or exc}") from None
    if args.json:
        print(json.dumps({"sweep": str(path), "rows": rows}, separators=(",", ":")))
    else:
        best = rows[0] if rows else {}
        print(f"Sweep of {len(rows)} parameter sets written to {path}")
        if best:
            print("best: " + ", ".join(f"{k}={v}" for k, v in best.items() if k not in sweep_figures())
                  + f" → net PnL {best.get('net_pnl')}")
    return 0


def sweep_figures() -> set[str]:
    from station.research.tasks import HALF_KEYS, ROW_KEYS

    return set(ROW_KEYS) | {f"{p}_{k}" for p in ("is", "oos") for k in HALF_KEYS} | {"trial"}


def _pct(value) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _num(value) -> str:
    return "n/a" if value is None else f"{value:.2f}"
