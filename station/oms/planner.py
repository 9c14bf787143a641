"""Turning an alert into order requests: strategies, ports, named destinations, sizes, pairs, reversal.

Pure: reads the routing config and the book, writes nothing. The router then
risk-checks, records and sends what the plan says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from station.domain.alert import Alert
from station.domain.config import RoutingConfig, StrategyConfig, TickerConfig, TickerDestination
from station.domain.destinations import port_destination_name
from station.domain.enums import OrderType, Side
from station.domain.ids import client_order_id
from station.domain.orders import OrderRequest
from station.domain.tradingview_symbols import ticker_candidates
from station.oms.book import Book, OrderMeta
from station.store.order_repo import PairGroup

REVERSAL_MODES = ("single", "close_then_open")
LONG_WORDS = {"long", "buy"}
SHORT_WORDS = {"short", "sell"}


@dataclass(frozen=True, slots=True)
class PlannedOrder:
    """One order the plan asks for; `refusal` is set when it cannot be made (no size, no price, …)."""

    request: OrderRequest | None
    meta: OrderMeta
    client_order_id: str
    destination: str
    refusal: str | None = None


@dataclass
class Plan:
    """Orders for one cause, pair groups among them, or the reason nothing was planned."""

    orders: list[PlannedOrder] = field(default_factory=list)
    pairs: list[PairGroup] = field(default_factory=list)
    unrouted: str | None = None


def select_strategies(alert: Alert, config: RoutingConfig) -> tuple[list[tuple[StrategyConfig, TickerConfig]], str | None]:
    """The (strategy, ticker entry) pairs an alert goes to, or the reason there are none."""
    symbols = [*ticker_candidates(alert.ticker), *(ticker_candidates(alert.spread.ticker1) if alert.spread else ())]
    if alert.strategy:
        strategy = config.strategy(alert.strategy)
        if strategy is None:
            return [], f"no strategy named {alert.strategy!r}"
        if not strategy.enabled:
            return [], f"strategy {strategy.name} is stopped"
        entry = _entry(strategy, symbols)
        if entry is None:
            return [], f"strategy {strategy.name} does not list ticker {alert.ticker} (or it is disabled)"
        return [(strategy, entry)], None
    found = [(s, e) for s in config.strategies if s.enabled for e in [_entry(s, symbols)] if e is not None]
    if not found:
        return [], f"no enabled strategy lists ticker {alert.ticker}"
    return found, None


def _entry(strategy: StrategyConfig, symbols: list[str]) -> TickerConfig | None:
    for symbol in symbols:
        entry = strategy.ticker(symbol)
        if entry is not None and entry.enabled:
            return entry
    return None


def intends_reversal(alert: Alert) -> bool:
    """The sender says it was on the other side before this order (or wants to end on this side);
    a sender that was flat opens, and an order meant to end flat closes: neither reverses."""
    before = (alert.position or "").lower()
    after = (alert.target_position or "").lower()
    if "flat" in (before, after):
        return False
    if alert.action is Side.BUY:
        return before in SHORT_WORDS or after in LONG_WORDS
    return before in LONG_WORDS or after in SHORT_WORDS


def signal_contract(alert: Alert) -> str | None:
    """The contract a strategy's signal trades (a 0DTE option's OSI symbol): it is the order's instrument."""
    contract = alert.extra.get("instrument") if alert.source == "strategy" else None
    return contract.get("osi") if isinstance(contract, dict) else None


# brokers that refuse one order crossing zero (Schwab's and Tastytrade's open/close instructions)
SPLIT_REVERSAL_TYPES = frozenset({"schwab", "tastytrade"})


