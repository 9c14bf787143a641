"""Time helpers: everything is timezone-aware; stored in UTC, shown in exchange time."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime, timezone, tzinfo
from typing import Callable, Iterator
from zoneinfo import ZoneInfo

UTC = timezone.utc
EASTERN = ZoneInfo("America/New_York")


_clock: Callable[[], datetime] | None = None  # a backtest's market clock, else the wall clock


def utc_now() -> datetime:
    """The current time, aware, in UTC (a backtest's market time while `market_clock` holds)."""
    return datetime.now(UTC) if _clock is None else _clock()


@contextmanager
def market_clock(clock: Callable[[], datetime]) -> Iterator[None]:
    """Within the block `utc_now()` reads `clock`: a backtest runs the live pipeline on its data's time, so
    fills, journal rows and risk windows are stamped as if it happened then (and the same file gives the same
    files). Only for a process of its own (a backtest worker): the whole process follows the clock."""
    global _clock
    previous, _clock = _clock, clock
    try:
        yield
    finally:
        _clock = previous


def require_aware(value: datetime, name: str = "time") -> datetime:
    """Return `value` if it carries a time zone, else raise ValueError naming it."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")
    return value


def to_eastern(value: datetime) -> datetime:
    """The same instant in US/Eastern (with the offset in force that day)."""
    return require_aware(value).astimezone(EASTERN)


def parse_utc(text: str) -> datetime:
    """Parse an ISO-8601 time; a time without zone is taken as UTC (TradingView's {{time}})."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_eastern(text: str) -> datetime:
    """Parse an ISO-8601 time; a time without zone is US/Eastern (a script on a US trader's PC)."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=EASTERN)
    return value.astimezone(UTC)


def local_time(day: date, hhmm: str, tz: tzinfo) -> datetime:
    """`HH:MM` on `day` in `tz` (an exchange's zone), as an aware datetime in UTC."""
    hours, minutes = (int(part) for part in hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=tz).astimezone(UTC)
