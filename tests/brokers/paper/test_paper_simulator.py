"""The paper fill rule (CONTRACT.md) as the simulator applies it, trade by trade."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from station.brokers.paper.simulator import Cancelled, Filled, PaperSimulator, Rejected, SimOrder, Trail, Working
from station.domain.enums import OrderType as T, Side

BUY, SELL = Side.BUY, Side.SELL


def order(order_id, side=BUY, kind=T.MARKET, qty="1", symbol="ES", **prices) -> SimOrder:
    return SimOrder(order_id, symbol, side, D(qty), kind, **prices)


def trades(sim: PaperSimulator, *prices, symbol="ES") -> list:
    return [outcome for price in prices for outcome in sim.on_trade(symbol, D(str(price)))]


def test_market_fills_at_the_last_trade_else_its_own_price_else_is_rejected():
    sim = PaperSimulator()
    assert sim.submit(order("a", price_hint=D("4999"))) == [Filled("a", D(1), D("4999"))]
    assert isinstance(sim.submit(order("b"))[0], Rejected)
    trades(sim, 5000.25)
    assert sim.submit(order("c", SELL, price_hint=D("1"))) == [Filled("c", D(1), D("5000.25"))]


def test_limit_fills_at_its_price_when_a_trade_reaches_or_passes_it():
    sim = PaperSimulator()
    trades(sim, 5000)
    assert sim.submit(order("b", BUY, T.LIMIT, limit_price=D("4990"))) == [Working("b")]
    assert sim.submit(order("s", SELL, T.LIMIT, limit_price=D("5010"))) == [Working("s")]
    assert trades(sim, 4995, 5005) == []
    assert trades(sim, 4990) == [Filled("b", D(1), D("4990"))]
    assert trades(sim, 5012) == [Filled("s", D(1), D("5010"))]  # through it: at its price


def test_stop_fills_at_the_trade_that_reaches_it():
    sim = PaperSimulator()
    trades(sim, 5000)
    sim.submit(order("sl", SELL, T.STOP, stop_price=D("4990")))
    sim.submit(order("bs", BUY, T.STOP, stop_price=D("5010")))
    assert trades(sim, 4991) == []
    assert trades(sim, 4988.5) == [Filled("sl", D(1), D("4988.5"))]  # gapped through: that trade's price
    assert trades(sim, 5010) == [Filled("bs", D(1), D("5010"))]


def test_stop_limit_turns_into_its_limit_and_may_fill_on_the_same_trade():
    sim = PaperSimulator()
    trades(sim, 5000)
    sim.submit(order("a", BUY, T.STOP_LIMIT, stop_price=D("5010"), limit_price=D("5011")))
    sim.submit(order("b", BUY, T.STOP_LIMIT, stop_price=D("5010"), limit_price=D("5010.5")))
    assert trades(sim, 5011) == [Filled("a", D(1), D("5011"))]  # triggered and within its limit
    assert trades(sim, 5012, 5011) == []  # b triggered at 5011; above its limit nothing fills
    assert trades(sim, 5010.25) == [Filled("b", D(1), D("5010.5"))]


def test_trailing_stop_follows_the_best_trade_and_never_backs_off():
    sim = PaperSimulator()
    trades(sim, 5000)
    sim.submit(order("t", SELL, T.TRAILING_STOP, trail=Trail(points=D("10"))))
    assert trades(sim, 5005, 5020, 5012, 5011) == []  # best 5020: stop at 5010
    assert trades(sim, 5010) == [Filled("t", D(1), D("5010"))]
    sim.submit(order("p", BUY, T.TRAILING_STOP, trail=Trail(percent=D("1"))))  # short's protection: 1 % above the low
    assert trades(sim, 4900) == []  # low 4900: stop at 4949
    assert trades(sim, 4949) == [Filled("p", D(1), D("4949"))]


def test_oco_siblings_are_cancelled_when_one_fills():
    sim = PaperSimulator()
    trades(sim, 5000)
    sim.submit(order("tp", SELL, T.LIMIT, limit_price=D("5020"), oco_group="g1"))
    sim.submit(order("sl", SELL, T.STOP, stop_price=D("4990"), oco_group="g1"))
    sim.submit(order("other", SELL, T.LIMIT, limit_price=D("5020")))
    assert trades(sim, 5021) == [Filled("tp", D(1), D("5020")), Cancelled("sl", "OCO: tp filled"),
                                 Filled("other", D(1), D("5020"))]
    assert list(sim.working()) == []


def test_waits_working_without_a_price_then_fills_on_the_first_trade_through_it():
    sim = PaperSimulator()
    assert sim.submit(order("b", BUY, T.LIMIT, limit_price=D("5"), symbol="AAPL")) == [Working("b")]
    assert trades(sim, 6, symbol="AAPL") == [] and trades(sim, 4.5, symbol="AAPL") == [Filled("b", D(1), D("5"))]


def test_slippage_is_against_the_trader_on_what_fills_at_a_trade_price():
    sim = PaperSimulator(slippage=lambda symbol: D("0.25"))
    trades(sim, 5000)
    assert sim.submit(order("m", BUY)) == [Filled("m", D(1), D("5000.25"))]
    sim.submit(order("sl", SELL, T.STOP, stop_price=D("4990")))
    sim.submit(order("tp", SELL, T.LIMIT, limit_price=D("5020")))
    assert trades(sim, 4985) == [Filled("sl", D(1), D("4984.75"))]
    assert trades(sim, 5021) == [Filled("tp", D(1), D("5020"))]  # a limit: at its price, no slippage


def test_cancel_and_replace_a_working_order():
    sim = PaperSimulator()
    trades(sim, 5000)
    sim.submit(order("a", BUY, T.LIMIT, limit_price=D("4990")))
    assert sim.replace("a", limit_price=D("4995"), qty=D("2")).limit_price == D("4995")
    assert trades(sim, 4995) == [Filled("a", D(2), D("4995"))]
    assert sim.replace("a", limit_price=D("1")) is None and sim.cancel("a") == []
    sim.submit(order("b", BUY, T.LIMIT, limit_price=D("4990")))
    assert sim.cancel("b") == [Cancelled("b", "cancelled")] and trades(sim, 4980) == []


def test_the_same_trades_always_give_the_same_fills():
    def run():
        sim = PaperSimulator(slippage=lambda s: D("0.25"))
        out = []
        for i, price in enumerate([5000, 5003, 4997, 5010, 4989, 5030, 5001]):
            if i % 2 == 0:
                out += sim.submit(order(f"l{i}", BUY, T.LIMIT, limit_price=D(price - 3)))
                out += sim.submit(order(f"t{i}", SELL, T.TRAILING_STOP, trail=Trail(points=D("5"))))
            out += trades(sim, price)
        return out

    assert run() == run()


@pytest.mark.parametrize("bad", [dict(kind=T.LIMIT), dict(kind=T.STOP), dict(kind=T.STOP_LIMIT, limit_price=D(1)),
                                 dict(kind=T.TRAILING_STOP), dict(qty="0")])
def test_an_order_missing_what_its_type_needs_is_refused(bad):
    with pytest.raises(ValueError):
        order("x", **bad)
