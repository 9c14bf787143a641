"""Whether a data file can feed a backtest: checked before anything runs (the CLI and the Backtest dock alike)."""

from __future__ import annotations

from pathlib import Path


class DataError(ValueError):
    """The file cannot feed this backtest; the message says why."""


def check_data(path: Path, tickers: list[str], timeframes: set[str] = frozenset()) -> None:
    """The file is DBN with trades (or bars, for time bars), and of at least one of the strategy's tickers (or
    of contracts of its root, `research/contracts.py`)."""
    from station.marketdata.bars.timeframes import parse_timeframe
    from station.marketdata.databento.files import DbnError, DbnFile
    from station.research.contracts import contracts_of

    try:
        dbn = DbnFile(path)
        if not dbn.has_trades:
            raise DbnError(f"{path}: schema {dbn.schema} carries no trades")
    except DbnError as exc:
        raise DataError(str(exc)) from None
    names = set(dbn.names.names)
    if names and not names & set(tickers) and not contracts_of(sorted(names), tickers):
        raise DataError(f"{path} has no trades of {', '.join(tickers)} (it has {', '.join(sorted(names))})")
    ticks = sorted(t for t in timeframes if parse_timeframe(t).is_tick)
    if ticks and dbn.schema.startswith("ohlcv"):  # a bar's four prints make time bars, never tick bars
        raise DataError(f"{path} holds {dbn.schema} bars: {', '.join(ticks)} bars need trades (a trades or mbp-1 file)")
