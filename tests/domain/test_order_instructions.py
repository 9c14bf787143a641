"""The contract's order instructions, read field by field: every row of the table, every refusal naming its field,
numbers as strings, offsets resolved with the instrument's tick (a ticker's `tick_size` wins)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from station.domain.enums import AlertAction, OrderRole, OrderType, Side, TimeInForce
from station.domain.exits import exit_price, trailing_stop
from station.domain.instructions import ExitLevel, Offset, OrderInstructions, read_instructions
from station.domain.ticks import round_to_tick, tick_size


def read(fields, action=Side.BUY, price=D(5000)):
    errors: dict[str, str] = {}
    return read_instructions(fields, errors, action=action, price=price), errors


@pytest.mark.parametrize("fields,expected", [
    ({}, None),
    ({"order_type": "market"}, OrderInstructions(order_type=OrderType.MARKET)),
    ({"order_type": "LIMIT", "limit_price": "4990.5"}, OrderInstructions(order_type=OrderType.LIMIT, limit_price=D("4990.5"))),
    ({"order_type": "stop", "stop_price": 5010}, OrderInstructions(order_type=OrderType.STOP, stop_price=D(5010))),
    ({"order_type": "stop_limit", "stop_price": 5010, "limit_price": 5011},
     OrderInstructions(order_type=OrderType.STOP_LIMIT, stop_price=D(5010), limit_price=D(5011))),
    ({"tif": "GTC"}, OrderInstructions(tif=TimeInForce.GTC)),
    ({"tif": "day"}, OrderInstructions(tif=TimeInForce.DAY)),
    ({"stop_loss": "4990"}, OrderInstructions(stop_loss=ExitLevel(price=D(4990)))),
    ({"take_profit": 5010.25}, OrderInstructions(take_profit=ExitLevel(price=D("5010.25")))),
    ({"stop_loss": {"ticks": "8"}}, OrderInstructions(stop_loss=ExitLevel(offset=Offset("ticks", D(8))))),
    ({"take_profit": {"points": 4.5}}, OrderInstructions(take_profit=ExitLevel(offset=Offset("points", D("4.5"))))),
    ({"take_profit": {"percent": "0.5"}}, OrderInstructions(take_profit=ExitLevel(offset=Offset("percent", D("0.5"))))),
    ({"trailing_stop": {"ticks": 12}}, OrderInstructions(trailing_stop=Offset("ticks", D(12)))),
    ({"order_type": "", "stop_loss": None}, None),  # empty and null are "not given"
])
def test_each_row_of_the_table_reads_as_given(fields, expected):
    instructions, errors = read(fields)
    assert errors == {} and instructions == expected


@pytest.mark.parametrize("fields,field,why", [
    ({"order_type": "limit"}, "limit_price", "required by order_type limit"),
    ({"order_type": "stop_limit", "stop_price": 1}, "limit_price", "required"),
    ({"order_type": "stop"}, "stop_price", "required"),
    ({"limit_price": 4990}, "limit_price", "not taken by order_type market"),
    ({"order_type": "stop", "stop_price": 5010, "limit_price": 5011}, "limit_price", "not taken by order_type stop"),
    ({"order_type": "limit", "limit_price": 4990, "stop_price": 4980}, "stop_price", "not taken"),
    ({"order_type": "trailing_stop"}, "order_type", "market, limit, stop or stop_limit"),
    ({"tif": "ioc"}, "tif", "day or gtc"),
    ({"limit_price": "{{close}}", "order_type": "limit"}, "limit_price", "not a number"),
    ({"order_type": "limit", "limit_price": -1}, "limit_price", "greater than 0"),
    ({"order_type": "limit", "limit_price": "1e-30"}, "limit_price", "at least 0.00000001"),  # absurd, as for price
    ({"stop_loss": {"points": 1e-12}}, "stop_loss", "at least 0.00000001"),
    ({"stop_loss": 5000}, "stop_loss", "below the alert's price"),
    ({"take_profit": 4999}, "take_profit", "above the alert's price"),
    ({"order_type": "limit", "limit_price": 4990, "stop_loss": 4991}, "stop_loss", "below limit_price 4990"),
    ({"order_type": "limit", "limit_price": 4990, "take_profit": 4985}, "take_profit", "above limit_price"),
    ({"stop_loss": {"ticks": 0}}, "stop_loss", "greater than 0"),
    ({"take_profit": {"points": "-1"}}, "take_profit", "greater than 0"),
    ({"trailing_stop": {"percent": 0}}, "trailing_stop", "greater than 0"),
    ({"stop_loss": {"ticks": 8, "foo": 1}}, "stop_loss", "unknown key 'foo'"),
    ({"trailing_stop": {"pips": 8}}, "trailing_stop", "unknown key 'pips'"),
    ({"stop_loss": {}}, "stop_loss", "needs one of"),
    ({"stop_loss": {"ticks": 8, "points": 2}}, "stop_loss", "not several"),
    ({"stop_loss": {"ticks": 2.5}}, "stop_loss", "whole number"),
    ({"trailing_stop": 12}, "trailing_stop", "must be an offset"),
    ({"trailing_stop": {"ticks": 8}, "stop_loss": 4990}, "trailing_stop", "not taken together with stop_loss"),
])
def test_each_refusal_names_its_field(fields, field, why):
    instructions, errors = read(fields)
    assert instructions is None and why in errors[field], errors


def test_a_sell_mirrors_the_sides_and_no_price_means_no_side_check():
    assert read({"stop_loss": 5001, "take_profit": 4990}, action=Side.SELL)[1] == {}
    assert "above" in read({"stop_loss": 4999}, action=Side.SELL)[1]["stop_loss"]
    assert read({"stop_loss": 5100}, price=None)[1] == {}  # a market entry with no price: judged at its fill


@pytest.mark.parametrize("action", [AlertAction.EXIT, AlertAction.CANCEL])
def test_exit_and_cancel_take_no_instructions(action):
    instructions, errors = read({"order_type": "limit", "limit_price": 1, "stop_loss": {"ticks": 4}}, action=action)
    assert instructions is None and set(errors) == {"order_type", "limit_price", "stop_loss"}
    assert read({}, action=action) == (None, {})


def test_reverse_takes_them_for_its_new_side():
    instructions, errors = read({"stop_loss": {"ticks": 4}}, action=AlertAction.REVERSE)
    assert errors == {} and instructions.is_bracket


def test_the_port_line_names_all_seven_fields_with_nulls():
    instructions, _ = read({"take_profit": {"ticks": 16}, "tif": "gtc"})
    assert instructions.line_fields() == {"order_type": None, "limit_price": None, "stop_price": None, "tif": "gtc",
                                          "stop_loss": None, "take_profit": {"ticks": 16}, "trailing_stop": None}
    assert OrderInstructions.from_json(instructions.to_json()) == instructions


def test_ticks_are_the_instruments_and_a_tickers_setting_wins():
    assert tick_size("ES") == D("0.25") and tick_size("CME_MINI:ES1!") == D("0.25")
    assert tick_size("MES", "MES 12-26") == D("0.25") and tick_size("ZN") == D("0.015625")
    assert tick_size("AAPL") == D("0.01") and tick_size("ES", configured="0.5") == D("0.5")
    assert round_to_tick(D("4987.6"), D("0.25")) == D("4987.5")


def test_exit_prices_from_the_fill():
    eight = Offset("ticks", D(8))
    assert exit_price(OrderRole.STOP_LOSS, Side.BUY, D(5000), eight, D("0.25")) == D(4998)
    assert exit_price(OrderRole.TAKE_PROFIT, Side.BUY, D(5000), eight, D("0.25")) == D(5002)
    assert exit_price(OrderRole.STOP_LOSS, Side.SELL, D(5000), Offset("points", D(3)), D("0.25")) == D(5003)
    assert exit_price(OrderRole.TAKE_PROFIT, Side.SELL, D(200), Offset("percent", D(1)), D("0.01")) == D(198)
    assert trailing_stop(Side.BUY, D(5010), Offset("points", D(2)), D("0.25")) == D(5008)
