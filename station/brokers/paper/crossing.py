"""Where the next trade that matters to a `PaperSimulator` lies in a numpy array of prices, without stepping it.

A backtest hands the paper broker its trades in slices: stepping the simulator trade by trade
costs a Python call per trade, while its working orders change only at a few of them. These
functions read the simulator's working orders of one symbol (and their state: a trailing
stop's best trade, a stop-limit already triggered) and find, in one pass of numpy over the
symbol's next prices:

- `next_crossing`: the first trade that fills one of them, or triggers a stop-limit (the
  simulator must see that trade, and see it last, before anything else happens);
- `next_trail_best`: the trade a trailing stop would follow furthest (its new best), so the
  simulator can be shown that one instead of every trade on the way;
- `next_event`: the one of these the simulator must see next (a best before a crossing first).

Both follow `simulator.py`'s rule exactly (a trailing stop moves first, then is checked),
comparing in floats: levels on the instrument's tick grid compare alike in both.
"""

from __future__ import annotations

import numpy as np

from station.brokers.paper.simulator import PaperSimulator, _Live
from station.domain.enums import OrderType, Side


def next_event(simulator: PaperSimulator, symbol: str, prices: np.ndarray) -> int | None:
    """The index of the next trade among `prices` the simulator must see, and see last, for its state to be what
    every trade would have made it: a trailing stop's new best before the first crossing, else that crossing."""
    hit = next_crossing(simulator, symbol, prices)
    best = next_trail_best(simulator, symbol, prices if hit is None else prices[:hit])
    return best if best is not None else hit


def next_crossing(simulator: PaperSimulator, symbol: str, prices: np.ndarray) -> int | None:
    """The index of the first of `prices` (the symbol's next trades) that fills or triggers a working order."""
    first: int | None = None
    for order_id in simulator._by_symbol.get(symbol, ()):
        live = simulator._live.get(order_id)
        if live is None:
            continue
        hit = _first_hit(live, prices)
        if hit is not None and (first is None or hit < first):
            first = hit
            if first == 0:
                break
    return first


def next_trail_best(simulator: PaperSimulator, symbol: str, prices: np.ndarray) -> int | None:
    """The index of the trade among `prices` that moves a trailing stop of `symbol` furthest (None: none moves)."""
    found: int | None = None
    for order_id in simulator._by_symbol.get(symbol, ()):
        live = simulator._live.get(order_id)
        if live is None or live.order.order_type is not OrderType.TRAILING_STOP or not len(prices):
            continue
        buy = live.order.side is Side.BUY  # a buy trails a short: it follows the lows
        index = int(np.argmin(prices) if buy else np.argmax(prices))
        best = live.best
        if best is None or (prices[index] < float(best) if buy else prices[index] > float(best)):
            found = index if found is None else max(found, index)
    return found


def _first_hit(live: _Live, prices: np.ndarray) -> int | None:
    order = live.order
    buy = order.side is Side.BUY
    kind = order.order_type
    if kind is OrderType.LIMIT or (kind is OrderType.STOP_LIMIT and live.triggered):
        limit = float(order.limit_price)
        return _first(prices <= limit if buy else prices >= limit)
    if kind in (OrderType.STOP, OrderType.STOP_LIMIT):
        if live.stop is None:
            return None
        stop = float(live.stop)
        return _first(prices >= stop if buy else prices <= stop)
    if kind is OrderType.TRAILING_STOP:
        return _first(prices >= _trail_stops(live, prices) if buy else prices <= _trail_stops(live, prices))
    return None


def _trail_stops(live: _Live, prices: np.ndarray) -> np.ndarray:
    """The trailing stop in force at each trade, after that trade moved it (as the simulator does)."""
    order = live.order
    buy = order.side is Side.BUY
    best = np.minimum.accumulate(prices) if buy else np.maximum.accumulate(prices)
    if live.best is not None:
        best = np.minimum(best, float(live.best)) if buy else np.maximum(best, float(live.best))
    trail = order.trail
    distance = float(trail.points) if trail.points is not None else best * float(trail.percent) / 100.0
    stops = best + distance if buy else best - distance
    if live.best is None:
        return stops  # starts with the first trade, which can never cross it
    # until a better trade comes, the stop stays where the simulator has it (it may differ from best ± distance
    # when it was placed or replaced there)
    if live.stop is not None:
        unchanged = best == float(live.best)
        stops = np.where(unchanged, float(live.stop), stops)
    return stops


def _first(mask: np.ndarray) -> int | None:
    index = int(np.argmax(mask)) if len(mask) else 0
    return index if len(mask) and mask[index] else None
