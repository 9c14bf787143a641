"""The vectorised crossing search against the simulator stepped trade by trade: the same first trade, always."""

from __future__ import annotations

import copy
from decimal import Decimal as D

import numpy as np
from hypothesis import given, settings, strategies as st

from station.brokers.paper.crossing import next_crossing, next_event
from station.brokers.paper.simulator import Filled, PaperSimulator, SimOrder, Trail
from station.domain.enums import OrderType, Side

TICK = 0.25


def stepped(simulator: PaperSimulator, symbol: str, prices) -> int | None:
    """The first trade that fills (or triggers a stop-limit) when the simulator sees them one by one."""
    sim = copy.deepcopy(simulator)
    for index, price in enumerate(prices):
        before = {i: live.triggered for i, live in sim._live.items()}
        outcomes = sim.on_trade(symbol, D(repr(float(price))))
        if any(isinstance(o, Filled) for o in outcomes):
            return index
        if any(sim._live[i].triggered and not was for i, was in before.items() if i in sim._live):
            return index
    return None


orders = st.lists(st.tuples(
    st.sampled_from([OrderType.LIMIT, OrderType.STOP, OrderType.STOP_LIMIT, OrderType.TRAILING_STOP]),
    st.sampled_from([Side.BUY, Side.SELL]), st.integers(-12, 12), st.integers(-4, 4),
    st.one_of(st.integers(1, 8), st.floats(0.01, 0.3))), min_size=1, max_size=4)
walks = st.lists(st.sampled_from([-2, -1, 0, 1, 2]), min_size=1, max_size=80)


def build(specs, warm: list[float]) -> PaperSimulator:
    sim = PaperSimulator()
    for price in warm:
        sim.on_trade("ES", D(repr(price)))
    for n, (kind, side, offset, extra, trail) in enumerate(specs):
        level = D(repr(100 + offset * TICK))
        kw = {}
        if kind is OrderType.LIMIT:
            kw["limit_price"] = level
        elif kind is OrderType.STOP:
            kw["stop_price"] = level
        elif kind is OrderType.STOP_LIMIT:
            kw.update(stop_price=level, limit_price=level + D(repr(extra * TICK)))
        else:
            kw["trail"] = Trail(points=D(repr(trail * TICK))) if isinstance(trail, int) else Trail(percent=D(repr(trail)))
        sim.submit(SimOrder(f"o{n}", "ES", side, D(1), kind, **kw))
    return sim


@settings(max_examples=400, deadline=None)
@given(orders, walks, st.lists(st.sampled_from([99.0, 100.0, 101.0]), max_size=2))
def test_the_first_crossing_is_the_trade_stepping_finds(specs, steps, warm):
    sim = build(specs, warm)
    prices = 100 + np.cumsum(np.array(steps, float)) * TICK
    assert next_crossing(sim, "ES", prices) == stepped(sim, "ES", prices)


@settings(max_examples=200, deadline=None)
@given(walks, st.integers(1, 6), st.sampled_from([Side.BUY, Side.SELL]))
def test_showing_only_each_slices_best_trade_leaves_a_trailing_stop_where_every_trade_would(steps, points, side):
    """The backtest feed shows the broker the trade a trailing stop follows furthest, not every trade."""
    prices = 100 + np.cumsum(np.array(steps, float)) * TICK
    every = build([(OrderType.TRAILING_STOP, side, 0, 0, points)], [100.0])
    shown = copy.deepcopy(every)
    for price in prices:
        every.on_trade("ES", D(repr(float(price))))
    crossing = stepped(shown, "ES", prices)
    rest, filled_at, seen = prices, None, 0
    while len(rest) and shown._live:
        event = next_event(shown, "ES", rest)
        cut = len(rest) if event is None else event + 1
        outcomes = shown.on_trade("ES", D(repr(float(rest[cut - 1]))))
        seen += cut
        if any(isinstance(o, Filled) for o in outcomes):
            filled_at = seen - 1
        rest = rest[cut:]
    assert filled_at == crossing
    if crossing is None:
        assert [(l.best, l.stop) for l in shown._live.values()] == [(l.best, l.stop) for l in every._live.values()]
