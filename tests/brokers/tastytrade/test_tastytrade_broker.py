"""The Tastytrade broker against a loopback double of the Tastytrade Open API."""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

import pytest

from support.broker_harness import calls, request
from station.brokers.protocol import Broker, BrokerError
from station.domain.enums import ConnectionState, OrderStatus, OrderType
from station.domain.events import Notified, OrderReported
from station.domain.timeutil import utc_now
from support.tastytrade_double import ACCOUNT, CLIENT_SECRET, PASSWORD, USERNAME

S = OrderStatus


async def test_equity_order_partial_fills_and_position(oauth, double, make_broker):
    broker, seen = await make_broker(oauth)
    assert isinstance(broker, Broker)
    await seen.connected(broker)
    assert ACCOUNT in broker.detail  # the only open account was picked
    await broker.submit(request("a1-Momentum-tasty", "tasty", "AAPL", "buy", 10))
    await seen.wait(lambda: S.WORKING in seen.statuses("a1-Momentum-tasty"))
    order = double.by_external_id("a1-Momentum-tasty")
    assert order["legs"][0]["action"] == "Buy to Open" and order["legs"][0]["instrument-type"] == "Equity"
    assert order["order-type"] == "Market" and order["time-in-force"] == "Day"
    double.fill(order["id"], 3, "150.10")
    await seen.wait(lambda: S.PARTIALLY_FILLED in seen.statuses("a1-Momentum-tasty"))
    double.fill(order["id"], 7, "150.20")
    await seen.wait(lambda: S.FILLED in seen.statuses("a1-Momentum-tasty"))
    fills = seen.fills("a1-Momentum-tasty")
    assert [(f.fill.qty, f.fill.price) for f in fills] == [(3, Decimal("150.10")), (7, Decimal("150.20"))]
    assert fills[0].fill.fill_id == f"tasty:{order['id']}_1"
    await seen.wait(lambda: seen.positions("AAPL") and seen.positions("AAPL")[-1].qty == 10)
    assert seen.positions("AAPL")[-1].avg_price == Decimal("150.17")
    await broker.submit(request("a2", "tasty", "AAPL", "sell", 10))
    await seen.wait(lambda: S.WORKING in seen.statuses("a2"))
    assert double.by_external_id("a2")["legs"][0]["action"] == "Sell to Close"


async def test_futures_and_spx_options(oauth, double, make_broker):
    broker, seen = await make_broker(oauth)
    await seen.connected(broker)
    await broker.submit(request("a3", "tasty", "MES", "sell", 2, instrument="/MESZ5"))
    await seen.wait(lambda: S.WORKING in seen.statuses("a3"))
    future = double.by_external_id("a3")
    assert future["legs"][0] == {"instrument-type": "Future", "symbol": "/MESZ5", "quantity": 2, "action": "Sell",
                                 "remaining-quantity": 2, "fills": []}
    double.fill(future["id"], 2, "5001.25")
    await seen.wait(lambda: seen.positions("MES") and seen.positions("MES")[-1].qty == -2)

    await broker.submit(request("m4", "tasty", "SPX", "buy", 1, order_type=OrderType.LIMIT, limit="3.20",
                                instrument="SPXW  240104P04650000"))
    await seen.wait(lambda: S.WORKING in seen.statuses("m4"))
    option = double.by_external_id("m4")
    assert option["legs"][0]["instrument-type"] == "Equity Option" and option["legs"][0]["action"] == "Buy to Open"
    assert (option["price"], option["price-effect"]) == ("3.2", "Debit")
    await broker.submit(request("m5", "tasty", "SPY", "sell", 1, order_type=OrderType.STOP, stop="400"))
    await seen.wait(lambda: S.WORKING in seen.statuses("m5"))
    assert double.by_external_id("m5")["stop-trigger"] == "400"


async def test_reject_cancel_and_a_broker_side_cancel(oauth, double, make_broker):
    broker, seen = await make_broker(oauth)
    await seen.connected(broker)
    double.reject_next = ("insufficient_funds", "Order exceeds your buying power by $1,234.00")
    with pytest.raises(BrokerError, match=r"Tastytrade rejected the order: .*buying power by \$1,234.00"):
        await broker.submit(request("a6", "tasty", "AAPL", "buy", 100))
    await broker.submit(request("a7", "tasty", "AAPL", "buy", 1, order_type=OrderType.LIMIT, limit="1"))
    await seen.wait(lambda: S.WORKING in seen.statuses("a7"))
    await broker.cancel("a7")
    await seen.wait(lambda: S.CANCELLED in seen.statuses("a7"))
    with pytest.raises(BrokerError, match="cannot be cancelled"):
        await broker.cancel("a7")
    await broker.submit(request("a8", "tasty", "AAPL", "buy", 1, order_type=OrderType.LIMIT, limit="1"))
    await seen.wait(lambda: S.WORKING in seen.statuses("a8"))
    double.by_external_id("a8").update(status="Rejected", **{"reject-reason": "Exchange closed"})
    await seen.wait(lambda: S.REJECTED in seen.statuses("a8"))
    assert [e.reason for e in seen.of(OrderReported) if e.client_order_id == "a8"][-1] == "Exchange closed"