class Planner:
    """Builds the orders of one alert (or a manual click) for the strategies it goes to."""

    def __init__(self, config: RoutingConfig, book: Book) -> None:
        self.config, self.book = config, book

    def plan(self, alert: Alert, cause: str, targets: list[tuple[StrategyConfig, TickerConfig]]) -> Plan:
        plan = Plan()
        for strategy, entry in targets:
            for port in entry.ports:
                self._port_order(plan, alert, cause, strategy, port)
            for route in entry.destinations:
                if alert.spread is not None:
                    self._pair_orders(plan, alert, cause, strategy, entry, route)
                else:
                    self._orders(plan, alert, cause, strategy, entry, route)
        return plan

    # ---- one destination ---------------------------------------------------------------------

    def _port_order(self, plan: Plan, alert: Alert, cause: str, strategy: StrategyConfig, port: int) -> None:
        destination = port_destination_name(port)
        coid = client_order_id(cause, strategy.name, destination)
        request = OrderRequest(
            client_order_id=coid, destination=destination, ticker=alert.ticker, side=alert.action,
            qty=alert.qty or Decimal(1), strategy=strategy.name, alert_id=alert.alert_id,
            price_hint=alert.price, alert=alert,
        )
        plan.orders.append(PlannedOrder(request, OrderMeta(cause), coid, destination))

    def _orders(self, plan: Plan, alert: Alert, cause: str, strategy: StrategyConfig, entry: TickerConfig,
                route: TickerDestination) -> None:
        size = route.size_for(alert.qty)
        meta = OrderMeta(cause, point_value=_point_value(entry))
        base = client_order_id(cause, strategy.name, route.destination)
        if size is None or size <= 0:
            plan.orders.append(PlannedOrder(None, meta, base, route.destination,
                                            "no quantity: the alert has none and the destination has no fixed qty"))
            return
        held = self.book.position(route.destination, entry.ticker, strategy.name)
        reversing = held != 0 and (held > 0) != (alert.action is Side.BUY) and intends_reversal(alert)
        if not reversing:
            plan.orders.append(self._order(alert, base, meta, strategy, entry, route, alert.action, size))
            return
        close = abs(held)
        if self._reversal(route) == "close_then_open":
            for leg, qty in (("close", close), ("open", size)):
                coid = client_order_id(cause, strategy.name, route.destination, leg)
                plan.orders.append(self._order(alert, coid, OrderMeta(cause, leg=leg, point_value=meta.point_value),
                                               strategy, entry, route, alert.action, qty))
        else:
            plan.orders.append(self._order(alert, base, meta, strategy, entry, route, alert.action, close + size))

    def _reversal(self, route: TickerDestination) -> str:
        """The route's `reversal` setting, else what its destination type accepts."""
        if "reversal" in route.options:
            return route.options["reversal"]
        destination = self.config.destination(route.destination)
        return "close_then_open" if destination and destination.type in SPLIT_REVERSAL_TYPES else "single"

    def _order(self, alert: Alert, coid: str, meta: OrderMeta, strategy: StrategyConfig, entry: TickerConfig,
               route: TickerDestination, side: Side, qty: Decimal, ticker: str | None = None,
               instrument: str | None = None, price: Decimal | None = None) -> PlannedOrder:
        price = alert.price if price is None and ticker is None else price
        limit = str(strategy.options.get("order_type", "market")) == "limit"
        if limit and price is None:
            return PlannedOrder(None, meta, coid, route.destination, "limit order needs a price and the alert has none")
        request = OrderRequest(
            client_order_id=coid, destination=route.destination, ticker=ticker or entry.ticker, side=side, qty=qty,
            order_type=OrderType.LIMIT if limit else OrderType.MARKET, limit_price=price if limit else None,
            strategy=strategy.name, alert_id=alert.alert_id, price_hint=price,
            instrument=instrument if ticker else (signal_contract(alert) or route.instrument), alert=alert,
        )
        return PlannedOrder(request, meta, coid, route.destination)

    def _pair_orders(self, plan: Plan, alert: Alert, cause: str, strategy: StrategyConfig, entry: TickerConfig,
                     route: TickerDestination) -> None:
        spread = alert.spread
        size = route.size_for(alert.qty)
        group = client_order_id(cause, strategy.name, route.destination)
        point = _point_value(entry)
        if size is None or size <= 0:
            plan.orders.append(PlannedOrder(None, OrderMeta(cause, group, "1", point), f"{group}-1", route.destination,
                                            "no quantity: the alert has none and the destination has no fixed qty"))
            return
        hedge_qty = (size * abs(spread.hedge)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        legs = ((spread.ticker1, alert.action, size, "1"),
                (spread.ticker2, alert.action.opposite if spread.hedge > 0 else alert.action, hedge_qty, "2"))
        plan.pairs.append(PairGroup(group, route.destination, spread, alert.action, size, alert.price,
                                    strategy.name, alert.alert_id))
        for ticker, side, qty, leg in legs:
            coid = client_order_id(cause, strategy.name, route.destination, leg)
            meta = OrderMeta(cause, group, leg, point)
            if qty <= 0:
                plan.orders.append(PlannedOrder(None, meta, coid, route.destination,
                                                f"hedge {spread.hedge} x {size} rounds to no {ticker}"))
                continue
            plan.orders.append(self._order(alert, coid, meta, strategy, entry, route, side, qty, ticker=ticker))


def _point_value(entry: TickerConfig) -> Decimal:
    value = entry.options.get("point_value")
    return Decimal(str(value)) if value else Decimal(1)
