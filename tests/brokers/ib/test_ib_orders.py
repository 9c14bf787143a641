"""IB orders through ib_async against the fake TWS: fills, partial fills, cancels, rejects, brackets."""

from __future__ import annotations

from decimal import Decimal

import pytest

from support.ib import fake, limit, make_broker, request, wait_until  # noqa: F401 - fixtures
from station.brokers.protocol import Broker, BrokerError
from station.domain.enums import OrderType, Side


@pytest.fixture
async def ib(fake, make_broker):
    broker, recorder, bus = await make_broker(fake.port)
    return broker, recorder


async def test_market_order_fills_and_reports_fill_commission_and_position(fake, ib):
    broker, rec = ib
    assert isinstance(broker, Broker)
    order = request("AAPL", qty="10")
    await broker.submit(order)
    await wait_until(lambda: rec.statuses(order.client_order_id)[-1:] == ["filled"], what="filled")
    assert rec.statuses(order.client_order_id) == ["working", "filled"]
    [fill] = rec.fills(order.client_order_id)
    assert (fill.qty, fill.price, fill.side, fill.ticker) == (Decimal(10), Decimal("190.0"), Side.BUY, "AAPL")
    assert fill.commission == Decimal("12.5") and fill.fill_id == fake.executions[0].exec_id
    assert fill.time.tzinfo is not None
    [sent] = fake.placed()
    assert (sent.order_ref, sent.client_id, sent.account, sent.order_type) == (order.client_order_id, 7, "DU123456", "MKT")
    await wait_until(lambda: rec.positions("AAPL"), what="position")
    assert rec.positions("AAPL")[-1].qty == Decimal(10) and rec.positions("AAPL")[-1].avg_price == Decimal("190.0")


async def test_partial_fills_report_each_execution_once_and_status_follows_the_fills(fake, ib):
    broker, rec = ib
    fake.partial_fills = [3, 4]
    order = request("TSLA", qty="10")
    await broker.submit(order)
    await wait_until(lambda: "filled" in rec.statuses(order.client_order_id), what="filled")
    fills = rec.fills(order.client_order_id)
    assert [f.qty for f in fills] == [Decimal(3), Decimal(4), Decimal(3)]
    assert len({f.fill_id for f in fills}) == 3
    assert rec.statuses(order.client_order_id) == ["working", "partially_filled", "partially_filled", "filled"]
    # a status never runs ahead of its fills: each partial report comes after the fill that made it
    reports = [e for _, e in rec.events if getattr(e, "client_order_id", None) == order.client_order_id
               or getattr(getattr(e, "fill", None), "client_order_id", None) == order.client_order_id]
    kinds = [type(e).__name__ for e in reports]
    assert kinds == ["OrderReported", "FillReported", "OrderReported", "FillReported", "OrderReported",
                     "FillReported", "OrderReported"]


async def test_limit_order_rests_then_cancel_is_reported_cancelled(fake, ib):
    broker, rec = ib
    order = limit("AAPL", "150.00")
    await broker.submit(order)
    await wait_until(lambda: rec.statuses(order.client_order_id) == ["working"], what="working")
    sent = fake.find(order_ref=order.client_order_id)
    assert (sent.order_type, sent.lmt) == ("LMT", 150.0)
    await broker.cancel(order.client_order_id)
    await wait_until(lambda: rec.statuses(order.client_order_id)[-1:] == ["cancelled"], what="cancelled")
    assert rec.fills(order.client_order_id) == []
    with pytest.raises(BrokerError, match="already cancelled"):
        await broker.cancel(order.client_order_id)
    with pytest.raises(BrokerError, match="has no order"):
        await broker.cancel("nope")


