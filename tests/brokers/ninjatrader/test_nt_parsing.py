"""NinjaTrader wire formats, without a socket or a folder.

Port lines: ../shared/CONTRACT.md "NinjaTrader" (exact bytes, Eastern time across DST,
spreads, nulls). OIF lines: NinjaTrader 8 help "Order Instruction Files (OIF)" and
"Commands and Valid Parameters" (PLACE/CANCEL, 13 fields, unused prices 0, STOPMARKET).
Outgoing files: NinjaTrader 8 help "Information Update Files" (order state
`State;Filled;AvgPrice`, position `<instrument> <exchange>_<account>_Position.txt` with
`LONG|SHORT|FLAT;Qty;AvgPrice`, connection `CONNECTED|DISCONNECTED`).
"""

import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from station.brokers.ninjatrader.parsing import (
    fill_delta, instrument_without_exchange, oif_cancel, oif_place, parse_connection_state,
    parse_order_state, parse_position, port_fields, port_line, position_instrument,
)
from station.domain.alert import Alert, SpreadTicker
from station.domain.enums import OrderStatus, OrderType, Side, TimeInForce
from station.domain.orders import OrderRequest

UTC = timezone.utc
D = Decimal


def alert(**kw) -> Alert:
    fields = dict(ticker="AAPL", action=Side.BUY, received_at=datetime(2024, 1, 4, 15, 30, 0, 123456, UTC),
                  alert_id=17)
    fields.update(kw)
    return Alert(**fields)


def request(a: Alert | None = None, **kw) -> OrderRequest:
    fields = dict(client_order_id="a17-MomentumStrategy-port_5001", destination="port:5001", ticker="AAPL",
                  side=Side.BUY, qty=D(10), strategy="MomentumStrategy", alert_id=17, alert=a)
    fields.update(kw)
    return OrderRequest(**fields)


# ---- port lines -----------------------------------------------------------------------------

def test_dialect_1_alert_gives_the_exact_contract_line():
    a = alert(qty=D(10), price=D("150.25"), sent_at=datetime(2024, 1, 4, 15, 30, tzinfo=UTC),
              trade_id="Open_Long_ID_123", position="short", dialect=1)
    assert port_line(request(a)) == (
        b'{"id": "a17-MomentumStrategy-port_5001", "alert_id": 17, "strategy": "MomentumStrategy", '
        b'"ticker": "AAPL", "action": "buy", "qty": 10, "price": 150.25, "position": "short", '
        b'"target_position": null, "trade_id": "Open_Long_ID_123", "time": "2024-01-04T10:30:00-05:00", "order_type": null, "limit_price": null, "stop_price": null, '
        b'"tif": null, "stop_loss": null, "take_profit": null, "trailing_stop": null}\n')


def test_line_is_one_json_object_with_numbers_as_numbers():
    a = alert(qty=D("100"), price=D("400.2"), dialect=2)
    data = port_line(request(a))
    assert data.endswith(b"\n") and data.count(b"\n") == 1
    line = json.loads(data)
    assert type(line["qty"]) is int and line["qty"] == 100
    assert type(line["price"]) is float and line["price"] == 400.2
    assert type(line["alert_id"]) is int


@pytest.mark.parametrize("utc, eastern", [
    (datetime(2024, 1, 4, 15, 30, tzinfo=UTC), "2024-01-04T10:30:00-05:00"),
    (datetime(2024, 7, 4, 15, 30, tzinfo=UTC), "2024-07-04T11:30:00-04:00"),
    (datetime(2024, 3, 10, 6, 59, 59, tzinfo=UTC), "2024-03-10T01:59:59-05:00"),  # last second of EST
    (datetime(2024, 3, 10, 7, 0, 0, tzinfo=UTC), "2024-03-10T03:00:00-04:00"),  # clocks spring forward
    (datetime(2024, 11, 3, 5, 59, 59, tzinfo=UTC), "2024-11-03T01:59:59-04:00"),  # first 1:59 (EDT)
    (datetime(2024, 11, 3, 6, 0, 0, tzinfo=UTC), "2024-11-03T01:00:00-05:00"),  # 1:00 again, EST
])
def test_time_is_eastern_with_the_offset_of_that_day(utc, eastern):
    assert port_fields(request(alert(sent_at=utc)))["time"] == eastern


def test_time_falls_back_to_when_the_alert_was_received():
    fields = port_fields(request(alert(sent_at=None)))
    assert fields["time"] == "2024-01-04T10:30:00-05:00"  # to the second


def test_spread_alert_carries_its_legs():
    a = alert(ticker="NMFC-0.72*NASDAQ:ROIC", qty=D("100"), price=D("400.2"), position="flat",
              target_position="long", trade_id="Enter Long", dialect=2,
              spread=SpreadTicker("NMFC", D("0.72"), "NASDAQ:ROIC"))
    fields = port_fields(request(a, ticker="NMFC-0.72*NASDAQ:ROIC"))
    assert list(fields)[-3:] == ["ticker1", "hedge", "ticker2"]
    assert (fields["ticker1"], fields["hedge"], fields["ticker2"]) == ("NMFC", 0.72, "NASDAQ:ROIC")
    assert fields["ticker"] == "NMFC-0.72*NASDAQ:ROIC"
    assert (fields["position"], fields["target_position"], fields["trade_id"]) == ("flat", "long", "Enter Long")


