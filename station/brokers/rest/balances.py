"""A REST broker's account money (balance, buying power, the day's PnL), polled now and then while connected and
published as `AccountReported` when it changed."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

from station.domain.events import AccountReported, Event

log = logging.getLogger("station.brokers")

EVERY_S = 15.0  # balances move with the market: often enough for the window, light on the broker's rate limits


@dataclass(frozen=True, slots=True)
class BalanceSnapshot:
    """An account's money as its broker states it (None where it does not say)."""

    account: str
    balance: Decimal | None  # net liquidation value
    buying_power: Decimal | None
    day_pnl: Decimal | None
    currency: str = "USD"


class BrokerBalances:
    """Asks the API for the account's balances when due; reports what changed."""

    def __init__(self, name: str, read: Callable) -> None:
        self.name, self._read = name, read  # read: async () -> BalanceSnapshot | None
        self._at: float | None = None
        self.last: BalanceSnapshot | None = None

    def due(self) -> bool:
        return self._at is None or time.monotonic() - self._at > EVERY_S

    async def refresh(self, emit: Callable[[Event], None]) -> None:
        """Read them (an answer that cannot be read is logged, not fatal: orders go on)."""
        self._at = time.monotonic()
        try:
            snapshot = await self._read()
        except (ValueError, TypeError, KeyError, ArithmeticError) as exc:
            log.warning("%s: balances not understood: %s", self.name, exc)
            return
        if snapshot is None or snapshot == self.last:
            return
        self.last = snapshot
        emit(AccountReported(self.name, snapshot.account, snapshot.balance, snapshot.buying_power, snapshot.day_pnl,
                             snapshot.currency))