async def test_cancel_after_partial_fill_keeps_the_fill_and_reports_cancelled_after_it(fake, ib):
    broker, rec = ib
    fake.fill_mode = "manual"
    order = limit("AAPL", "150.00", qty="10")
    await broker.submit(order)
    await wait_until(lambda: rec.statuses(order.client_order_id) == ["working"], what="working")
    fake.fill(order.client_order_id, 4, 149.5)
    await broker.cancel(order.client_order_id)
    await wait_until(lambda: "cancelled" in rec.statuses(order.client_order_id), what="cancelled")
    assert rec.statuses(order.client_order_id) == ["working", "partially_filled", "cancelled"]
    assert [f.qty for f in rec.fills(order.client_order_id)] == [Decimal(4)]


async def test_reject_carries_ibs_error_text(fake, ib):
    broker, rec = ib
    fake.reject_symbols["TSLA"] = ("YOUR ORDER IS NOT ACCEPTED. IN ORDER TO OBTAIN THE DESIRED POSITION YOUR "
                                   "EQUITY WITH LOAN VALUE [1000.00 USD] MUST EXCEED THE INITIAL MARGIN [5000.00 USD]")
    order = request("TSLA", qty="100")
    await broker.submit(order)
    await wait_until(lambda: "rejected" in rec.statuses(order.client_order_id), what="rejected")
    [report] = rec.reports(order.client_order_id)
    assert report.reason.startswith("IB 201: Order rejected - reason:YOUR ORDER IS NOT ACCEPTED")
    assert "EQUITY WITH LOAN VALUE" in report.reason
    assert rec.statuses(order.client_order_id) == ["rejected"]  # the Inactive that follows adds nothing


async def test_unknown_symbol_is_refused_with_a_reason_before_anything_is_sent(fake, ib):
    broker, rec = ib
    with pytest.raises(BrokerError, match="IB has no contract for ZZZZ"):
        await broker.submit(request("ZZZZ"))
    with pytest.raises(BrokerError, match="not a symbol Station can map"):
        await broker.submit(request("??"))
    assert fake.placed() == []


async def test_the_same_client_order_id_is_never_sent_twice(fake, ib):
    broker, rec = ib
    order = request("AAPL")
    await broker.submit(order)
    await broker.submit(order)
    await wait_until(lambda: "filled" in rec.statuses(order.client_order_id), what="filled")
    await broker.submit(order)
    assert len(fake.placed()) == 1 and len(rec.fills(order.client_order_id)) == 1


async def test_symbol_sent_is_the_destination_instrument_mapped_to_a_contract(fake, ib):
    broker, rec = ib
    order = request("MES", instrument="MES1!", qty="2")
    await broker.submit(order)
    await wait_until(lambda: "filled" in rec.statuses(order.client_order_id), what="filled")
    sent = fake.find(order_ref=order.client_order_id)
    front = fake.securities.quarterly_expiries(1)[0]
    assert (sent.sec.symbol, sent.sec.sec_type, sent.sec.last_trade) == ("MES", "FUT", f"{front:%Y%m%d}")
    assert rec.fills(order.client_order_id)[0].ticker == "MES"
    await wait_until(lambda: rec.positions("MES"), what="position")
    assert rec.positions("MES")[-1].avg_price == Decimal("5800.0")  # avgCost / multiplier


async def test_stop_and_stop_limit_orders_carry_their_prices(fake, ib):
    broker, rec = ib
    stop = request("AAPL", side=Side.SELL, order_type=OrderType.STOP, stop_price=Decimal("180"))
    stop_limit = request("AAPL", side=Side.SELL, order_type=OrderType.STOP_LIMIT, stop_price=Decimal("180"),
                         limit_price=Decimal("179.5"))
    await broker.submit(stop)
    await broker.submit(stop_limit)
    await wait_until(lambda: rec.statuses(stop_limit.client_order_id) == ["working"], what="working")
    a, b = fake.find(order_ref=stop.client_order_id), fake.find(order_ref=stop_limit.client_order_id)
    assert (a.order_type, a.aux, a.lmt) == ("STP", 180.0, None)
    assert (b.order_type, b.aux, b.lmt) == ("STP LMT", 180.0, 179.5)


