"""Brackets at Schwab as a TRIGGER order whose exits form one OCO, against the loopback double of the Trader API: the
JSON of Schwab's order guide (schwab-py's `first_triggers_second` / `one_cancels_other`), exits found nested in their
entry, one filling and the other cancelled, Schwab's TRAILING_STOP, cancels, a lost answer and a restart, and a
refusal (nothing placed: the entry may go alone)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from support.broker_harness import request
from station.brokers.protocol import BracketRefused, BrokerError
from station.domain.enums import OrderStatus, OrderType
from station.domain.instructions import ExitLevel, Offset, OrderInstructions
from station.domain.orders import Order
from station.oms.brackets import bracket_exits

S = OrderStatus


def bracket(coid, ticker="AAPL", side="buy", qty=10, *, stop=None, target=None, trail=None, **entry):
    """An entry and the exits the oms makes for it (`<coid>-sl`, `-tp`, `-ts`)."""
    order = request(coid, "schwab", ticker, side, qty, **entry)
    instructions = OrderInstructions(stop_loss=stop and ExitLevel(price=Decimal(stop)),
                                     take_profit=target and ExitLevel(price=Decimal(target)), trailing_stop=trail)
    return order, tuple(bracket_exits(order, instructions, Decimal("0.01"), Decimal(100)))


def single(instruction, order_type, **prices):
    return {"orderType": order_type, "session": "NORMAL", "duration": "DAY", "orderStrategyType": "SINGLE",
            "orderLegCollection": [{"instruction": instruction, "quantity": 10,
                                    "instrument": {"symbol": "AAPL", "assetType": "EQUITY"}}], **prices}


async def test_a_trigger_with_an_oco_as_schwabs_guide_shows_it_then_the_exits_reports(authorised, double, make_broker):
    broker, seen = await make_broker(authorised)
    await seen.connected(broker)
    entry, exits = bracket("s1", order_type=OrderType.LIMIT, limit="150", stop="145", target="160")
    await broker.submit_bracket(entry, exits)
    [body] = double.bodies
    assert body == {**single("BUY", "LIMIT", price="150"), "orderStrategyType": "TRIGGER", "childOrderStrategies": [
        {"orderStrategyType": "OCO", "childOrderStrategies": [single("SELL", "STOP", stopPrice="145"),
                                                              single("SELL", "LIMIT", price="160")]}]}
    parent, oco, stop, target = double.trigger_tree(max(double.orders))
    assert (oco["orderStrategyType"], stop["status"], target["editable"]) == ("OCO", "AWAITING_PARENT_ORDER", False)
    # Schwab names only the entry; its exits are found nested in it at the next poll
    await seen.wait(lambda: set(seen.statuses("s1-sl")) == {S.SUBMITTED} and set(seen.statuses("s1-tp")) == {S.SUBMITTED})
    assert broker._broker_ids["s1-sl"] == str(stop["orderId"]) and broker._broker_ids["s1-tp"] == str(target["orderId"])
    assert seen.statuses("s1")[-1] is S.WORKING

    double.fill(parent["orderId"], 10, "150")
    await seen.wait(lambda: seen.statuses("s1-sl")[-1:] == [S.WORKING] and seen.statuses("s1-tp")[-1:] == [S.WORKING])
    await seen.wait(lambda: seen.positions("AAPL") and seen.positions("AAPL")[-1].qty == 10, what="long 10")
    double.fill(stop["orderId"], 10, "145")
    await seen.wait(lambda: seen.statuses("s1-tp")[-1:] == [S.CANCELLED], what="the target cancelled by the OCO")
    assert seen.statuses("s1-sl")[-1] is S.FILLED and seen.statuses("s1")[-1] is S.FILLED
    assert [(f.fill.qty, f.fill.price) for f in seen.fills("s1-sl")] == [(10, Decimal(145))]
    await seen.wait(lambda: seen.positions("AAPL") and seen.positions("AAPL")[-1].qty == 0, what="flat")


async def test_one_exit_is_the_triggers_only_child_and_a_trailing_stop_is_schwabs(authorised, double, make_broker):
    broker, seen = await make_broker(authorised)
    await seen.connected(broker)
    entry, exits = bracket("s2", stop="90")
    await broker.submit_bracket(entry, exits)
    assert double.bodies[-1]["childOrderStrategies"] == [single("SELL", "STOP", stopPrice="90")]

    # a short entry: covered by a target and a trailing stop that follows the ask by 1.5 %
    double.positions["TSLA"] = {"qty": 0, "avg": Decimal(0), "asset": "EQUITY"}
    entry, exits = bracket("s3", "TSLA", "sell", 4, target="200", trail=Offset("percent", Decimal("1.5")))
    await broker.submit_bracket(entry, exits)
    body = double.bodies[-1]
    assert body["orderLegCollection"][0]["instruction"] == "SELL_SHORT"
    [oco] = body["childOrderStrategies"]
    target, trailing = oco["childOrderStrategies"]
    assert target["orderLegCollection"][0]["instruction"] == trailing["orderLegCollection"][0]["instruction"] == \
        "BUY_TO_COVER"
    assert {k: trailing[k] for k in trailing if k.startswith("stopPrice") or k == "orderType"} == {
        "orderType": "TRAILING_STOP", "stopPriceLinkBasis": "ASK", "stopPriceLinkType": "PERCENT", "stopPriceOffset": 1.5}
    await seen.wait(lambda: set(seen.statuses("s3-ts")) == {S.SUBMITTED}, what="the trailing stop found nested")
    parent = double.nodes[int(broker._broker_ids["s3"])]
    double.fill(parent["orderId"], 4, "210")
    await seen.wait(lambda: seen.statuses("s3-ts")[-1:] == [S.WORKING])

    entry, exits = bracket("s4", trail=Offset("ticks", Decimal(25)), target="120")
    await broker.submit_bracket(entry, exits)
    trailing = double.bodies[-1]["childOrderStrategies"][0]["childOrderStrategies"][1]
    assert (trailing["stopPriceLinkBasis"], trailing["stopPriceLinkType"], trailing["stopPriceOffset"]) == \
        ("BID", "VALUE", 0.25)  # a trail in ticks goes as its value


async def test_cancelling_an_exit_cancels_the_oco_and_cancelling_the_entry_everything(authorised, double, make_broker):
    broker, seen = await make_broker(authorised)
    await seen.connected(broker)
    entry, exits = bracket("s5", order_type=OrderType.LIMIT, limit="99", stop="90", target="120")
    await broker.submit_bracket(entry, exits)
    await seen.wait(lambda: set(seen.statuses("s5-tp")) == {S.SUBMITTED})
    double.fill(int(broker._broker_ids["s5"]), 10, "99")
    await seen.wait(lambda: seen.statuses("s5-tp")[-1:] == [S.WORKING])
    await broker.cancel("s5-tp")  # Schwab takes the OCO whole: the stop goes too, the entry stays
    await seen.wait(lambda: seen.statuses("s5-tp")[-1:] == [S.CANCELLED] and seen.statuses("s5-sl")[-1:] == [S.CANCELLED])
    assert seen.statuses("s5")[-1] is S.FILLED

    entry, exits = bracket("s6", order_type=OrderType.LIMIT, limit="98", stop="90", target="120")
    await broker.submit_bracket(entry, exits)
    await seen.wait(lambda: set(seen.statuses("s6-sl")) == {S.SUBMITTED})
    await broker.cancel("s6")
    await seen.wait(lambda: all(seen.statuses(c)[-1:] == [S.CANCELLED] for c in ("s6", "s6-sl", "s6-tp")))
    assert double.count("DELETE", "/orders/") == 2


async def test_refused_nothing_is_placed_and_the_entry_may_go_alone(authorised, double, make_broker):
    broker, seen = await make_broker(authorised)
    await seen.connected(broker)
    double.refuse_conditional = "Conditional orders are not enabled for this account"
    entry, exits = bracket("s7", stop="90", target="120")
    with pytest.raises(BracketRefused, match="Schwab refused the bracket: Conditional orders are not enabled"):
        await broker.submit_bracket(entry, exits)
    assert not double.orders and seen.statuses("s7") == []
    await broker.submit(entry)
    await seen.wait(lambda: S.WORKING in seen.statuses("s7"))
    assert [o["orderStrategyType"] for o in double.orders.values()] == ["SINGLE"]

    future, exits = bracket("s8", "ES", stop="5990", target="6020", instrument="/ESZ5")
    with pytest.raises(BrokerError, match="takes no futures") as refused:
        await broker.submit_bracket(future, exits)
    assert not isinstance(refused.value, BracketRefused)  # the entry itself cannot go: rejected, not sent alone
    with pytest.raises(BracketRefused, match="not 0"):
        await broker.submit_bracket(*bracket("s9"))


async def test_a_lost_answer_finds_the_bracket_and_a_restart_resumes_its_held_exits(authorised, double, make_broker):
    broker, seen = await make_broker(authorised)
    await seen.connected(broker)
    double.fail_after_placing = True
    entry, exits = bracket("s10", order_type=OrderType.LIMIT, limit="97", stop="90", target="120")
    await broker.submit_bracket(entry, exits)
    await seen.wait(lambda: set(seen.statuses("s10-sl")) == {S.SUBMITTED} and set(seen.statuses("s10-tp")) == {S.SUBMITTED},
                    what="entry found after the reconnect, its exits nested in it")
    assert len(double.bodies) == 1 and len(double.orders) == 1  # found, not sent again
    await broker.stop()

    parent, _, stop, target = double.trigger_tree(max(double.orders))
    placed = Order(entry, status=S.WORKING, broker_order_id=str(parent["orderId"]))
    held = [Order(exits[0], status=S.HELD, broker_order_id=str(stop["orderId"])), Order(exits[1], status=S.HELD)]
    again, seen2 = await make_broker(authorised, resume=[placed, *held])
    await seen2.reconciled()
    double.fill(parent["orderId"], 10, "97")
    double.fill(target["orderId"], 10, "120")
    await seen2.wait(lambda: seen2.statuses("s10-sl")[-1:] == [S.CANCELLED] and S.FILLED in seen2.statuses("s10-tp"))
    assert len(double.bodies) == 1  # the held exit without an id was found nested, never sent on its own