def test_dialect_3_has_nulls_where_it_carries_nothing_and_no_spread_keys():
    a = alert(ticker="ES", qty=D(1), price=D("4500.50"), sent_at=datetime(2023, 5, 1, 12, 34, 56, tzinfo=UTC),
              dialect=3, alert_id=3)
    line = json.loads(port_line(request(a, ticker="ES", alert_id=3)))
    assert list(line) == ["id", "alert_id", "strategy", "ticker", "action", "qty", "price", "position",
                          "target_position", "trade_id", "time", "order_type", "limit_price", "stop_price", "tif",
                          "stop_loss", "take_profit", "trailing_stop"]
    assert line["position"] is None and line["target_position"] is None and line["trade_id"] is None
    assert line["price"] == 4500.5 and line["time"] == "2023-05-01T08:34:56-04:00"


def test_alert_without_quantity_or_price_sends_null():
    line = json.loads(port_line(request(alert(qty=None, price=None))))
    assert line["qty"] is None and line["price"] is None


def test_strategy_is_the_routed_one_and_action_lower_case():
    a = alert(action=Side.SELL, strategy=None)
    line = json.loads(port_line(request(a, side=Side.SELL, strategy="Other")))
    assert line["strategy"] == "Other" and line["action"] == "sell"


def test_order_without_an_alert_builds_the_line_from_the_request():
    r = request(None, client_order_id="m5-S-port_5001", alert_id=None, qty=D(3), price_hint=D("12.5"),
                created_at=datetime(2024, 7, 1, 14, 0, tzinfo=UTC))
    line = json.loads(port_line(r))
    assert line == {"id": "m5-S-port_5001", "alert_id": None, "strategy": "MomentumStrategy", "ticker": "AAPL",
                    "action": "buy", "qty": 3, "price": 12.5, "position": None, "target_position": None,
                    "trade_id": None, "time": "2024-07-01T10:00:00-04:00", "order_type": "market",
                    "limit_price": None, "stop_price": None, "tif": "day", "stop_loss": None, "take_profit": None,
                    "trailing_stop": None}


def test_non_finite_number_is_refused():
    with pytest.raises(ValueError):
        port_line(request(alert(price=D("NaN"))))


# ---- order instruction files ----------------------------------------------------------------

def ati_request(**kw) -> OrderRequest:
    fields = dict(client_order_id="a17-MomentumStrategy-nt-sim", destination="nt-sim", ticker="MES",
                  side=Side.BUY, qty=D(1), instrument="MES 12-26")
    fields.update(kw)
    return OrderRequest(**fields)


def test_place_market_order_is_the_exact_contract_line():
    assert oif_place(ati_request(), "Sim101") == "PLACE;Sim101;MES 12-26;BUY;1;MARKET;0;0;DAY;;a17-MomentumStrategy-nt-sim;;"


@pytest.mark.parametrize("kw, expected", [
    (dict(side=Side.SELL, qty=D(2), order_type=OrderType.LIMIT, limit_price=D("5000.250"), tif=TimeInForce.GTC),
     "PLACE;Sim101;MES 12-26;SELL;2;LIMIT;5000.25;0;GTC;;X;;"),
    (dict(order_type=OrderType.STOP, stop_price=D("4990.5")), "PLACE;Sim101;MES 12-26;BUY;1;STOPMARKET;0;4990.5;DAY;;X;;"),
    (dict(order_type=OrderType.STOP_LIMIT, limit_price=D("4991"), stop_price=D("4990.5")),
     "PLACE;Sim101;MES 12-26;BUY;1;STOPLIMIT;4991;4990.5;DAY;;X;;"),
    (dict(instrument=None, qty=D("3.0")), "PLACE;Sim101;MES;BUY;3;MARKET;0;0;DAY;;X;;"),
])
def test_place_order_types_prices_and_instrument(kw, expected):
    line = oif_place(ati_request(client_order_id="X", **kw), "Sim101")
    assert line == expected and len(line.split(";")) == 13


def test_place_overrides_from_the_destination():
    line = oif_place(ati_request(client_order_id="X"), "Sim101", order_type=OrderType.LIMIT,
                     limit_price=D("5001.75"), tif=TimeInForce.GTC)
    assert line == "PLACE;Sim101;MES 12-26;BUY;1;LIMIT;5001.75;0;GTC;;X;;"


@pytest.mark.parametrize("kw, account, message", [
    (dict(qty=D("1.5")), "Sim101", "whole numbers"),
    ({}, "Sim;101", "may not contain"),
    (dict(instrument="MES\n12-26"), "Sim101", "may not contain"),
    ({}, "  ", "account is empty"),
])
def test_place_refuses_what_the_ati_cannot_take(kw, account, message):
    with pytest.raises(ValueError, match=message):
        oif_place(ati_request(**kw), account)


