"""0DTE SPX options: a trend-line cross on SPX (or a proxy such as MES/ES) buys today's ATM SPXW call or put."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from station.domain.enums import OptionRight, Side
from station.domain.marketdata import Bar
from station.engine.options import atm_strike, expiry_today, option_contract
from station.engine.signals import Signal
from station.engine.strategies.base import Strategy
from station.engine.strategies.crossover import CrossLines

CODES = {OptionRight.CALL: "C", OptionRight.PUT: "P"}


class ZeroDteRefused(ValueError):
    """A 0DTE action that cannot be taken now (holiday, after the auto-close time, no price)."""


class ZeroDte(Strategy):
    """One option at a time: a cross above holds a call, a cross below a put; the option is closed
    `close_before_min` minutes before the session's close (13:00 ET on early-close days).

    The strategy's ticker is the option root it trades (`SPXW`), so its orders take that
    ticker's destinations; `signal_symbol` gives the bars the lines run on, `underlying` the
    price the strike is taken from (the signal symbol's price plus `basis` when absent).
    """

    kind = "zero_dte"
    STATE = ("contract",)

    def __init__(self, name: str, ticker: str, params: dict[str, Any], **context: Any) -> None:
        super().__init__(name, ticker, params, **context)
        if self.calendars is None:
            raise ValueError("the 0DTE strategy needs exchange calendars")
        self.lines = CrossLines(params["line1"], params["line2"])
        self.signal_symbol: str = params.get("signal_symbol", "SPX")
        self.underlying: str = params.get("underlying") or self.signal_symbol
        self.basis = float(params.get("basis", 0.0))
        self.calendar: str = params.get("calendar", "XNYS")
        self.close_before = timedelta(minutes=float(params.get("close_before_min", 15)))
        self.strike_step = Decimal(str(params.get("strike_step", 5)))
        self.contract: dict[str, Any] | None = None
        self.prices: dict[str, float] = {}

    def subscriptions(self) -> list[tuple[str, str]]:
        wanted = [(self.signal_symbol, self.timeframe)]
        if self.underlying != self.signal_symbol:
            wanted.append((self.underlying, self.timeframe))
        return wanted

    def warmup_bars(self) -> int:
        return int(self.params.get("warmup_bars") or self.lines.longest * 5 + 2)

    def on_price(self, symbol: str, price: float) -> None:
        self.prices[symbol] = price

    # ---- time ----------------------------------------------------------------------------------

    def auto_close_time(self, day: date) -> datetime | None:
        """When the option is closed on `day` (None when the exchange has no session that day)."""
        session = self.calendars.session(self.calendar, day)
        return None if session is None else session[1] - self.close_before

    def entry_refusal(self, now: datetime) -> str | None:
        """Why a new option cannot be bought at `now`, or None."""
        day = expiry_today(now)
        session = self.calendars.session(self.calendar, day)
        if session is None:
            return f"no {self.calendar} session on {day} (holiday or weekend): no option expires today"
        if now < session[0]:
            return "before the session opens"
        close_at = session[1] - self.close_before
        if now >= close_at:
            return f"past today's auto-close time {close_at.astimezone(self.calendars.timezone(self.calendar)):%H:%M} ET"
        return None

    def strike_price(self) -> float:
        """The live underlying price, or the signal symbol's price plus the basis."""
        if self.underlying in self.prices and self.underlying != self.signal_symbol:
            return self.prices[self.underlying]
        if self.signal_symbol in self.prices:
            return self.prices[self.signal_symbol] + self.basis
        raise ZeroDteRefused(f"no price of {self.underlying} yet to pick the strike")

    # ---- bars, clock and buttons -----------------------------------------------------------------

    def _on_bar(self, bar: Bar) -> list[Signal]:
        self.prices[bar.symbol] = bar.close
        if bar.symbol != self.signal_symbol:
            return []
        signals = self.on_clock(bar.start)
        cross = self.lines.update(bar.close)
        if cross:
            right = OptionRight.CALL if cross > 0 else OptionRight.PUT
            refusal = self.entry_refusal(bar.start)
            if refusal:
                self.log.info("%s: cross %s on %s not traded: %s", self.name, "above" if cross > 0 else "below",
                              bar.start.isoformat(), refusal)
            else:
                try:
                    signals += self.hold(right, bar.start, f"cross {'above' if cross > 0 else 'below'}")
                except ZeroDteRefused as exc:
                    self.log.warning("%s: %s", self.name, exc)
        return signals

    def on_clock(self, now: datetime) -> list[Signal]:
        if self.contract is None:
            return []
        expiry = date.fromisoformat(self.contract["expiry"])
        today = expiry_today(now)
        if expiry < today:
            self.log.warning("%s: %s expired while Station was not running; forgetting it", self.name,
                             self.contract["osi"])
            self._flat()
            return []
        close_at = self.auto_close_time(today)
        if close_at is not None and now >= close_at:
            return self.close(now, "auto close before the session's end",
                              sid=f"{self.name}:{self.ticker}:autoclose:{today:%Y%m%d}:X{CODES[OptionRight(self.contract['right'])]}")
        return []

    def manual(self, right: OptionRight | None, click_id: str, now: datetime) -> list[Signal]:
        """The Call/Put/Close buttons (right None closes); raises ZeroDteRefused saying why not."""
        if right is None:
            if self.contract is None:
                raise ZeroDteRefused("no option is held")
            return self.close(now, "manual close", sid=f"{self.name}:{self.ticker}:manual:{click_id}:X")
        refusal = self.entry_refusal(now)
        if refusal:
            raise ZeroDteRefused(refusal)
        return self.hold(right, now, f"manual {right}", click_id=click_id)

    # ---- trading ---------------------------------------------------------------------------------

    def hold(self, right: OptionRight, at: datetime, reason: str, click_id: str | None = None) -> list[Signal]:
        """Hold today's ATM `right`: nothing if already held, else close the other one and buy it."""
        if self.contract is not None and self.contract["right"] == str(right):
            return []
        strike = atm_strike(self.strike_price(), self.strike_step)
        code = CODES[right]
        manual = click_id is not None
        signals = self.close(at, reason, sid=f"{self.name}:{self.ticker}:manual:{click_id}:X" if manual else None)
        contract = option_contract(self.ticker, self.underlying, expiry_today(at), strike, right)
        qty = Decimal(str(self.params.get("qty", 1)))
        signals.append(self.make_signal(
            at, Side.BUY, None, qty, 1, f"{reason}: {contract['osi']}", code, instrument=contract,
            sid=f"{self.name}:{self.ticker}:manual:{click_id}:{code}" if manual else None,
        ))
        self.contract, self.position, self.open_qty = contract, 1, qty
        self.entry_signal = signals[-1].signal_id
        return signals

    def close(self, at: datetime, reason: str, sid: str | None = None) -> list[Signal]:
        """Sell the option held (nothing when none is)."""
        if self.contract is None:
            return []
        contract = self.contract
        signal = self.make_signal(at, Side.SELL, None, self.open_qty or Decimal(1), 0,
                                  f"{reason}: {contract['osi']}", "X" + CODES[OptionRight(contract["right"])],
                                  instrument=contract, sid=sid)
        self._flat()
        return [signal]

    def _flat(self) -> None:
        super()._flat()
        self.contract = None

    def display(self) -> dict[str, Any]:
        return {**super().display(), "option": self.contract["osi"] if self.contract else None,
                "line1": self.lines.line1.value, "line2": self.lines.line2.value}
