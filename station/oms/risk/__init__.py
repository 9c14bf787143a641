"""Every risk rule an order passes before it reaches a destination, and the daily loss guard.

In the order the gate asks them (the first reason refuses): kill switch, max order size,
max position (working orders counted on their side), max open orders (working orders and held
exits), daily loss, trading window. Exchange calendars come from the engine, handed
in by `station/app.py` (`SessionCalendars`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable

from station.domain.risk import BookView
from station.domain.timeutil import utc_now
from station.oms.risk.daily_loss import DailyLossRule
from station.oms.risk.gate import KillSwitchRule, MaxOrderQtyRule, RiskGate
from station.oms.risk.limits import RiskLimits
from station.oms.risk.open_orders import MaxOpenOrdersRule
from station.oms.risk.position import MaxPositionRule
from station.oms.risk.window import SessionCalendars, TradingWindowRule


def build_gate(book: BookView, limits: RiskLimits, calendars: SessionCalendars,
               breached: Callable[[str | None], bool], clock: Callable[[], datetime] = utc_now) -> RiskGate:
    """The gate with every rule, in the order they are asked."""
    return RiskGate(book, [KillSwitchRule(), MaxOrderQtyRule(limits), MaxPositionRule(limits),
                           MaxOpenOrdersRule(limits), DailyLossRule(limits, breached), TradingWindowRule(limits, calendars, clock)])
