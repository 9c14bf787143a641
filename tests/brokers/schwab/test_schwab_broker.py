"""The Schwab broker against a loopback double of the Schwab Trader API (real aiohttp, real keyring file)."""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

import pytest

from support.broker_harness import Recorder, calls, request
from support.schwab_double import ACCOUNT, APP_KEY, APP_SECRET
from station.brokers.protocol import Broker, BrokerError
from station.brokers.registry import BrokerContext
from station.brokers.schwab import build
from station.bus import Bus
from station.domain.config import DestinationConfig
from station.domain.enums import ConnectionState, OrderStatus, OrderType
from station.domain.events import Notified, OrderReported
from station.domain.orders import Order
from station.domain.timeutil import utc_now

S = OrderStatus


async def test_order_working_partial_fills_position(authorised, double, make_broker):
    broker, seen = await make_broker(authorised)
    assert isinstance(broker, Broker)
    await seen.connected(broker)
    await broker.submit(request("a1-Momentum-schwab", "schwab", "AAPL", "buy", 10))
    await seen.wait(lambda: S.WORKING in seen.statuses("a1-Momentum-schwab"), what="working")
    order_id = max(double.orders)
    sent = double.orders[order_id]
    assert sent["orderType"] == "MARKET" and sent["duration"] == "DAY" and sent["session"] == "NORMAL"
    assert sent["orderLegCollection"][0]["instruction"] == "BUY"
    assert sent["orderLegCollection"][0]["instrument"] == {"symbol": "AAPL", "assetType": "EQUITY"}

    double.fill(order_id, 4, "150.25")
    await seen.wait(lambda: len(seen.fills("a1-Momentum-schwab")) == 1, what="first fill")
    double.fill(order_id, 6, "150.50")
    await seen.wait(lambda: S.FILLED in seen.statuses("a1-Momentum-schwab"), what="filled")
    fills = seen.fills("a1-Momentum-schwab")
    assert [(f.fill.qty, f.fill.price) for f in fills] == [(4, Decimal("150.25")), (6, Decimal("150.5"))]
    assert all(f.fill.ticker == "AAPL" and f.fill.strategy == "Momentum" and f.fill.destination == "schwab" for f in fills)
    assert len({f.fill.fill_id for f in fills}) == 2
    assert seen.statuses("a1-Momentum-schwab") == [S.SUBMITTED, S.WORKING, S.PARTIALLY_FILLED, S.FILLED]
    await seen.wait(lambda: seen.positions("AAPL") and seen.positions("AAPL")[-1].qty == 10, what="position")
    assert seen.positions("AAPL")[-1].avg_price == Decimal("150.4")
    # a later poll reports nothing twice
    reported = len(seen.events)
    await broker.stop()
    assert len(seen.fills("a1-Momentum-schwab")) == 2 and len(seen.events) >= reported


async def test_sell_closes_then_shorts_and_option_limit(authorised, double, make_broker):
    broker, seen = await make_broker(authorised)
    await seen.connected(broker)
    await broker.submit(request("a2-buy", "schwab", "AAPL", "buy", 5))
    await seen.wait(lambda: double.orders, what="order")
    double.fill(max(double.orders), 5, "10")
    await seen.wait(lambda: S.FILLED in seen.statuses("a2-buy"))
    await broker.submit(request("a3-sell", "schwab", "AAPL", "sell", 5))
    await seen.wait(lambda: len(double.orders) == 2)
    assert double.orders[max(double.orders)]["orderLegCollection"][0]["instruction"] == "SELL"
    double.fill(max(double.orders), 5, "11")
    await seen.wait(lambda: S.FILLED in seen.statuses("a3-sell"))
    await broker.submit(request("a4-short", "schwab", "AAPL", "sell", 3))
    await seen.wait(lambda: len(double.orders) == 3)
    assert double.orders[max(double.orders)]["orderLegCollection"][0]["instruction"] == "SELL_SHORT"

    spx = request("m5-0dte", "schwab", "SPX", "buy", 2, order_type=OrderType.LIMIT, limit="4.10",
                  instrument=".SPXW240104C4700")
    await broker.submit(spx)
    await seen.wait(lambda: len(double.orders) == 4)
    sent = double.orders[max(double.orders)]
    assert sent["orderType"] == "LIMIT" and sent["price"] == "4.1"
    assert sent["orderLegCollection"][0]["instruction"] == "BUY_TO_OPEN"
    assert sent["orderLegCollection"][0]["instrument"] == {"symbol": "SPXW  240104C04700000", "assetType": "OPTION"}
    double.fill(max(double.orders), 2, "4.05")
    await seen.wait(lambda: seen.positions("SPX") and seen.positions("SPX")[-1].qty == 2, what="option position")