def test_cancel_is_the_ati_cancel_command():
    line = oif_cancel("a17-MomentumStrategy-nt-sim")
    assert line == "CANCEL;;;;;;;;;;a17-MomentumStrategy-nt-sim;;"
    assert line.split(";")[10] == "a17-MomentumStrategy-nt-sim" and len(line.split(";")) == 13


# ---- information update files ---------------------------------------------------------------

@pytest.mark.parametrize("text, state, status, filled, avg", [
    ("FILLED;1;5000.5", "FILLED", OrderStatus.FILLED, D(1), D("5000.5")),
    ("PARTFILLED;1;5000\r\n", "PARTFILLED", OrderStatus.PARTIALLY_FILLED, D(1), D(5000)),
    ("WORKING;0;0\n", "WORKING", OrderStatus.WORKING, D(0), None),
    ("ACCEPTED;0;0", "ACCEPTED", OrderStatus.WORKING, D(0), None),
    ("\ufeffSUBMITTED;0;0", "SUBMITTED", OrderStatus.SUBMITTED, D(0), None),
    ("CANCELLED;0;0", "CANCELLED", OrderStatus.CANCELLED, D(0), None),
    ("REJECTED;0;0", "REJECTED", OrderStatus.REJECTED, D(0), None),
    ("CancelPending;0;0", "CANCELPENDING", None, D(0), None),
    ("FILLED;2;5000,25", "FILLED", OrderStatus.FILLED, D(2), D("5000.25")),  # European decimal comma
    ("FILLED;2;5000.25;", "FILLED", OrderStatus.FILLED, D(2), D("5000.25")),
])
def test_order_state_files(text, state, status, filled, avg):
    parsed = parse_order_state(text)
    assert (parsed.state, parsed.status, parsed.filled, parsed.avg_price) == (state, status, filled, avg)


@pytest.mark.parametrize("text, message", [
    ("", "empty"), ("HELLO", "3 fields"), ("FILLED;1", "3 fields"), ("DONE;1;5", "unknown order state"),
    ("FILLED;x;5000", "not a number"), ("FILLED;-1;5000", "not a usable number"),
    ("FILLED;1.5;5000", "whole number"), ("FILLED;1;0", "average price of 0"), ("FILLED;1;inf", "usable"),
])
def test_order_state_garbage_says_what_is_wrong(text, message):
    with pytest.raises(ValueError, match=message):
        parse_order_state(text)


def test_position_file_names():
    assert position_instrument("ES 12-26 Globex_Sim101_Position.txt", "Sim101") == "ES 12-26 Globex"
    assert position_instrument("MES 12-26 Globex_sim101_position.txt", "Sim101") == "MES 12-26 Globex"
    assert position_instrument("NQ 12-26 Globex_APEX_1_01_Position.txt", "APEX_1_01") == "NQ 12-26 Globex"
    assert position_instrument("ES 12-26 Globex_Sim102_Position.txt", "Sim101") is None
    assert position_instrument("a17-S-nt.txt", "Sim101") is None
    assert instrument_without_exchange("ES 12-26 Globex") == "ES 12-26"
    assert instrument_without_exchange("AAPL") == "AAPL"


@pytest.mark.parametrize("text, qty, avg", [
    ("LONG;2;5000.25", D(2), D("5000.25")), ("SHORT;1;4999", D(-1), D(4999)), ("FLAT;0;0", D(0), None),
])
def test_position_contents(text, qty, avg):
    position = parse_position("ES 12-26", text)
    assert (position.instrument, position.qty, position.avg_price) == ("ES 12-26", qty, avg)


@pytest.mark.parametrize("text", ["UP;1;2", "LONG;0;5000", "LONG;a;1", "LONG;1"])
def test_position_garbage(text):
    with pytest.raises(ValueError):
        parse_position("ES 12-26", text)


def test_connection_state_files():
    assert parse_connection_state("CONNECTED\r\n") == "CONNECTED"
    assert parse_connection_state("Disconnected") == "DISCONNECTED"
    assert parse_connection_state("FILLED;1;2") is None and parse_connection_state("") is None


def test_fill_delta_from_cumulative_reports():
    assert fill_delta(D(0), None, D(1), D("5000.5")) == (D(1), D("5000.5"))
    assert fill_delta(D(1), D("5000.25"), D(2), D("5000.5")) == (D(1), D("5000.75"))
    assert fill_delta(D(1), D(5000), D(3), D(5000)) == (D(2), D(5000))
    assert str(fill_delta(D(1), D(5000), D(3), D(5000))[1]) == "5000"
    assert fill_delta(D(2), D(5000), D(2), D(5000)) is None
    assert fill_delta(D(0), None, D(3), D("100.1")) == (D(3), D("100.1"))
