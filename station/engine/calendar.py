"""Exchange sessions from the maintained `exchange_calendars` library: holidays and early closes.

Loading a calendar costs a few hundred milliseconds (pandas, the library's tables), so
the runner loads the names it needs in a thread at start; after that every question is
answered from a per-day cache.
"""

from __future__ import annotations

import threading
import warnings
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from station.domain.config import RoutingConfig
from station.domain.timeutil import UTC

FIRST_YEAR = 2018  # history the engine may replay; a shorter range loads faster
# exchange_calendars' CMES runs each session to 17:00 CT, the end of CME Globex's daily maintenance halt;
# trading stops at 16:00 CT, so a session's last tradable minute is the halt's start (exchange-local time)
DAILY_HALT = {"CMES": time(16, 0)}


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

    def session_of(self, name: str, at: datetime) -> tuple[date, datetime, datetime] | None:
        """The session `at` falls in, as (its date, open, close in UTC) with the close at the daily halt;
        between sessions, the one of `at`'s exchange-local date (None when that date has none).

        A futures session opens the evening before its date (CMES: 17:00 CT), so the local date of
        `at` is not always its session's: `minute_to_session` knows which one it is.
        """
        import pandas as pd

        calendar = self.load(name)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                label = calendar.minute_to_session(pd.Timestamp(at).tz_convert(UTC), direction="next").date()
        except ValueError as exc:  # before the first or after the last minute the calendar covers
            raise CalendarError(f"{name} calendar does not cover {at:%Y-%m-%d %H:%M} UTC ({exc})") from None
        session = self._halted(name, self.session(name, label))
        if session is not None and session[0] <= at < session[1]:
            return label, *session
        today = at.astimezone(self.timezone(name)).date()
        session = self._halted(name, self.session(name, today))
        return None if session is None else (today, *session)

    def _halted(self, name: str, session: tuple[datetime, datetime] | None) -> tuple[datetime, datetime] | None:
        """`session` with its close moved to the exchange's daily halt where that comes first."""
        halt = DAILY_HALT.get(name)
        if session is None or halt is None:
            return session
        tz = self.timezone(name)
        halted = datetime.combine(session[1].astimezone(tz).date(), halt, tz).astimezone(UTC)
        return session[0], min(session[1], halted)

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
