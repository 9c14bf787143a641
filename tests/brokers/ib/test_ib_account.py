"""An IB account's balance, buying power and day's PnL, from TWS's account updates and reqPnL, as events."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from support.ib import fake, make_broker, wait_until  # noqa: F401 - fixtures
from station.brokers.ib.account import account_money, day_pnl
from station.domain.events import AccountReported


def test_money_is_read_from_the_accounts_values_and_nan_is_no_number():
    values = [SimpleNamespace(account="DU1", tag="NetLiquidation", value="100250.5", currency="USD"),
              SimpleNamespace(account="DU1", tag="BuyingPower", value="401002.00", currency="USD"),
              SimpleNamespace(account="DU2", tag="NetLiquidation", value="5", currency="USD"),
              SimpleNamespace(account="DU1", tag="TotalCashValue", value="99000", currency="USD")]
    assert account_money(values, "DU1") == {"balance": Decimal("100250.50"), "buying_power": Decimal("401002.00"),
                                            "currency": "USD"}
    assert day_pnl(SimpleNamespace(dailyPnL=float("nan"))) is None
    assert day_pnl(SimpleNamespace(dailyPnL=-125.256)) == Decimal("-125.26")


async def test_the_account_is_reported_at_connect_and_when_tws_updates_it(fake, make_broker):
    fake.daily_pnl = 312.5
    broker, recorder, bus = await make_broker(fake.port)
    reports: list[AccountReported] = []
    bus.subscribe(AccountReported, reports.append)
    await wait_until(lambda: broker.account_watch.last is not None and broker.account_watch.last.day_pnl is not None,
                     5, "the account and its day's PnL")
    first = broker.account_watch.last
    assert (first.destination, first.account, first.balance, first.buying_power, first.day_pnl) == (
        "ib", "DU123456", Decimal("100000.00"), Decimal("400000.00"), Decimal("312.50"))
    fake.account_changed(daily_pnl=-80.0, NetLiquidation="99607.50", BuyingPower="398430.00")
    await wait_until(lambda: reports and reports[-1].day_pnl == Decimal("-80.00")
                     and reports[-1].balance == Decimal("99607.50"), 5, "the update")
    assert reports[-1].buying_power == Decimal("398430.00")
