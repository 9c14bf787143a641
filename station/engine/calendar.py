"""Exchange sessions from the maintained `exchange_calendars` library: holidays and early closes.

Loading a calendar costs a few hundred milliseconds (pandas, the library's tables), so
the runner loads the names it needs in a thread at start; after that every question is
answered from a per-day cache.
"""

from __future__ import annotations

import threading
import warnings
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from station.domain.config import RoutingConfig
from station.domain.timeutil import UTC

FIRST_YEAR = 2018  # history the engine may replay; a shorter range loads faster


class CalendarError(ValueError):
    """An unknown calendar name or a day the calendar does not cover."""


class TradingCalendars:
    """Regular sessions (open, close in UTC) per exchange calendar (`XNYS`, `CMES`, …) and day."""

    def __init__(self) -> None:
        self._calendars: dict[str, object] = {}
        self._sessions: dict[tuple[str, date], tuple[datetime, datetime] | None] = {}
        self._lock = threading.Lock()

    def load(self, name: str):
        """The calendar named `name` (blocking the first time: call it from a thread)."""
        calendar = self._calendars.get(name)
        if calendar is None:
            import exchange_calendars as xc

            with self._lock:
                calendar = self._calendars.get(name)
                if calendar is None:
                    try:
                        with warnings.catch_warnings():  # the library's own pandas deprecations
                            warnings.simplefilter("ignore")
                            calendar = xc.get_calendar(name, start=f"{FIRST_YEAR}-01-01")
                    except xc.errors.InvalidCalendarName:
                        raise CalendarError(f"unknown exchange calendar {name!r}") from None
                    self._calendars[name] = calendar
        return calendar

    def timezone(self, name: str) -> ZoneInfo:
        """The exchange's time zone."""
        return ZoneInfo(str(self.load(name).tz))

    def session(self, name: str, day: date) -> tuple[datetime, datetime] | None:
        """(open, close) in UTC of the regular session on `day`, early closes included; None on a holiday or weekend."""
        key = (name, day)
        if key in self._sessions:
            return self._sessions[key]
        import pandas as pd

        calendar = self.load(name)
        stamp = pd.Timestamp(day)
        if stamp < calendar.first_session or stamp > calendar.last_session:
            raise CalendarError(f"{name} calendar covers {calendar.first_session.date()} to "
                                f"{calendar.last_session.date()}, not {day}")
        result = None
        with warnings.catch_warnings():  # the library's own pandas deprecations, not ours to act on
            warnings.simplefilter("ignore")
            is_session = calendar.is_session(stamp)
            open_, close = calendar.session_open_close(stamp) if is_session else (None, None)
        if is_session:
            result = (open_.to_pydatetime().astimezone(UTC), close.to_pydatetime().astimezone(UTC))
        self._sessions[key] = result
        return result

    def session_at(self, name: str, at: datetime) -> tuple[datetime, datetime] | None:
        """The session of the exchange-local day of `at` (None when that day has none)."""
        return self.session(name, at.astimezone(self.timezone(name)).date())

    def early_close(self, name: str, day: date) -> bool:
        """True when `day`'s session closes before the calendar's usual close."""
        session = self.session(name, day)
        if session is None:
            return False
        calendar = self.load(name)
        usual = calendar.close_times[-1][1]
        local_close = session[1].astimezone(self.timezone(name))
        return local_close.time() < usual


def minutes_before(at: datetime, minutes: float) -> datetime:
    return at - timedelta(minutes=minutes)


def calendar_names(config: RoutingConfig) -> set[str]:
    """Exchange calendars the config's strategies and risk windows use."""
    names = set()
    for strategy in config.strategies:
        engine = strategy.options.get("engine") or {}
        if engine.get("kind") == "zero_dte":
            names.add(engine.get("calendar") or "XNYS")
        window = (strategy.options.get("risk") or {}).get("window")
        if window:
            names.add(window.get("calendar") or "XNYS")
    return names
