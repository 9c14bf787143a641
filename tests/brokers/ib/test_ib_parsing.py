"""IB's vocabulary without a socket: statuses, errors, unset values, order fields, symbols, rolls, strikes."""

from __future__ import annotations

import math
import sys
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from station.brokers.ib import parsing, symbols
from station.brokers.ib.symbols import UnknownSymbol
from station.domain.contract_map import ContractMapping
from station.domain.enums import OrderRole, OrderStatus, OrderType, Side, TimeInForce
from station.domain.instructions import Offset
from station.domain.orders import OrderRequest

S = OrderStatus


def test_every_ib_order_status_maps_and_fills_turn_working_into_partially_filled():
    assert set(parsing.MAP_ORDER_STATUS) == {"PendingSubmit", "ApiPending", "PreSubmitted", "Submitted", "ApiUpdate",
                                             "PendingCancel", "ValidationError", "ApiCancelled", "Cancelled",
                                             "Inactive", "Filled"}
    assert parsing.status_of("Submitted", 0, 10) is S.WORKING
    assert parsing.status_of("PreSubmitted", 0, 10) is S.WORKING
    assert parsing.status_of("Submitted", 4, 6) is S.PARTIALLY_FILLED
    assert parsing.status_of("Filled", 10, 0) is S.FILLED
    assert parsing.status_of("Cancelled", 4, 6) is S.CANCELLED
    assert parsing.status_of("Inactive", 0, 10) is S.REJECTED
    assert parsing.status_of("PendingCancel", 0, 10) is None
    assert parsing.status_of("SomethingNew", 0, 10) is None
    assert parsing.status_of("Submitted", sys.float_info.max, 10) is S.WORKING  # unset filled is no fill


@pytest.mark.parametrize("value", [sys.float_info.max, parsing.UNSET_INTEGER, math.nan, math.inf, -math.inf, None, "", "x", True])
def test_unset_sentinels_and_junk_never_become_numbers(value):
    assert parsing.clean_float(value) is None
    assert parsing.to_decimal(value) is None


def test_numbers_keep_their_short_form():
    assert parsing.to_decimal(101.1) == Decimal("101.1")
    assert parsing.to_decimal("5800.25") == Decimal("5800.25")
    assert parsing.clean_float(0) == 0.0


def test_error_codes_are_classified_by_what_they_mean():
    assert parsing.classify_error(2104) == "info"
    assert parsing.classify_error(1100) == "link_lost"
    assert parsing.classify_error(1102) == "link_restored"
    assert parsing.classify_error(202) == "cancel"
    assert parsing.classify_error(326) == "client_id"
    assert parsing.classify_error(399) == "warning"
    assert parsing.classify_error(201) == "error"


def test_reject_reason_keeps_ibs_sentence_and_code():
    assert parsing.reject_reason("Error 201, reqId 12: Order rejected - reason:NO MARGIN, contract: Stock(…)", 201) \
        == "IB 201: Order rejected - reason:NO MARGIN"
    assert parsing.reject_reason("Duplicate order id", 103) == "IB 103: Duplicate order id"


def _request(**fields) -> OrderRequest:
    values = dict(client_order_id="a1-Mom-ib", destination="ib", ticker="AAPL", side=Side.SELL, qty=Decimal(3))
    return OrderRequest(**{**values, **fields})


def test_order_fields_for_every_order_type():
    assert parsing.order_fields(_request(), account="DU1") == {
        "action": "SELL", "totalQuantity": 3.0, "orderType": "MKT", "tif": "DAY", "orderRef": "a1-Mom-ib",
        "account": "DU1"}
    limit = parsing.order_fields(_request(order_type=OrderType.LIMIT, limit_price=Decimal("10.5"),
                                          tif=TimeInForce.GTC), account=None)
    assert (limit["orderType"], limit["lmtPrice"], limit["tif"], "account" in limit) == ("LMT", 10.5, "GTC", False)
    stop = parsing.order_fields(_request(order_type=OrderType.STOP, stop_price=Decimal(9)), account=None)
    assert (stop["orderType"], stop["auxPrice"], "lmtPrice" in stop) == ("STP", 9.0, False)
    both = parsing.order_fields(_request(order_type=OrderType.STOP_LIMIT, stop_price=Decimal(9),
                                         limit_price=Decimal("8.9")), account=None)
    assert (both["orderType"], both["auxPrice"], both["lmtPrice"]) == ("STP LMT", 9.0, 8.9)
    trail = dict(order_type=OrderType.TRAILING_STOP, role=OrderRole.TRAILING_STOP, parent_id="a1", stop_price=Decimal(9),
                 tick_size=Decimal("0.25"))
    ticks = parsing.order_fields(_request(offset=Offset("ticks", Decimal(6)), **trail), account=None)
    assert (ticks["orderType"], ticks["auxPrice"], "trailStopPrice" in ticks, "trailingPercent" in ticks) == \
        ("TRAIL", 1.5, False, False)  # the trailing amount; TWS sets the stop when the order goes live
    percent = parsing.order_fields(_request(offset=Offset("percent", Decimal("0.8")), **trail), account=None)
    assert (percent["trailingPercent"], "auxPrice" in percent) == (0.8, False)


