"""The engine's risk rules (behind the oms's hook, `station.domain.risk.RiskRule`) and position sizing."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from station.domain.timeutil import utc_now


def build_risk(bus, book, load_config: Callable, load_settings: Callable[[], dict[str, Any]], calendars,
               clock: Callable[[], datetime] = utc_now):
    """The engine's risk rules for the oms (`RiskRule`s reading its `BookView`) and the daily loss guard
    (a component) that flattens and halts a scope whose loss reached its limit."""
    from station.oms.risk.limits import RiskLimits
    from station.oms.risk.loss_guard import DailyLossGuard
    from station.oms.risk.rules import engine_rules

    limits = RiskLimits(load_config, load_settings)
    guard = DailyLossGuard(bus, book, limits, clock=clock)
    return engine_rules(limits, calendars, guard.breached, clock), guard
