from datetime import datetime, timezone
from decimal import Decimal as D

import pytest

from station.domain import (
    Alert, Fill, InvalidTransition, Order, OrderRequest, OrderStatus, OrderType, Position, Side,
)
from station.domain.timeutil import parse_utc, to_eastern

T = datetime(2024, 1, 4, 15, 30, tzinfo=timezone.utc)


def request(**kw) -> OrderRequest:
    return OrderRequest(**{"client_order_id": "a17-paper", "destination": "paper", "ticker": "AAPL",
                           "side": Side.BUY, "qty": D(10), "created_at": T, **kw})


def fill(side: Side, qty, price, commission=0) -> Fill:
    return Fill("f", "c", "paper", "AAPL", side, D(qty), D(price), T, D(commission))


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        Alert(ticker="AAPL", action=Side.BUY, received_at=datetime(2024, 1, 4))
    with pytest.raises(ValueError, match="timezone-aware"):
        request(created_at=datetime(2024, 1, 4))


def test_order_request_checks_its_prices_and_size():
    with pytest.raises(ValueError, match="positive"):
        request(qty=D(0))
    with pytest.raises(ValueError, match="limit price"):
        request(order_type=OrderType.LIMIT)
    with pytest.raises(ValueError, match="stop price"):
        request(order_type=OrderType.STOP_LIMIT, limit_price=D(1))
    assert request(instrument="AAPL.NASDAQ").symbol == "AAPL.NASDAQ"
    assert request().symbol == "AAPL"


def test_order_transitions_follow_the_table():
    order = Order(request())
    submitted = order.transition(OrderStatus.SUBMITTED)
    assert submitted.status is OrderStatus.SUBMITTED and order.status is OrderStatus.NEW
    filled = submitted.transition(OrderStatus.FILLED)
    with pytest.raises(InvalidTransition):
        filled.transition(OrderStatus.CANCELLED)
    with pytest.raises(InvalidTransition):
        Order(request()).transition(OrderStatus.SUBMITTED).transition(OrderStatus.SUBMITTED)


def test_partial_fills_average_the_price():
    order = Order(request()).transition(OrderStatus.SUBMITTED)
    order = order.with_fill(D(4), D(100))
    assert order.status is OrderStatus.PARTIALLY_FILLED and order.remaining_qty == D(6)
    order = order.with_fill(D(6), D(101))
    assert order.status is OrderStatus.FILLED
    assert order.avg_price == D("100.6")
    with pytest.raises(ValueError, match="exceeds"):
        order.with_fill(D(1), D(1))


def test_an_average_rebuilt_from_rounded_fills_reads_as_the_broker_reported_it():
    """NinjaTrader reports 1 filled @ 5000, then 4 @ 5000.6666666667 on average: the 3 in between are priced by a
    division rounded to 8 decimals; re-averaged, the order reads 5000.66666667, as brokers report prices, not
    5000.6666666675 (the API showed such as 5000.9999999975)."""
    from station.brokers.ninjatrader.parsing import fill_delta

    order = Order(request(qty=D(4))).transition(OrderStatus.SUBMITTED).with_fill(D(1), D(5000))
    qty, price = fill_delta(D(1), D(5000), D(4), D("5000.6666666667"))
    order = order.with_fill(qty, price)
    assert order.avg_price == D("5000.66666667") and len(str(order.avg_price).split(".")[1]) <= 8


def test_overfill_is_refused():
    order = Order(request(qty=D(2))).transition(OrderStatus.SUBMITTED)
    with pytest.raises(ValueError, match="exceeds"):
        order.with_fill(D(3), D(1))


def test_position_adds_reduces_and_reverses_with_realised_pnl():
    pos = Position("paper", "AAPL")
    pos = pos.apply(fill(Side.BUY, 10, 100))
    pos = pos.apply(fill(Side.BUY, 10, 110))
    assert pos.qty == D(20) and pos.avg_price == D(105)
    pos = pos.apply(fill(Side.SELL, 5, 115))
    assert pos.qty == D(15) and pos.avg_price == D(105) and pos.realized_pnl == D(50)
    assert pos.unrealized_pnl(D(100)) == D(-75)
    pos = pos.apply(fill(Side.SELL, 25, 95))  # close 15 at -10 each, open 10 short at 95
    assert pos.qty == D(-10) and pos.avg_price == D(95) and pos.realized_pnl == D(50 - 150)
    pos = pos.apply(fill(Side.BUY, 10, 90, commission=2))
    assert pos.is_flat and pos.avg_price == 0 and pos.realized_pnl == D(-100 + 50 - 2)


def test_position_pnl_uses_the_multiplier():
    pos = Position("ib", "MES", multiplier=D(5)).apply(fill(Side.SELL, 2, 5000))
    assert pos.unrealized_pnl(D(4990)) == D(100)


def test_eastern_time_carries_the_offset_of_the_day():
    assert to_eastern(parse_utc("2024-01-04T15:30:00Z")).isoformat() == "2024-01-04T10:30:00-05:00"
    assert to_eastern(parse_utc("2024-07-04T15:30:00Z")).isoformat() == "2024-07-04T11:30:00-04:00"
    assert parse_utc("2024-01-04T15:30:00").tzinfo is not None