def test_fill_time_and_average_price_and_display_names():
    fallback = datetime(2025, 3, 3, tzinfo=timezone.utc)
    eastern = datetime(2025, 3, 3, 9, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert parsing.fill_time(eastern, fallback) == datetime(2025, 3, 3, 14, 30, tzinfo=timezone.utc)
    assert parsing.fill_time(None, fallback) is fallback
    assert parsing.fill_time(datetime(1970, 1, 1, tzinfo=timezone.utc), fallback) is fallback
    assert parsing.average_price(290000.0, "FUT", "50") == Decimal(5800)
    assert parsing.average_price(190.5, "STK", "") == Decimal("190.5")
    assert parsing.average_price(sys.float_info.max, "STK", "") is None
    assert parsing.display_symbol("OPT", "SPX", "", "20250303", 5815.0, "C", "SPXW") == "SPXW 2025-03-03 5815C"
    assert parsing.display_symbol("FUT", "ES", "ESH5") == "ESH5"
    assert parsing.display_symbol("STK", "BRK B") == "BRK.B"


@pytest.mark.parametrize("text, expected", [
    ("AAPL", ("STK", "AAPL", "SMART", "", "")),
    ("nasdaq:aapl", ("STK", "AAPL", "SMART", "NASDAQ", "")),
    ("BRK.B", ("STK", "BRK B", "SMART", "", "")),
    ("ES1!", ("FUT", "ES", "CME", "", "")),
    ("CME_MINI:MES1!", ("FUT", "MES", "CME", "", "")),
    ("M2K1!", ("FUT", "M2K", "CME", "", "")),
    ("6E1!", ("FUT", "EUR", "CME", "", "")),
    ("ESZ2025", ("FUT", "ES", "CME", "", "202512")),
    ("MESH26", ("FUT", "MES", "CME", "", "202603")),
    ("MES 12-26", ("FUT", "MES", "CME", "", "202612")),
    ("SPX", ("IND", "SPX", "CBOE", "", "")),
    ("SPXW 2025-03-03 5800C", ("OPT", "SPX", "SMART", "", "20250303")),
    ("SPXW  250515C05900000", ("OPT", "SPX", "SMART", "", "20250515")),
])
def test_tradingview_symbols_read_as_contracts(text, expected):
    m = symbols.parse_symbol(text)
    assert (m.sec_type, m.symbol, m.exchange, m.primary_exchange, m.expiry) == expected


def test_an_occ_symbol_names_one_contract():
    m = symbols.parse_symbol("SPXW  250515P05902500")
    assert (m.trading_class, m.right, m.strike, m.expiry) == ("SPXW", "P", Decimal("5902.5"), "20250515")


def test_zero_dte_symbols_name_the_side_and_distance_from_the_money():
    m = symbols.parse_symbol("SPXW 0DTE +2 P")
    assert (m.sec_type, m.trading_class, m.right, m.strike_offset, m.expiry, m.strike) == ("OPT", "SPXW", "P", 2, "", None)
    assert symbols.parse_symbol("spxw 0dte call").right == "C"
    assert "0DTE" in m.rule() or "today" in m.rule()


@pytest.mark.parametrize("text", ["", "??", "ES2!", "MES 13-26", "SPXW 2025-02-30 5800C", "TOOLONGNAME"])
def test_unreadable_symbols_say_so(text):
    with pytest.raises(UnknownSymbol):
        symbols.parse_symbol(text)


def test_front_month_rolls_the_given_days_before_the_last_trading_day():
    listed = ["20250321", "20250620", "20250919"]
    assert symbols.front_month(listed, date(2025, 3, 3), 8) == "20250321"
    assert symbols.front_month(listed, date(2025, 3, 12), 8) == "20250321"
    assert symbols.front_month(listed, date(2025, 3, 13), 8) == "20250620"  # the roll date: move on
    assert symbols.front_month(listed, date(2025, 3, 13), 0) == "20250321"
    with pytest.raises(UnknownSymbol):
        symbols.front_month(listed, date(2025, 9, 30), 8)


def test_strikes_around_the_money_and_todays_expiry():
    strikes = [5790.0, 5795.0, 5800.0, 5805.0, 5810.0]
    assert symbols.pick_strike(strikes, 5801.0, "C") == 5800.0
    assert symbols.pick_strike(strikes, 5803.0, "C") == 5805.0
    assert symbols.pick_strike(strikes, 5802.5, "C") == 5800.0  # a tie goes to the lower strike
    assert symbols.pick_strike(strikes, 5801.0, "C", 2) == 5810.0
    assert symbols.pick_strike(strikes, 5801.0, "P", 2) == 5790.0
    with pytest.raises(UnknownSymbol):
        symbols.pick_strike(strikes, 5801.0, "C", 3)
    assert symbols.zero_dte_expiry(["20250303", "20250304"], date(2025, 3, 3)) == "20250303"
    with pytest.raises(UnknownSymbol, match="the next is 20250303"):
        symbols.zero_dte_expiry(["20250303"], date(2025, 3, 1))


def test_contract_mapping_checks_its_fields_and_describes_its_rule():
    with pytest.raises(ValueError, match="sec_type"):
        ContractMapping("X", "BOND", "X")
    with pytest.raises(ValueError, match="right"):
        ContractMapping("X", "OPT", "SPX")
    with pytest.raises(ValueError, match="expiry"):
        ContractMapping("X", "FUT", "ES", expiry="2025-12")
    assert ContractMapping("ES1!", "FUT", "ES", exchange="CME", roll_days=5).rule() == \
        "front month; rolls 5 days before the last trading day"
    assert ContractMapping("X", "OPT", "SPX", right="P", strike_offset=1, trading_class="SPXW").rule() == \
        "today's expiry (0DTE), 1 strike(s) out of the money, put"
    assert ContractMapping("AAPL", "STK", "AAPL", primary_exchange="NASDAQ").rule() == "SMART (primary NASDAQ)"
