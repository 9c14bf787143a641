"""Trading windows: a strategy with a `risk.window` opens positions only inside it, on its exchange's sessions.

The exchange calendars (holidays, early closes) are the engine's; `station/app.py` hands
them in as `SessionCalendars`. An order that only reduces a position always passes, so
an auto-close is never blocked by the window that asked for it.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import Callable, Protocol

from station.domain.orders import OrderRequest
from station.domain.risk import BookView
from station.domain.timeutil import local_time, utc_now
from station.oms.risk.limits import RiskLimits, reduces_position


class SessionCalendars(Protocol):
    """Exchange sessions by calendar name (`XNYS`, `CMES`, …); a ValueError names an unknown calendar or day."""

    def timezone(self, name: str) -> tzinfo:
        """The exchange's time zone."""

    def session(self, name: str, day: date) -> tuple[datetime, datetime] | None:
        """(open, close) in UTC of the regular session on `day`, early closes included; None when there is none."""

    def session_of(self, name: str, at: datetime) -> tuple[date, datetime, datetime] | None:
        """The session `at` falls in, as (its date, open, close in UTC) with the close at the daily halt;
        between sessions, the one of `at`'s exchange-local date (None when that date has none)."""


class TradingWindowRule:
    """A strategy with a `risk.window` opens positions only inside it, in the exchange's time: on its
    calendar's sessions (no holidays), from `start` (default the open) to `end` (default the close),
    the end clipped to an early close.

    The session is the one the moment belongs to (a CME session opens at 17:00 CT the evening
    before its date), and `start`/`end` are read on that session's date."""

    name = "trading_window"

    def __init__(self, limits: RiskLimits, calendars: SessionCalendars,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self.limits = limits
        self.calendars = calendars
        self.clock = clock

    def check(self, request: OrderRequest, book: BookView) -> str | None:
        window = self.limits.for_strategy(request.strategy).get("window")
        if not window or reduces_position(request, book):
            return None
        return self.outside(window, self.clock(), request.strategy)

    def outside(self, window: dict, now: datetime, strategy: str | None) -> str | None:
        """Why `now` is outside `window`, or None."""
        name = window.get("calendar") or "XNYS"
        try:
            tz = self.calendars.timezone(name)
            session = self.calendars.session_of(name, now)
        except ValueError as exc:  # an unknown calendar, or a time it does not cover
            return f"trading window of {strategy}: {exc}"
        if session is None:
            return f"{strategy} trades on {name} sessions only: {now.astimezone(tz).date()} has none (holiday or weekend)"
        day, open_, close = session
        start = local_time(day, window["start"], tz) if window.get("start") else open_
        end = local_time(day, window["end"], tz) if window.get("end") else close
        early = close < end
        end = min(end, close)
        if not start <= now < end:
            shown = f"{start.astimezone(tz):%H:%M}-{end.astimezone(tz):%H:%M} {name} time"
            return (f"{strategy} trades {shown}{' (early close today)' if early else ''}; "
                    f"it is {now.astimezone(tz):%H:%M}")
        return None