async def test_bracket_sends_entry_and_oca_exits_and_the_filled_exit_cancels_the_other(fake, ib):
    broker, rec = ib
    from station.domain.instructions import ExitLevel, OrderInstructions
    from station.oms.brackets import bracket_exits

    order = limit("AAPL", "191", qty="5")
    exits = bracket_exits(order, OrderInstructions(take_profit=ExitLevel(price=Decimal("200")),
                                                   stop_loss=ExitLevel(price=Decimal("185"))), Decimal("0.01"), None)
    await broker.submit_bracket(order, tuple(exits))
    tp, sl = f"{order.client_order_id}-tp", f"{order.client_order_id}-sl"
    await wait_until(lambda: "filled" in rec.statuses(order.client_order_id) and rec.statuses(tp) == ["working"],
                     what="entry filled, exits working")
    parent, take, stop = (fake.find(order_ref=r) for r in (order.client_order_id, tp, sl))
    assert take.parent_id == stop.parent_id == parent.order_id
    assert take.oca_group == stop.oca_group == f"{order.client_order_id}-oco" and take.oca_type == 1
    assert (take.action, take.order_type, take.lmt) == ("SELL", "LMT", 200.0)
    assert (stop.action, stop.order_type, stop.aux) == ("SELL", "STP", 185.0)
    fake.fill(take, price=200.0)
    await wait_until(lambda: rec.statuses(sl)[-1:] == ["cancelled"], what="stop cancelled by OCA")
    assert rec.statuses(tp) == ["working", "filled"]
    assert rec.fills(tp)[0].side is Side.SELL and rec.fills(tp)[0].ticker == "AAPL"
    await wait_until(lambda: rec.positions("AAPL") and rec.positions("AAPL")[-1].qty == 0, what="flat")


async def test_zero_dte_option_picks_todays_expiry_and_the_strike_around_the_money(fake, ib):
    broker, rec = ib
    fake.prices["SPX"] = 5812.0
    order = request("SPX", instrument="SPXW 0DTE +1 C", qty="1")
    await broker.submit(order)
    await wait_until(lambda: "filled" in rec.statuses(order.client_order_id), what="filled")
    sent = fake.find(order_ref=order.client_order_id)
    assert (sent.sec.sec_type, sent.sec.trading_class, sent.sec.last_trade) == ("OPT", "SPXW", "20250303")
    assert (sent.sec.strike, sent.sec.right) == (5815.0, "C")  # ATM 5810, one strike out of the money
    put = request("SPX", instrument="SPXW 2025-03-03 5790P", qty="1")
    await broker.submit(put)
    await wait_until(lambda: "filled" in rec.statuses(put.client_order_id), what="filled")
    assert fake.find(order_ref=put.client_order_id).sec.strike == 5790.0


async def test_a_working_order_is_changed_in_place_with_its_own_id(fake, ib):
    import dataclasses

    broker, rec = ib
    assert broker.capabilities.native_replace and broker.capabilities.native_brackets
    order = limit("AAPL", "150", qty="10")
    await broker.submit(order)
    await wait_until(lambda: "working" in rec.statuses(order.client_order_id), what="working")
    placed = fake.find(order_ref=order.client_order_id)
    await broker.replace(dataclasses.replace(order, qty=Decimal(4), limit_price=Decimal("195")))  # now marketable
    await wait_until(lambda: rec.statuses(order.client_order_id)[-1:] == ["filled"], what="filled after the change")
    assert fake.modified == [placed] and (placed.qty, placed.lmt) == (4.0, 195.0)
    assert len(fake.placed()) == 1 and sum(f.qty for f in rec.fills(order.client_order_id)) == Decimal(4)
    assert not [e for e in fake.errors_sent if e[1] == 103]
    with pytest.raises(BrokerError, match="already filled"):
        await broker.replace(dataclasses.replace(order, qty=Decimal(5)))
    with pytest.raises(BrokerError, match="only the quantity and prices"):
        other = limit("AAPL", "150", qty="1")
        await broker.submit(other)
        await wait_until(lambda: "working" in rec.statuses(other.client_order_id), what="working")
        await broker.replace(dataclasses.replace(other, side=Side.SELL))
