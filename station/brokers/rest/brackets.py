"""A bracket's exits at a REST broker: they travel with their entry in one request (Tastytrade's OTOCO, Schwab's
TRIGGER with OCO) and are found again among the broker's orders.

Tastytrade lists each exit with our client order id (`external-identifier`); Schwab names only the entry when it
takes the bracket and lists the exits nested in it, so an exit is recognised as the order nested in its entry with
its side and type (a bracket's exits differ in type: a target's limit, a stop, a trailing stop).
"""

from __future__ import annotations

from typing import Container

from station.brokers.rest.snapshots import OrderSnapshot
from station.domain.orders import OrderRequest


class BracketLegs:
    """The exits each bracket entry carries (kept while the broker may still list them)."""

    def __init__(self) -> None:
        self._legs: dict[str, tuple[OrderRequest, ...]] = {}  # entry client order id -> its exits

    def __contains__(self, entry_id: str) -> bool:
        return entry_id in self._legs

    def add(self, entry_id: str, exits: tuple[OrderRequest, ...]) -> None:
        """`entry_id` goes with these exits."""
        self._legs[entry_id] = tuple(exits)

    def attach(self, exit_request: OrderRequest) -> None:
        """One more exit of its entry (a held exit found in the book after a restart)."""
        legs = self._legs.get(exit_request.parent_id, ())
        if all(x.client_order_id != exit_request.client_order_id for x in legs):
            self._legs[exit_request.parent_id] = (*legs, exit_request)

    def of(self, entry_id: str) -> tuple[OrderRequest, ...]:
        """The exits that go with `entry_id` (none: a plain order)."""
        return self._legs.get(entry_id, ())

    def drop(self, entry_id: str) -> tuple[OrderRequest, ...]:
        """Forget the exits of `entry_id` (its bracket was refused: the entry goes alone); returns them."""
        return self._legs.pop(entry_id, ())

    def claim(self, snap: OrderSnapshot, entry_id: str | None, linked: Container[str]) -> OrderRequest | None:
        """The exit a listed order nested in the entry `entry_id` is: the first of its exits not linked yet with
        the order's side and type."""
        if entry_id is None:
            return None
        for leg in self._legs.get(entry_id, ()):
            if leg.client_order_id in linked or leg.side is not snap.side:
                continue
            if snap.order_type is None or snap.order_type is leg.order_type:
                return leg
        return None
