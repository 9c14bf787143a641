"""The oms's own risk rules (max size per order, max position per ticker, kill switch) and the gate.

Rules follow `station.domain.risk.RiskRule`; the engine adds its own to the
same list (wired in `station/app.py`). The first reason returned refuses the order.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Callable

from station.domain.orders import OrderRequest
from station.domain.risk import BookView, RiskRule

log = logging.getLogger("station.oms")


def reduces_position(request: OrderRequest, book: BookView) -> bool:
    """True if the order only brings the destination's position closer to flat (never through it)."""
    held = book.position(request.destination, request.ticker, request.strategy)
    signed = request.qty * request.side.sign
    return held != 0 and (held > 0) != (signed > 0) and abs(signed) <= abs(held)


class KillSwitchRule:
    """While the kill switch is engaged only orders that close positions pass."""

    name = "kill switch"

    def check(self, request: OrderRequest, book: BookView) -> str | None:
        if book.kill_switch_engaged and not reduces_position(request, book):
            return "kill switch engaged: trading is halted until it is re-armed"
        return None


class MaxOrderQtyRule:
    """No single order larger than the limit (settings risk.max_order_qty, 0 = no limit)."""

    name = "max order qty"

    def __init__(self, limit: Callable[[OrderRequest], Decimal | None]) -> None:
        self._limit = limit

    def check(self, request: OrderRequest, book: BookView) -> str | None:
        limit = self._limit(request)
        if limit and request.qty > limit:
            return f"order qty {request.qty} exceeds the maximum of {limit} per order"
        return None


class MaxPositionRule:
    """No order that would take a destination's position in a ticker beyond the limit (orders in flight count)."""

    name = "max position"

    def __init__(self, limit: Callable[[OrderRequest], Decimal | None],
                 working: Callable[[str, str], Decimal]) -> None:
        self._limit = limit
        self._working = working

    def check(self, request: OrderRequest, book: BookView) -> str | None:
        limit = self._limit(request)
        if not limit:
            return None
        current = book.position(request.destination, request.ticker) + self._working(request.destination, request.ticker)
        after = current + request.qty * request.side.sign
        if abs(after) > limit and abs(after) > abs(current):
            return (f"position in {request.ticker} at {request.destination} would be {after}, "
                    f"beyond the maximum of {limit}")
        return None


class RiskGate:
    """Runs every rule for an order; a rule that raises refuses the order (fail safe) and is logged."""

    def __init__(self, book: BookView, rules: list[RiskRule] | None = None) -> None:
        self.book = book
        self.rules: list[RiskRule] = list(rules or [])

    def add(self, rule: RiskRule) -> None:
        """Add a rule (the engine's rules are added in station/app.py)."""
        self.rules.append(rule)

    def check(self, request: OrderRequest) -> str | None:
        for rule in self.rules:
            try:
                reason = rule.check(request, self.book)
            except Exception as exc:  # a broken rule must not let orders through unchecked
                log.exception("risk rule %s failed", getattr(rule, "name", rule))
                return f"risk rule {getattr(rule, 'name', rule)} failed: {exc}"
            if reason:
                return f"{reason} ({rule.name})" if rule.name not in reason else reason
        return None
