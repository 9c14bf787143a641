"""The engine's risk rules for the oms's hook: each refuses an order with a reason, or allows it.

Every rule lets an order through that only reduces what its strategy holds at that
destination, so a flatten, a stop or an auto-close is never blocked by the rule that
asked for it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable

from station.domain.orders import OrderRequest
from station.domain.risk import BookView
from station.domain.timeutil import utc_now
from station.engine.calendar import CalendarError, TradingCalendars, local_time
from station.oms.risk.limits import RiskLimits, pnl_today, reduces_exposure


class MaxPositionRule:
    """The position in a ticker at a destination may not grow past its limit (settings
    `risk.max_position_by_ticker`, and the strategy's `risk.max_position`, the tighter one applying).
    The oms's own rule applies the overall `risk.max_position` and a ticker's `max_position`."""

    name = "strategy max position"

    def __init__(self, limits: RiskLimits) -> None:
        self.limits = limits

    def check(self, request: OrderRequest, book: BookView) -> str | None:
        limit = self.limits.max_position(request.strategy, request.ticker)
        if limit is None:
            return None
        held = book.position(request.destination, request.ticker)
        after = held + request.side.sign * request.qty
        if abs(after) > limit and abs(after) > abs(held):
            return (f"max position {limit} {request.ticker} at {request.destination}: holding {held}, "
                    f"{request.side} {request.qty} would make {after}")
        return None


class DailyLossRule:
    """After today's loss reached a limit (the strategy's `risk.daily_loss_limit`, or the overall one in
    settings), only orders that reduce a position are sent until the next session."""

    name = "daily_loss"

    def __init__(self, limits: RiskLimits, breached: Callable[[str | None], bool] = lambda scope: False) -> None:
        self.limits = limits
        self.breached = breached

    def check(self, request: OrderRequest, book: BookView) -> str | None:
        if reduces_exposure(request, book):
            return None
        limit = self.limits.strategy_loss_limit(request.strategy)
        if limit is not None:
            pnl = pnl_today(book, request.strategy)
            if pnl <= -limit or self.breached(request.strategy):
                return f"daily loss limit {limit} of {request.strategy} reached (PnL today {pnl})"
        overall = self.limits.overall_loss_limit()
        if overall is not None:
            pnl = pnl_today(book, None)
            if pnl <= -overall or self.breached(None):
                return f"overall daily loss limit {overall} reached (PnL today {pnl})"
        return None


class TradingWindowRule:
    """A strategy with a `risk.window` opens positions only inside it, in the exchange's time: on its
    calendar's sessions (no holidays), from `start` (default the open) to `end` (default the close),
    the end clipped to an early close."""

    name = "trading_window"

    def __init__(self, limits: RiskLimits, calendars: TradingCalendars,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self.limits = limits
        self.calendars = calendars
        self.clock = clock

    def check(self, request: OrderRequest, book: BookView) -> str | None:
        window = self.limits.for_strategy(request.strategy).get("window")
        if not window or reduces_exposure(request, book):
            return None
        return self.outside(window, self.clock(), request.strategy)

    def outside(self, window: dict, now: datetime, strategy: str | None) -> str | None:
        """Why `now` is outside `window`, or None."""
        name = window.get("calendar") or "XNYS"
        try:
            tz = self.calendars.timezone(name)
            day = now.astimezone(tz).date()
            session = self.calendars.session(name, day)
        except CalendarError as exc:
            return f"trading window of {strategy}: {exc}"
        if session is None:
            return f"{strategy} trades on {name} sessions only: {day} has none (holiday or weekend)"
        start = local_time(day, window["start"], tz) if window.get("start") else session[0]
        end = local_time(day, window["end"], tz) if window.get("end") else session[1]
        early = session[1] < end
        end = min(end, session[1])
        if not start <= now < end:
            shown = f"{start.astimezone(tz):%H:%M}-{end.astimezone(tz):%H:%M} {name} time"
            return (f"{strategy} trades {shown}{' (early close today)' if early else ''}; "
                    f"it is {now.astimezone(tz):%H:%M}")
        return None


def engine_rules(limits: RiskLimits, calendars: TradingCalendars, breached: Callable[[str | None], bool],
                 clock: Callable[[], datetime] = utc_now) -> list:
    """The engine's rules, in the order the oms should ask them (the oms has the kill switch)."""
    return [DailyLossRule(limits, breached), MaxPositionRule(limits), TradingWindowRule(limits, calendars, clock)]