async def test_cancel(authorised, double, make_broker):
    broker, seen = await make_broker(authorised)
    await seen.connected(broker)
    await broker.submit(request("a6", "schwab", "MSFT", "buy", 1, order_type=OrderType.LIMIT, limit="300"))
    await seen.wait(lambda: S.WORKING in seen.statuses("a6"))
    await broker.cancel("a6")
    await seen.wait(lambda: S.CANCELLED in seen.statuses("a6"))
    assert double.count("DELETE", "/orders/") == 1
    with pytest.raises(BrokerError, match="cannot be canceled"):
        await broker.cancel("a6")
    with pytest.raises(BrokerError, match="not known"):
        await broker.cancel("never-sent")


async def test_reject_carries_schwabs_message(authorised, double, make_broker):
    broker, seen = await make_broker(authorised)
    await seen.connected(broker)
    double.reject_next = "Opening transactions for this security must be placed with a broker"
    with pytest.raises(BrokerError, match="Schwab rejected the order: Opening transactions for this security"):
        await broker.submit(request("a7", "schwab", "XYZ", "buy", 1))
    with pytest.raises(BrokerError, match="no futures"):
        await broker.submit(request("a8", "schwab", "MES", "buy", 1, instrument="/MESZ5"))
    assert double.orders == {} and seen.statuses("a7") == [] and broker.state is ConnectionState.CONNECTED
    await broker.submit(request("a9", "schwab", "AAPL", "buy", 2))
    await seen.wait(lambda: double.orders)
    double.fill(max(double.orders), 2, "10")
    await seen.wait(lambda: S.FILLED in seen.statuses("a9"))
    with pytest.raises(BrokerError, match="two orders"):  # long 2, sell 5: close and open are separate at Schwab
        await broker.submit(request("a9b", "schwab", "AAPL", "sell", 5))
    assert len(double.orders) == 1


async def test_rejected_after_acceptance_reports_the_reason(authorised, double, make_broker):
    broker, seen = await make_broker(authorised)
    await seen.connected(broker)
    await broker.submit(request("a9c", "schwab", "AAPL", "buy", 1, order_type=OrderType.STOP_LIMIT, limit="101", stop="100"))
    await seen.wait(lambda: S.WORKING in seen.statuses("a9c"))
    sent = double.orders[max(double.orders)]
    assert (sent["orderType"], sent["price"], sent["stopPrice"]) == ("STOP_LIMIT", "101", "100")
    sent.update(status="REJECTED", statusDescription="Order rejected by the exchange: price out of range")
    await seen.wait(lambda: S.REJECTED in seen.statuses("a9c"))
    report = [e for e in seen.of(OrderReported) if e.status is S.REJECTED][0]
    assert report.reason == "Order rejected by the exchange: price out of range"


async def test_expired_access_token_is_refreshed_and_the_request_retried_once(authorised, double, make_broker):
    broker, seen = await make_broker(authorised)
    await seen.connected(broker)
    assert double.token_requests == 1
    double.expire_access_tokens()
    await broker.submit(request("a10", "schwab", "AAPL", "buy", 1))
    await seen.wait(lambda: S.WORKING in seen.statuses("a10"))
    assert double.token_requests == 2 and len(double.orders) == 1
    assert ConnectionState.ERROR not in seen.states()


