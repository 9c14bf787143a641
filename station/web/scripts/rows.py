"""Parsing the script feed's CSV texts into domain rows; a malformed row is named by its line.

A timestamp is epoch seconds (or milliseconds) or ISO-8601; without a zone it is
US/Eastern, the trader's own clock (CONTRACT.md). Market data rows become `MarketDataRow`s, which the bar builders take as
`MarketDataReceived` (the same path as trades).

Both CSVs of one upload are checked completely before anything is applied, so
the good rows of a bad upload are never half-applied.
"""

from __future__ import annotations

import csv
import io
import math
from datetime import datetime, timezone
from decimal import Decimal
from typing import Callable

from station.domain.enums import Side
from station.domain.marketdata import MarketDataRow
from station.domain.script_feed import ScriptTrade
from station.domain.numbers import decimal_or_none
from station.domain.timeutil import parse_eastern

TRADE_COLUMNS = ("timestamp", "symbol", "side", "quantity", "price", "profit_loss", "strategy")
TRADE_REQUIRED = ("timestamp", "symbol", "side", "quantity", "price")
BAR_COLUMNS = ("timestamp", "symbol", "open", "high", "low", "close", "volume", "rsi", "signal_strength")
BAR_REQUIRED = ("timestamp", "symbol", "open", "high", "low", "close")
MAX_ROWS = 50_000
SIDES = {"buy": Side.BUY, "sell": Side.SELL, "long": Side.BUY, "short": Side.SELL,
         "b": Side.BUY, "s": Side.SELL}


class CsvRowError(ValueError):
    """A CSV was refused; `problems` lists (line number, why), `field` names the CSV."""

    def __init__(self, field: str, problems: list[tuple[int, str]]) -> None:
        self.field, self.problems = field, problems
        first = "; ".join(f"line {line}: {why}" for line, why in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(f"{field} {first}{more}")


def _timestamp(text: str) -> datetime:
    text = text.strip()
    number = decimal_or_none(text)
    if number is not None:  # epoch seconds, or milliseconds when it is that large
        try:
            seconds = float(number / 1000 if number > Decimal("1e11") else number)
            return datetime.fromtimestamp(seconds, timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"timestamp {text[:40]!r} is not a time this century") from None
    try:
        return parse_eastern(text.replace("/", "-"))
    except ValueError:
        raise ValueError(f"timestamp {text[:40]!r} is not an ISO-8601 time") from None


def _decimal(text: str, name: str, *, positive: bool) -> Decimal:
    value = decimal_or_none(text.strip())
    if value is None:
        raise ValueError(f"{name} {text[:40]!r} is not a number")
    if abs(value) > Decimal("1e12"):
        raise ValueError(f"{name} {text[:40]!r} is not a sensible number")
    if positive and value <= 0:
        raise ValueError(f"{name} must be greater than 0, got {text[:40]!r}")
    return value


def _float(text: str, name: str, *, minimum: float | None = None, maximum: float | None = None) -> float:
    number = decimal_or_none(text.strip())
    if number is None:
        raise ValueError(f"{name} {text[:40]!r} is not a number")
    value = float(number)
    if not math.isfinite(value) or abs(value) > 1e12:
        raise ValueError(f"{name} {text[:40]!r} is not a sensible number")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum:g}, got {text[:40]!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be at most {maximum:g}, got {text[:40]!r}")
    return value


def _optional(value: str | None, convert: Callable[[str], object]):
    return None if value is None or not value.strip() else convert(value)


def _trade(row: dict[str, str]) -> ScriptTrade:
    side = SIDES.get(row["side"].strip().lower())
    if side is None:
        raise ValueError(f"side {row['side']!r} must be buy or sell")
    symbol = row["symbol"].strip().upper()
    if not symbol:
        raise ValueError("symbol is empty")
    return ScriptTrade(
        timestamp=_timestamp(row["timestamp"]), symbol=symbol, side=side,
        quantity=_decimal(row["quantity"], "quantity", positive=True),
        price=_decimal(row["price"], "price", positive=True),
        profit_loss=_optional(row.get("profit_loss"), lambda t: _decimal(t, "profit_loss", positive=False)),
        strategy=(row.get("strategy") or "").strip() or None,
    )


def _bar(row: dict[str, str]) -> MarketDataRow:
    symbol = row["symbol"].strip().upper()
    if not symbol:
        raise ValueError("symbol is empty")
    o, h, l, c = (_float(row[k], k) for k in ("open", "high", "low", "close"))
    if min(o, h, l, c) <= 0:
        raise ValueError("prices must be greater than 0")
    if h < max(o, c, l) or l > min(o, c, h):
        raise ValueError(f"high {h:g} / low {l:g} do not contain open {o:g} and close {c:g}")
    return MarketDataRow(
        time=_timestamp(row["timestamp"]), symbol=symbol, open=o, high=h, low=l, close=c,
        volume=_optional(row.get("volume"), lambda t: _float(t, "volume", minimum=0)) or 0.0,
        rsi=_optional(row.get("rsi"), lambda t: _float(t, "rsi", minimum=0, maximum=100)),
        signal_strength=_optional(row.get("signal_strength"), lambda t: _float(t, "signal_strength")),
    )


def _parse(field: str, text: str, required: tuple[str, ...], make: Callable[[dict], object]) -> list:
    if not text.strip():
        return []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [name.strip().lower() for name in next(reader)]
    except csv.Error as exc:
        raise CsvRowError(field, [(1, f"unreadable header: {exc}")]) from None
    missing = [name for name in required if name not in header]
    if missing:
        raise CsvRowError(field, [(1, f"missing column(s) {', '.join(missing)} (have: {', '.join(header)})")])
    rows, problems = [], []
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append((reader.line_num, f"unreadable row: {exc}"))
            break
        if not any(v.strip() for v in values):
            continue
        line = reader.line_num
        if len(values) != len(header):
            problems.append((line, f"has {len(values)} fields, the header has {len(header)}"))
            continue
        try:
            rows.append(make(dict(zip(header, values))))
        except ValueError as exc:
            problems.append((line, str(exc)))
        if len(rows) > MAX_ROWS:
            problems.append((line, f"more than {MAX_ROWS} rows in one upload"))
            break
    if problems:
        raise CsvRowError(field, problems)
    return rows


def parse_trades(text: str) -> list[ScriptTrade]:
    """Rows of a trades CSV; CsvRowError names every malformed line."""
    return _parse("trades_csv", text, TRADE_REQUIRED, _trade)


def parse_market_data(text: str) -> list[MarketDataRow]:
    """Rows of a market data CSV; CsvRowError names every malformed line."""
    return _parse("market_data_csv", text, BAR_REQUIRED, _bar)
