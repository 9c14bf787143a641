"""The risk hook: rules that may refuse an order before it reaches a destination.

The oms holds the book and calls every rule for every order; the first reason
returned rejects the order (visibly, with that reason). The rules live in
`station/oms/risk/` (kill switch, max size, max position, daily loss, trading window).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from station.domain.orders import OrderRequest


class BookView(Protocol):
    """What a rule may read of the book (implemented by the oms)."""

    @property
    def kill_switch_engaged(self) -> bool: ...

    def position(self, destination: str, ticker: str, strategy: str | None = None) -> Decimal:
        """Signed quantity held at one destination (for one strategy, or all)."""

    def working_qty(self, destination: str, ticker: str, strategy: str | None = None) -> Decimal:
        """Signed quantity still to fill of the open orders at one destination (orders in flight)."""

    def working_sides(self, destination: str, ticker: str, strategy: str | None = None) -> tuple[Decimal, Decimal]:
        """(buy, sell) quantities still to fill at one destination, protective exits aside (optional: a book
        without it is read through `working_qty`)."""

    def net_position(self, ticker: str, strategy: str | None = None) -> Decimal:
        """Signed quantity over every destination."""

    def realized_pnl_today(self, strategy: str | None = None) -> Decimal:
        """Realised PnL since the start of today's session (one strategy, or all)."""

    def unrealized_pnl(self, strategy: str | None = None) -> Decimal:
        """Open PnL at the latest marks (one strategy, or all)."""


class RiskRule(Protocol):
    """One check; `check` returns None to allow, or the reason to refuse."""

    name: str

    def check(self, request: OrderRequest, book: BookView) -> str | None: ...