async def test_rate_limit_is_waited_out(authorised, double, make_broker):
    broker, seen = await make_broker(authorised)
    await seen.connected(broker)
    double.rate_limit_next = 2
    await broker.submit(request("a11", "schwab", "AAPL", "buy", 1))
    await seen.wait(lambda: S.WORKING in seen.statuses("a11"))
    assert len(double.orders) == 1 and ConnectionState.DISCONNECTED not in seen.states()


async def test_down_then_back_reconciles_and_sends_the_waiting_order_once(authorised, double, make_broker):
    broker, seen = await make_broker(authorised)
    await seen.connected(broker)
    await broker.submit(request("a12", "schwab", "AAPL", "buy", 10, order_type=OrderType.LIMIT, limit="100"))
    await seen.wait(lambda: S.WORKING in seen.statuses("a12"))
    await double.stop()
    await seen.wait(lambda: broker.state is ConnectionState.DISCONNECTED, what="drop noticed")
    await broker.submit(request("a13", "schwab", "TSLA", "buy", 1))  # accepted while down: waits
    double.fill(max(double.orders), 10, "99.5")  # the first order fills while Station cannot see it
    await double.start()
    await seen.reconciled(2)  # the start, then the reconnect
    reports = seen.reconciliations[-1].reports  # what the oms reconciles with before it sends anything new
    assert [(f.qty, f.price) for f in reports.fills if f.client_order_id == "a12"] == [(10, Decimal("99.5"))]
    assert [o.status for o in reports.orders if o.client_order_id == "a12"] == [S.FILLED]
    assert [(p.ticker, p.qty) for p in reports.positions] == [("AAPL", 10)]
    await seen.wait(lambda: S.WORKING in seen.statuses("a13"))
    assert sorted(o["orderLegCollection"][0]["instrument"]["symbol"] for o in double.orders.values()) == ["AAPL", "TSLA"]
    await broker.submit(request("a13", "schwab", "TSLA", "buy", 1))  # handed over again: never sent twice
    assert double.count("POST", "/orders") == 2


async def test_lost_answer_is_found_at_reconnect_not_resent(authorised, double, make_broker):
    broker, seen = await make_broker(authorised)
    await seen.connected(broker)
    double.fail_after_placing = True
    await broker.submit(request("a14", "schwab", "AAPL", "buy", 3))
    await seen.wait(lambda: S.WORKING in seen.statuses("a14"), what="in-doubt order found")
    await seen.wait(lambda: any(o.client_order_id == "a14" for r in seen.reconciliations for o in r.reports.orders),
                    what="the reconnect's reports carry the order found")
    assert len(double.orders) == 1 and double.count("POST", "/orders") == 1
    assert {e.broker_order_id for e in seen.of(OrderReported)} == {str(max(double.orders))}
    assert seen.states()[-2:] == [ConnectionState.DISCONNECTED, ConnectionState.CONNECTED]


async def test_restart_recovers_orders_without_resending(authorised, double, make_broker):
    first, seen = await make_broker(authorised)
    await seen.connected(first)
    earlier = utc_now() - timedelta(seconds=5)
    sent = request("a15", "schwab", "NVDA", "buy", 2, created_at=earlier)
    await first.submit(sent)
    await seen.wait(lambda: S.WORKING in seen.statuses("a15"))
    await first.stop()
    order_id = max(double.orders)

    # the oms knew the broker id: resume() (at build, from the book) ties the Schwab order to its client id again
    second, seen2 = await make_broker(authorised, resume=[Order(sent, status=S.WORKING, broker_order_id=str(order_id))])
    await seen2.connected(second)
    double.fill(order_id, 2, "120")
    await seen2.wait(lambda: S.FILLED in seen2.statuses("a15"))
    assert seen2.fills("a15")[0].fill.ticker == "NVDA"

    # the oms never heard back (crash mid-send): the resent request is matched, not placed again
    lost = request("a16", "schwab", "AMD", "buy", 4, created_at=utc_now() - timedelta(seconds=3))
    double.fail_after_placing = True
    await second.submit(lost)
    await second.stop()
    third, seen3 = await make_broker(authorised)
    await seen3.connected(third)
    await third.submit(lost)
    await seen3.wait(lambda: S.WORKING in seen3.statuses("a16"))
    assert double.count("POST", "/orders") == 2 and len(double.orders) == 2


