"""The risk gate every order passes (`RiskGate`), and its two simplest rules: the kill switch and max size.

Rules follow `station.domain.risk.RiskRule`; the first reason returned refuses the order.
The whole list, in the order it is asked, is built by `station.oms.risk.build_gate`.
"""

from __future__ import annotations

import logging

from station.domain.orders import OrderRequest
from station.domain.risk import BookView, RiskRule
from station.oms.risk.limits import RiskLimits, reduces_position

log = logging.getLogger("station.oms")


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

    def __init__(self, limits: RiskLimits) -> None:
        self.limits = limits

    def check(self, request: OrderRequest, book: BookView) -> str | None:
        limit = self.limits.max_order_qty()
        if limit and request.qty > limit:
            return f"order qty {request.qty} exceeds the maximum of {limit} per order"
        return None


class RiskGate:
    """Runs every rule for an order; a rule that raises refuses the order (fail safe) and is logged."""

    def __init__(self, book: BookView, rules: list[RiskRule] | None = None) -> None:
        self.book = book
        self.rules: list[RiskRule] = list(rules or [])

    def add(self, rule: RiskRule) -> None:
        """Add a rule, asked after those already there."""
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
