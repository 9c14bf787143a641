"""The one position limit: no order may take a destination's position in a ticker past its limit."""

from __future__ import annotations

from decimal import Decimal

from station.domain.orders import OrderRequest
from station.domain.risk import BookView
from station.oms.risk.limits import RiskLimits

ZERO = Decimal(0)


def _working_sides(book: BookView, destination: str, ticker: str) -> tuple[Decimal, Decimal]:
    sides = getattr(book, "working_sides", None)
    if sides is not None:
        return sides(destination, ticker)
    working = book.working_qty(destination, ticker)  # a book that only knows the net in flight
    return max(working, ZERO), max(-working, ZERO)


class MaxPositionRule:
    """The position in a ticker at a destination may not grow past the tightest limit that applies (see
    `RiskLimits.max_position`) if every working order on its side filled too: a resting limit cannot carry
    it past the limit when it fills later. A bracket's protective exits are counted as what they are (they
    only take their own entry's position back), so they neither offset an entry nor add to it. An order that
    shrinks the position always passes."""

    name = "max position"

    def __init__(self, limits: RiskLimits) -> None:
        self.limits = limits

    def check(self, request: OrderRequest, book: BookView) -> str | None:
        limit = self.limits.max_position(request)
        if limit is None or request.protective:
            return None
        held = book.position(request.destination, request.ticker)
        buys, sells = _working_sides(book, request.destination, request.ticker)
        # the far end of where working orders on this order's side may take the position
        current = held + buys if request.side.sign > 0 else held - sells
        working = buys if request.side.sign > 0 else -sells
        after = current + request.side.sign * request.qty
        if abs(after) > limit and abs(after) > abs(current):
            in_flight = f" and {working:+} in flight" if working else ""
            return (f"position in {request.ticker} at {request.destination} would be {after}, beyond the maximum "
                    f"of {limit} (holding {held}{in_flight}; {request.side} {request.qty})")
        return None
