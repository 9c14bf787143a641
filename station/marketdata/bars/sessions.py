"""Exchange trading sessions: when a market trades, in its own time zone, and which symbol trades when.

A session belongs to a trading day D and opens at local midnight of D plus
`open_offset` (negative for markets that open the evening before, like CME
Globex at 18:00 ET), for `length` of wall-clock time. Time bars are anchored at
the session open and cut at its close; trades outside every session make no bar.
Holidays are not modelled: a day without trades simply has no bars.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

NS = 1_000_000_000
DAY_NS = 86_400 * NS
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class TradingSession:
    """A market's regular session: time zone, open (relative to the trading day), length, trading weekdays."""

    name: str
    tz: str
    open_offset: timedelta
    length: timedelta
    weekdays: frozenset[int] = frozenset(range(5))  # Monday = 0; the trading day, not the evening before

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.tz)

    def bounds(self, day: date) -> tuple[int, int]:
        """(open, close) of trading day `day` in UTC nanoseconds."""
        return _bounds(self, day)

    def sessions(self, start_ns: int, end_ns: int) -> list[tuple[int, int]]:
        """(open, close) in UTC ns of every session overlapping [start_ns, end_ns], in order."""
        first = datetime.fromtimestamp(start_ns // NS, timezone.utc).date() - timedelta(days=2)
        last = datetime.fromtimestamp(end_ns // NS, timezone.utc).date() + timedelta(days=2)
        found = []
        day = first
        while day <= last:
            if day.weekday() in self.weekdays:
                opened, closed = self.bounds(day)
                if closed > start_ns and opened <= end_ns:
                    found.append((opened, closed))
            day += timedelta(days=1)
        return found


@lru_cache(maxsize=None)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=4096)
def _bounds(session: TradingSession, day: date) -> tuple[int, int]:
    midnight = datetime.combine(day, time())
    opened = to_utc_ns(midnight + session.open_offset, session.zone)
    closed = to_utc_ns(midnight + session.open_offset + session.length, session.zone)
    return opened, closed


def to_utc_ns(wall: datetime, zone: ZoneInfo) -> int:
    """A naive local wall-clock time in `zone` as UTC nanoseconds (first occurrence when ambiguous)."""
    return (wall.replace(tzinfo=zone) - EPOCH) // timedelta(microseconds=1) * 1000


def utc_offset_s(ts_ns: int, zone: ZoneInfo) -> int:
    """The zone's UTC offset in seconds at instant `ts_ns`."""
    moment = datetime.fromtimestamp(ts_ns // NS, timezone.utc).astimezone(zone)
    return int(moment.utcoffset().total_seconds())


def next_local_time(after_ns: int, at: time, tz: str = "America/New_York") -> int:
    """The first instant at or after `after_ns` when the clock in `tz` reads `at`, in UTC ns."""
    zone = _zone(tz)
    day = datetime.fromtimestamp(after_ns // NS, timezone.utc).astimezone(zone).date()
    while True:
        candidate = to_utc_ns(datetime.combine(day, at), zone)
        if candidate >= after_ns:
            return candidate
        day += timedelta(days=1)


CME_GLOBEX = TradingSession("cme-globex", "America/New_York", timedelta(hours=-6), timedelta(hours=23))
US_EQUITY = TradingSession("us-equity", "America/New_York", timedelta(hours=9, minutes=30), timedelta(hours=6, minutes=30))
ALWAYS = TradingSession("24x7", "UTC", timedelta(0), timedelta(hours=24), frozenset(range(7)))

SESSIONS = {s.name: s for s in (CME_GLOBEX, US_EQUITY, ALWAYS)}

# Roots of futures that trade on CME Globex hours (18:00–17:00 ET, Sunday to Friday).
CME_ROOTS = frozenset("""
ES MES NQ MNQ RTY M2K YM MYM EMD NKD CL MCL QM NG QG RB HO GC MGC SI SIL HG PL PA
ZB ZN ZF ZT UB TN ZQ SR3 ZC ZS ZW ZL ZM KE 6E 6J 6B 6A 6C 6S 6N 6M M6E M6A BTC MBT ETH MET
""".split())

_CONTINUOUS = re.compile(r"^(?P<root>[A-Z0-9]+)\.(?:[cnv]\.\d+|FUT|OPT)$", re.IGNORECASE)
_CONTRACT = re.compile(r"^(?P<root>[A-Z0-9]{1,4}?)[FGHJKMNQUVXZ]\d{1,2}$")


def symbol_root(symbol: str) -> str:
    """`ES` for `ES`, `ESH5`, `ES.c.0` or `ES.FUT`; other symbols unchanged (upper-cased)."""
    text = symbol.strip().upper()
    match = _CONTINUOUS.match(text)
    if match:
        return match.group("root")
    match = _CONTRACT.match(text)
    if match and match.group("root") in CME_ROOTS:
        return match.group("root")
    return text


def session_for(symbol: str, overrides: dict[str, str] | None = None) -> TradingSession:
    """The session a symbol trades in: an override by symbol or root, CME hours for known futures, else US equities."""
    root = symbol_root(symbol)
    for key in (symbol, symbol.upper(), root):
        name = (overrides or {}).get(key)
        if name:
            try:
                return SESSIONS[name]
            except KeyError:
                raise ValueError(f"unknown session {name!r} for {symbol} (known: {', '.join(SESSIONS)})") from None
    return CME_GLOBEX if root in CME_ROOTS else US_EQUITY