async def test_missing_credentials_name_the_command(secrets, double, make_broker):
    broker, seen = await make_broker(secrets)
    await seen.wait(lambda: broker.state is ConnectionState.ERROR, what="error state")
    assert "station secret set schwab-app-key" in broker.detail
    secrets.set("schwab-app-key", APP_KEY)
    secrets.set("schwab-app-secret", APP_SECRET)
    await seen.wait(lambda: "station broker authorize schwab" in broker.detail, what="authorize hint")
    assert "station secret set schwab-refresh-token" in broker.detail
    secrets.set("schwab-refresh-token", "rt-revoked-or-expired")
    await seen.wait(lambda: "Failed refresh token authentication" in broker.detail, what="refresh refused")
    assert "7 days" in broker.detail
    asked = double.token_requests
    attempts = calls(broker.api, "connect")
    await seen.wait(lambda: attempts() >= 3, what="three more attempts")  # a refused token is not sent again
    assert double.token_requests == asked
    secrets.set("schwab-refresh-token", double.issue_refresh_token())
    await seen.connected(broker)
    assert any("station secret set schwab-app-key" in n.message for n in seen.of(Notified))


async def test_secrets_never_reach_logs_or_reprs(authorised, double, make_broker, caplog):
    caplog.set_level(logging.DEBUG)
    broker, seen = await make_broker(authorised)
    refresh = authorised.get("schwab-refresh-token").reveal()
    await seen.connected(broker)
    double.expire_access_tokens()
    await broker.submit(request("a17", "schwab", "AAPL", "buy", 1))
    await seen.wait(lambda: S.WORKING in seen.statuses("a17"))
    texts = caplog.text + repr(broker) + repr(broker.api) + repr(broker.api.auth) + repr(seen.events)
    for secret in (APP_KEY, APP_SECRET, refresh, *double.access_tokens):
        assert secret not in texts
    assert "placed as" in caplog.text


@pytest.mark.slow
async def test_reconnects_within_15_s_of_the_broker_being_back_with_the_default_back_off(authorised, double, data_dir):
    import time

    bus = Bus()
    seen = Recorder(bus)
    config = DestinationConfig("schwab", "schwab", {"base_url": double.url, "account": ACCOUNT})
    broker = build(config, BrokerContext(bus, data_dir, secrets=authorised), idle_poll_s=0.2)  # production back-off
    await broker.start()
    try:
        await seen.connected(broker)
        await double.stop()
        await seen.wait(lambda: broker.state is ConnectionState.DISCONNECTED)
        attempts = calls(broker.api, "connect")
        await seen.wait(lambda: attempts() >= 6, timeout=20, what="the back-off grown to its cap")
        back = time.monotonic()
        await double.start()
        await seen.connected(broker, timeout=15)
        took = time.monotonic() - back
        print(f"reconnected {took:.2f} s after Schwab was back")
        assert took < 15
    finally:
        await broker.stop()


async def test_the_accounts_balance_buying_power_and_days_pnl_are_reported(authorised, double, make_broker):
    from station.domain.events import AccountReported

    double.current_balances.update(liquidationValue=100250.5, buyingPower=200501.0)
    broker, seen = await make_broker(authorised)
    await seen.wait(lambda: seen.of(AccountReported), what="the account reported")
    report = seen.of(AccountReported)[-1]
    assert (report.destination, report.account, report.balance, report.buying_power, report.day_pnl) == (
        "schwab", ACCOUNT, Decimal("100250.5"), Decimal("200501.0"), Decimal("250.5"))
    double.current_balances.update(liquidationValue=99900.0)
    broker.balances._at = None  # due at the next poll, as every 15 s
    await seen.wait(lambda: seen.of(AccountReported)[-1].day_pnl == Decimal("-100.0"), what="the change")