async def test_down_then_back_and_restart_find_orders_by_external_id(oauth, double, make_broker):
    broker, seen = await make_broker(oauth)
    await seen.connected(broker)
    await broker.submit(request("a9", "tasty", "AAPL", "buy", 5, order_type=OrderType.LIMIT, limit="100"))
    await seen.wait(lambda: S.WORKING in seen.statuses("a9"))
    await double.stop()
    await seen.wait(lambda: broker.state is ConnectionState.DISCONNECTED)
    await broker.submit(request("a10", "tasty", "TSLA", "buy", 1))
    double.fill(double.by_external_id("a9")["id"], 5, "99")
    await double.start()
    await seen.wait(lambda: S.WORKING in seen.statuses("a10"))
    assert S.FILLED in seen.statuses("a9") and double.count("POST", "/orders") == 2
    await broker.stop()

    # a new process: no resume() needed, the external identifier ties orders to client ids
    again, seen2 = await make_broker(oauth)
    await seen2.reconciled()  # its first reports: the fill made before the restart, under its client id
    assert [f.fill.client_order_id for f in seen2.fills("a9")] == ["a9"]
    double.fill(double.by_external_id("a10")["id"], 1, "250")
    await seen2.wait(lambda: S.FILLED in seen2.statuses("a10"))
    # the oms hands over an order created before the restart that Tastytrade already has: not resent
    await again.submit(request("a10", "tasty", "TSLA", "buy", 1, created_at=utc_now() - timedelta(seconds=5)))
    assert double.count("POST", "/orders") == 2


async def test_lost_answer_is_found_not_resent(oauth, double, make_broker):
    broker, seen = await make_broker(oauth)
    await seen.connected(broker)
    double.fail_after_placing = True
    await broker.submit(request("a11", "tasty", "AAPL", "buy", 2))
    await seen.wait(lambda: S.WORKING in seen.statuses("a11"))
    assert double.count("POST", "/orders") == 1 and len(double.orders) == 1


async def test_session_login_renews_with_the_remember_token(secrets, double, make_broker, caplog):
    caplog.set_level(logging.DEBUG)
    secrets.set("tastytrade-username", USERNAME)
    secrets.set("tastytrade-password", PASSWORD)
    broker, seen = await make_broker(secrets, account=ACCOUNT)
    await seen.connected(broker)
    double.expire_tokens()
    await broker.submit(request("a12", "tasty", "AAPL", "buy", 1))
    await seen.wait(lambda: S.WORKING in seen.statuses("a12"))
    assert double.logins == ["password", "remember"] and ConnectionState.ERROR not in seen.states()
    text = caplog.text + repr(broker) + repr(broker.api.auth) + repr(seen.events)
    for secret in (PASSWORD, *double.tokens, *double.remember_tokens):
        assert secret not in text


async def test_oauth_token_refresh_and_no_secret_in_logs(oauth, double, make_broker, caplog):
    caplog.set_level(logging.DEBUG)
    broker, seen = await make_broker(oauth)
    await seen.connected(broker)
    double.expire_tokens()
    await broker.submit(request("a13", "tasty", "AAPL", "buy", 1))
    await seen.wait(lambda: S.WORKING in seen.statuses("a13"))
    assert double.logins == ["oauth", "oauth"]
    refresh = oauth.get("tastytrade-refresh-token").reveal()
    text = caplog.text + repr(broker) + repr(broker.api) + repr(seen.events)
    for secret in (CLIENT_SECRET, refresh, *(t.split()[-1] for t in double.tokens)):
        assert secret not in text


async def test_credentials_missing_or_wrong(secrets, double, make_broker):
    broker, seen = await make_broker(secrets)
    await seen.wait(lambda: broker.state is ConnectionState.ERROR)
    assert "station secret set tastytrade-client-secret" in broker.detail
    assert "station secret set tastytrade-username" in broker.detail
    secrets.set("tastytrade-client-secret", CLIENT_SECRET)
    await seen.wait(lambda: "needs both secrets: set it in Settings → Accounts & keys (or `station secret set "
                            "tastytrade-refresh-token`)" in broker.detail)
    secrets.set("tastytrade-refresh-token", "revoked")
    await seen.wait(lambda: "Grant is invalid" in broker.detail)
    secrets.set("tastytrade-refresh-token", double.issue_refresh_token())
    await seen.connected(broker)
    assert len(seen.of(Notified)) == 3

    wrong, seen2 = await make_broker(secrets, account="5WT77777")
    await seen2.wait(lambda: "5WT77777 is not among" in wrong.detail)


async def test_refused_password_is_not_retried_until_changed(secrets, double, make_broker):
    secrets.set("tastytrade-username", USERNAME)
    secrets.set("tastytrade-password", "wrong-password")
    broker, seen = await make_broker(secrets)
    await seen.wait(lambda: "Invalid login" in broker.detail)
    attempts = calls(broker.api, "connect")
    await seen.wait(lambda: attempts() >= 3, what="three more attempts")
    assert double.count("POST", "/sessions") == 1  # repeated failed logins can lock the account
    secrets.set("tastytrade-password", PASSWORD)
    await seen.connected(broker)
    assert double.logins == ["password"]


async def test_the_accounts_balance_buying_power_and_days_pnl_are_reported(oauth, double, make_broker):
    from station.domain.events import AccountReported

    double.balances.update({"net-liquidating-value": "101200.0", "derivative-buying-power": "87000.0"})
    broker, seen = await make_broker(oauth)
    await seen.wait(lambda: seen.of(AccountReported), what="the account reported")
    report = seen.of(AccountReported)[-1]
    assert (report.destination, report.account, report.balance, report.buying_power, report.day_pnl) == (
        "tasty", ACCOUNT, Decimal("101200.0"), Decimal("87000.0"), Decimal("1200.0"))
    double.balances["net-liquidating-value"] = "99500.0"
    broker.balances._at = None  # due at the next poll, as every 15 s
    await seen.wait(lambda: seen.of(AccountReported)[-1].day_pnl == Decimal("-500.0"), what="the change")
