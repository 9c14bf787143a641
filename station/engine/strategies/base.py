"""What every strategy shares: its position, signal making, sizing, state to persist and restore."""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from station.domain.enums import Side
from station.domain.marketdata import Bar
from station.engine.calendar import TradingCalendars
from station.engine.sizing import position_size
from station.engine.signals import POSITION_NAMES, Signal, signal_id

ENTRY_CODES = {1: "L", -1: "S"}
EXIT_CODES = {1: "XL", -1: "XS"}


class Strategy:
    """One strategy on one instrument. Feed it closed bars (`on_bar`); it returns the signals they cause.

    Subclasses implement `_on_bar` and `warmup_bars`, and list extra persisted attributes
    in `STATE`. The position is the strategy's own view: +1 long, -1 short, 0 flat.
    """

    kind: ClassVar[str] = ""
    STATE: ClassVar[tuple[str, ...]] = ()
    BASE_STATE = ("position", "entry_price", "open_qty", "stop", "target", "entry_signal")

    def __init__(self, name: str, ticker: str, params: dict[str, Any], log: logging.Logger | None = None,
                 calendars: TradingCalendars | None = None) -> None:
        self.name = name
        self.calendars = calendars
        self.ticker = ticker
        self.params = params
        self.timeframe: str = params.get("timeframe", "1m")
        self.log = log or logging.getLogger(f"station.engine.{name}")
        self.position = 0
        self.entry_price: float | None = None
        self.open_qty: Decimal | None = None
        self.stop: float | None = None
        self.target: float | None = None
        self.entry_signal: str | None = None  # the signal that opened the position held
        self.last_bars: dict[str, datetime] = {}
        self.events: list = []  # events for the bus (e.g. PairUpdated), drained by the runner

    # ---- what the runner calls -----------------------------------------------------------------

    def subscriptions(self) -> list[tuple[str, str]]:
        """(symbol, timeframe) of every bar series this strategy needs."""
        return [(self.ticker, self.timeframe)]

    def warmup_bars(self) -> int:
        """How many closed bars of history to feed before the first live bar."""
        raise NotImplementedError

    def on_bar(self, bar: Bar) -> list[Signal]:
        """Process one closed bar (a bar already seen is ignored); returns the signals it causes."""
        last = self.last_bars.get(bar.symbol)
        if last is not None and bar.start <= last:
            return []
        self.last_bars[bar.symbol] = bar.start
        return self._on_bar(bar)

    def on_price(self, symbol: str, price: float) -> None:
        """The latest trade price of a subscribed symbol (from bars in progress); most strategies ignore it."""

    def on_clock(self, now: datetime) -> list[Signal]:
        """Time passed with or without bars (auto-close at a time of day); most strategies do nothing."""
        return []

    def display(self) -> dict[str, Any]:
        """Figures shown in the Strategies dock."""
        return {"position": POSITION_NAMES[self.position], "entry": self.entry_price, "stop": self.stop}

    def _on_bar(self, bar: Bar) -> list[Signal]:
        raise NotImplementedError

    # ---- state ---------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """The trading state to persist (JSON-safe); indicators are rebuilt from history instead."""
        out: dict[str, Any] = {key: _jsonable(getattr(self, key)) for key in self.BASE_STATE + self.STATE}
        out["last_bars"] = {s: t.isoformat() for s, t in self.last_bars.items()}
        return out

    def restore(self, state: dict[str, Any]) -> None:
        """Take back a persisted trading state (after warm-up rebuilt the indicators)."""
        for key in self.BASE_STATE + self.STATE:
            if key in state:
                value = state[key]
                setattr(self, key, Decimal(value) if key == "open_qty" and value is not None else value)
        for symbol, text in state.get("last_bars", {}).items():
            stamp = datetime.fromisoformat(text)
            if symbol not in self.last_bars or stamp > self.last_bars[symbol]:
                self.last_bars[symbol] = stamp

    # ---- making signals ------------------------------------------------------------------------

    def make_signal(self, at: datetime, action: Side, price: float | None, qty: Decimal, target: int,
                    reason: str, code: str, *, sid: str | None = None, **extra: Any) -> Signal:
        """A signal moving the position from the current one to `target`, with a deterministic id
        (from the bar time and `code`, or `sid` when the cause is not a bar)."""
        ticker = self.ticker
        return Signal(
            signal_id=sid or signal_id(self.name, ticker, self.timeframe, at, code), strategy=self.name,
            ticker=ticker, action=action, bar_time=at, price=price, qty=qty,
            position=POSITION_NAMES[self.position], target_position=POSITION_NAMES[target], reason=reason, **extra,
        )

    def enter(self, bar: Bar, direction: int, reason: str, stop_distance: float | None = None,
              target_distance: float | None = None) -> list[Signal]:
        """Open a position in `direction` at the bar's close, sized by the sizing params."""
        qty, why = position_size(self.params, stop_distance)
        if qty is None:
            self.log.warning("%s %s: no %s entry on %s: %s", self.name, self.ticker,
                             POSITION_NAMES[direction], bar.start.isoformat(), why)
            return []
        signal = self.make_signal(bar.start, Side.BUY if direction > 0 else Side.SELL, bar.close, qty,
                                  direction, reason, ENTRY_CODES[direction])
        self.position, self.entry_price, self.open_qty = direction, bar.close, qty
        self.entry_signal = signal.signal_id
        self.stop = None if stop_distance is None else bar.close - direction * stop_distance
        self.target = None if target_distance is None else bar.close + direction * target_distance
        return [signal]

    def exit(self, bar: Bar, reason: str) -> list[Signal]:
        """Close the open position at the bar's close."""
        if self.position == 0:
            return []
        direction = self.position
        signal = self.make_signal(bar.start, Side.SELL if direction > 0 else Side.BUY, bar.close,
                                  self.open_qty or Decimal(1), 0, reason, EXIT_CODES[direction])
        self._flat()
        return [signal]

    def entry_refused(self, signal_id: str, reasons: str) -> bool:
        """Every order of entry `signal_id` was refused: the position it opened was never taken.

        True (and flat now) when that entry opened the position held; later exits then send nothing.
        """
        if signal_id != self.entry_signal or self.position == 0:
            return False
        self.log.warning("%s %s: the %s entry %s was refused everywhere (%s); the strategy is flat again",
                         self.name, self.ticker, POSITION_NAMES[self.position], signal_id, reasons)
        self._flat()
        return True

    def _flat(self) -> None:
        self.position, self.entry_price, self.open_qty, self.stop, self.target = 0, None, None, None, None
        self.entry_signal = None

    def go(self, bar: Bar, direction: int, reason: str, stop_distance: float | None = None,
           target_distance: float | None = None) -> list[Signal]:
        """Be in `direction`: nothing if already, else exit the other way (if any) and enter."""
        if self.position == direction:
            return []
        return self.exit(bar, reason) + self.enter(bar, direction, reason, stop_distance, target_distance)

    def stop_or_target_hit(self, bar: Bar) -> str | None:
        """Why the open position must close on this bar (its low/high touched the stop or the target), or None."""
        direction = self.position
        if direction == 0:
            return None
        if self.stop is not None and (bar.low <= self.stop if direction > 0 else bar.high >= self.stop):
            return "stop"
        if self.target is not None and (bar.high >= self.target if direction > 0 else bar.low <= self.target):
            return "take profit"
        return None


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value
