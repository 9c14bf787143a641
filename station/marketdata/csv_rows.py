"""Market data CSV from scripts (`timestamp,symbol,open,high,low,close,volume,rsi,signal_strength`).

Parsing is all-or-nothing: every bad row is reported with its line number and the
column at fault, and no row of a file with an error is used. Good rows become
`MarketDataRow`s; published as `MarketDataReceived` they feed the bar builders
through the same path as trades (see `TradeBatch.from_rows`).
"""

from __future__ import annotations

import csv
import io
import math
from datetime import datetime, timezone

from station.domain.marketdata import MarketDataRow
from station.domain.timeutil import parse_utc

REQUIRED = ("timestamp", "symbol", "open", "high", "low", "close", "volume")
OPTIONAL = ("rsi", "signal_strength")
MAX_ROWS = 1_000_000


class CsvError(ValueError):
    """A market data CSV that was not used; `errors` lists (line, message) of every problem found."""

    def __init__(self, errors: list[tuple[int, str]]) -> None:
        self.errors = errors
        shown = "; ".join(f"line {line}: {message}" for line, message in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(shown + more)


def parse_market_data_csv(text: str) -> list[MarketDataRow]:
    """The rows of a market data CSV, or CsvError naming every bad line (nothing is half-used)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if header is None:
        raise CsvError([(1, "the file is empty; expected a header " + ",".join(REQUIRED + OPTIONAL))])
    columns = [name.strip().lower() for name in header]
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise CsvError([(1, f"missing column(s) {', '.join(missing)}")])
    index = {name: columns.index(name) for name in REQUIRED + OPTIONAL if name in columns}
    rows, errors = [], []
    for number, fields in enumerate(reader, start=2):
        if not any(f.strip() for f in fields):
            continue
        if len(rows) >= MAX_ROWS:
            errors.append((number, f"more than {MAX_ROWS:,} rows"))
            break
        try:
            rows.append(_row(fields, index))
        except ValueError as exc:
            errors.append((number, str(exc)))
    if errors:
        raise CsvError(errors)
    return rows


def _row(fields: list[str], index: dict[str, int]) -> MarketDataRow:
    def get(name: str) -> str:
        position = index.get(name)
        return fields[position].strip() if position is not None and position < len(fields) else ""

    def number(name: str, optional: bool = False) -> float | None:
        text = get(name)
        if not text:
            if optional:
                return None
            raise ValueError(f"{name} is empty")
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"{name} {text!r} is not a number") from None
        if not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number")
        return value

    symbol = get("symbol")
    if not symbol:
        raise ValueError("symbol is empty")
    o, h, lo, c, v = (number(n) for n in ("open", "high", "low", "close", "volume"))
    if min(o, h, lo, c) <= 0:
        raise ValueError("prices must be greater than 0")
    if h < max(o, c, lo) or lo > min(o, c):
        raise ValueError(f"high {h:g} / low {lo:g} do not contain open {o:g} and close {c:g}")
    if v < 0:
        raise ValueError("volume must not be negative")
    return MarketDataRow(_time(get("timestamp")), symbol.upper(), o, h, lo, c, v, number("rsi", True),
                         number("signal_strength", True))


def _time(text: str) -> datetime:
    """ISO 8601 (no zone: UTC) or epoch seconds / milliseconds."""
    if not text:
        raise ValueError("timestamp is empty")
    try:
        value = float(text)
    except ValueError:
        try:
            return parse_utc(text)
        except ValueError:
            raise ValueError(f"timestamp {text!r} is not an ISO 8601 time or epoch seconds") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"timestamp {text!r} is not a time")
    seconds = value / 1000 if value > 1e11 else value  # milliseconds from JavaScript-style scripts
    return datetime.fromtimestamp(seconds, timezone.utc)
