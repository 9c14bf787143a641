"""A cap on how much a strategy has open at once: working orders and held exits alike (`risk.max_open_orders`)."""

from __future__ import annotations

from station.domain.enums import OrderRole
from station.domain.orders import OrderRequest
from station.domain.risk import BookView
from station.oms.risk.limits import RiskLimits, _limit, reduces_position


def _bracket_size(request: OrderRequest) -> int:
    """The entry and the exits it will bring along (held until it fills, open all the same)."""
    instructions = request.alert.instructions if request.alert is not None else None
    if instructions is None or request.role is not OrderRole.ENTRY:
        return 1
    return 1 + sum(x is not None for x in (instructions.stop_loss, instructions.take_profit, instructions.trailing_stop))


class MaxOpenOrdersRule:
    """No more than `risk.max_open_orders` open orders per strategy (0 = no limit), counting working orders and
    held exits, and the exits a bracket entry brings; an order that only reduces a position always passes."""

    name = "max open orders"

    def __init__(self, limits: RiskLimits) -> None:
        self.limits = limits

    def check(self, request: OrderRequest, book: BookView) -> str | None:
        limit = _limit(self.limits.settings.get("max_open_orders"))
        open_orders = getattr(book, "open_orders", None)
        if limit is None or open_orders is None or reduces_position(request, book):
            return None
        held = sum(1 for o in open_orders() if o.request.strategy == request.strategy)
        after = held + _bracket_size(request)
        if after > limit:
            return (f"{request.strategy or 'no strategy'} would have {after} open orders (working and held exits), "
                    f"beyond the maximum of {limit}")
        return None
