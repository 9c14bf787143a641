"""Pair orders (ticker1 − hedge × ticker2): the spread's fill price, slippage and what each leg still needs."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from station.domain.enums import Side


@dataclass(frozen=True, slots=True)
class Leg:
    """One leg's order figures."""

    ticker: str
    qty: Decimal
    filled_qty: Decimal = Decimal(0)
    avg_price: Decimal | None = None

    @property
    def remaining_qty(self) -> Decimal:
        return self.qty - self.filled_qty


@dataclass(frozen=True, slots=True)
class PairFill:
    """A pair order's state as the pairs servers report it."""

    side: Side
    hedge: Decimal
    order_price: Decimal | None
    leg1: Leg
    leg2: Leg

    @property
    def fill_price(self) -> Decimal | None:
        """`price1 − hedge × price2` of the legs' average fill prices; None until both legs have fills."""
        if self.leg1.avg_price is None or self.leg2.avg_price is None:
            return None
        return self.leg1.avg_price - self.hedge * self.leg2.avg_price

    @property
    def slippage(self) -> Decimal | None:
        """(order price − fill price) for a buy, the negative for a sell: positive is better than asked."""
        fill = self.fill_price
        if fill is None or self.order_price is None:
            return None
        return (self.order_price - fill) if self.side is Side.BUY else (fill - self.order_price)

    @property
    def complete(self) -> bool:
        return self.leg1.remaining_qty == 0 and self.leg2.remaining_qty == 0
