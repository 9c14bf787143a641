"""The one position limit: no order may take a destination's position in a ticker past its limit."""

from __future__ import annotations

from station.domain.orders import OrderRequest
from station.domain.risk import BookView
from station.oms.risk.limits import RiskLimits


class MaxPositionRule:
    """The position in a ticker at a destination, with the orders in flight there, may not grow past the
    tightest limit that applies (see `RiskLimits.max_position`); an order that shrinks it always passes."""

    name = "max position"

    def __init__(self, limits: RiskLimits) -> None:
        self.limits = limits

    def check(self, request: OrderRequest, book: BookView) -> str | None:
        limit = self.limits.max_position(request)
        if limit is None:
            return None
        held = book.position(request.destination, request.ticker)
        working = book.working_qty(request.destination, request.ticker)
        current = held + working
        after = current + request.side.sign * request.qty
        if abs(after) > limit and abs(after) > abs(current):
            in_flight = f" and {working:+} in flight" if working else ""
            return (f"position in {request.ticker} at {request.destination} would be {after}, beyond the maximum "
                    f"of {limit} (holding {held}{in_flight}; {request.side} {request.qty})")
        return None
