"""Daily loss limits: the guard watches today's PnL and, on a breach, flattens that scope and halts it;
the rule then lets only orders through that reduce a position, until the next session."""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime
from typing import Callable

from station.bus import Bus
from station.domain.commands import ClosePosition, FlattenAll, HaltStrategy
from station.domain.events import Notified, OrderFilled, PositionChanged
from station.domain.orders import OrderRequest
from station.domain.risk import BookView
from station.domain.timeutil import to_eastern, utc_now
from station.oms.risk.limits import RiskLimits, pnl_today, reduces_position

log = logging.getLogger("station.oms.risk")
OVERALL = None


class DailyLossRule:
    """After today's loss reached a limit (the strategy's `risk.daily_loss_limit`, or the overall one in
    settings), only orders that reduce a position are sent until the next session."""

    name = "daily_loss"

    def __init__(self, limits: RiskLimits, breached: Callable[[str | None], bool] = lambda scope: False) -> None:
        self.limits = limits
        self.breached = breached

    def check(self, request: OrderRequest, book: BookView) -> str | None:
        if reduces_position(request, book):
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


class DailyLossGuard:
    """A component: checks after every fill and position change, and every `interval_s` (marks move)."""

    name = "loss-guard"

    def __init__(self, bus: Bus, book: BookView, limits: RiskLimits, *, clock: Callable[[], datetime] = utc_now,
                 interval_s: float = 1.0) -> None:
        self.bus = bus
        self.book = book
        self.limits = limits
        self.clock = clock
        self.interval_s = interval_s
        self.day: date | None = None
        self._breached: set[str | None] = set()
        self._unsubscribe: list[Callable[[], None]] = []
        self._task: asyncio.Task | None = None

    def breached(self, scope: str | None) -> bool:
        """True once `scope` (a strategy, or None for overall) hit its limit today."""
        self._roll_day(self.clock())
        return scope in self._breached

    async def start(self) -> None:
        for kind in (OrderFilled, PositionChanged):
            self._unsubscribe.append(self.bus.subscribe(kind, lambda _event: self.check()))
        self._task = asyncio.create_task(self._poll(), name="loss-guard")

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                self.check()
            except Exception:  # a book that cannot answer now must not end the watch
                log.exception("daily loss check failed")

    def check(self) -> None:
        """Compare today's PnL with each limit; act once per scope and day."""
        now = self.clock()
        self._roll_day(now)
        for strategy in self.limits.config.strategies:
            limit = self.limits.strategy_loss_limit(strategy.name)
            if limit is None or strategy.name in self._breached:
                continue
            pnl = pnl_today(self.book, strategy.name)
            if pnl <= -limit:
                self._breached.add(strategy.name)
                reason = f"daily loss limit {limit} reached (PnL today {pnl})"
                for ticker in strategy.tickers:
                    if self.book.net_position(ticker.ticker, strategy.name) != 0:
                        self.bus.publish(ClosePosition(f"loss-{strategy.name}-{self.day}-{ticker.ticker}",
                                                       strategy.name, ticker.ticker))
                self.bus.publish(HaltStrategy(strategy.name, reason))
                self._tell(f"{strategy.name}: {reason}; its positions are being closed")
        overall = self.limits.overall_loss_limit()
        if overall is not None and OVERALL not in self._breached:
            pnl = pnl_today(self.book, None)
            if pnl <= -overall:
                self._breached.add(OVERALL)
                reason = f"overall daily loss limit {overall} reached (PnL today {pnl})"
                if self.limits.settings.get("flatten_on_loss", True):
                    self.bus.publish(FlattenAll(reason=reason))
                self.bus.publish(HaltStrategy("*", reason))
                self._tell(reason + "; flattening everything")

    def _roll_day(self, now: datetime) -> None:
        day = to_eastern(now).date()
        if day != self.day:
            self.day = day
            self._breached.clear()

    def _tell(self, message: str) -> None:
        log.error("%s", message)
        self.bus.publish(Notified("Daily loss limit", message, "error", kind="loss-limit"))
