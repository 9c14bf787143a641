"""An IB account's money for the window: net liquidation and buying power (TWS's account updates) and the
day's PnL (`reqPnL`), published as `AccountReported` whenever one of them changes (at most once a loop turn)."""

from __future__ import annotations

import asyncio
import math
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable

from station.bus import Bus
from station.domain.events import AccountReported

MONEY_TAGS = {"NetLiquidation": "balance", "BuyingPower": "buying_power"}  # account-update tag -> field


def account_money(values: Iterable[Any], account: str) -> dict[str, Any]:
    """`balance`, `buying_power` and `currency` from TWS's account values (ib_async `AccountValue`s) of `account`."""
    money: dict[str, Any] = {}
    for value in values:
        field = MONEY_TAGS.get(value.tag)
        if field is None or (account and value.account != account):
            continue
        amount = _decimal(value.value)
        if amount is not None:
            money[field] = amount
            if value.currency and value.currency != "BASE":
                money["currency"] = value.currency
    return money


def day_pnl(pnl: Any) -> Decimal | None:
    """The day's PnL of an ib_async `PnL` (NaN until TWS has sent one)."""
    return _decimal(getattr(pnl, "dailyPnL", None))


def _decimal(value: Any) -> Decimal | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number):
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None


class AccountWatch:
    """Follows one IB account on one connection and reports its money."""

    def __init__(self, name: str, bus: Bus) -> None:
        self.name, self.bus = name, bus
        self.ib = None
        self.account = ""
        self.pnl = None
        self._due = False
        self.last: AccountReported | None = None

    def attach(self, ib: Any) -> None:
        """Listen to a new ib_async client (once per client)."""
        self.ib = ib
        ib.accountValueEvent += self._on_value
        ib.pnlEvent += self._on_pnl

    def follow(self, account: str, *, fresh: bool) -> None:
        """After a (re)connect: the account to report; `fresh`, a new session whose PnL must be asked for."""
        self.account = account
        if fresh and account:
            self.pnl = self.ib.reqPnL(account)
        self._publish()

    def _on_value(self, value: Any) -> None:
        if value.tag in MONEY_TAGS and (not self.account or value.account == self.account):
            self._soon()

    def _on_pnl(self, pnl: Any) -> None:
        if getattr(pnl, "account", self.account) == self.account:
            self._soon()

    def _soon(self) -> None:
        """One report for a burst of updates (TWS sends the account's values one message each)."""
        if not self._due:
            self._due = True
            asyncio.get_running_loop().call_soon(self._publish)

    def _publish(self) -> None:
        self._due = False
        if self.ib is None or not self.account:
            return
        money = account_money(self.ib.accountValues(self.account), self.account)
        report = AccountReported(self.name, self.account, money.get("balance"), money.get("buying_power"),
                                 day_pnl(self.pnl), money.get("currency", "USD"))
        shown = self.last
        if shown is None or (shown.balance, shown.buying_power, shown.day_pnl) != (
                report.balance, report.buying_power, report.day_pnl):
            self.last = report
            self.bus.publish(report)
