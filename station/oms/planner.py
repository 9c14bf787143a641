"""Turning an alert into order requests: strategies, ports, named destinations, sizes, pairs, reversal,
the alert's order instructions and a bracket's held exits; exit, reverse and cancel (`oms/closing.py`).

Pure: reads the routing config and the book, writes nothing. The router then
risk-checks, records and sends what the plan says, and cancels what it lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from station.domain.alert import Alert
from station.domain.config import RoutingConfig, StrategyConfig, TickerConfig, TickerDestination
from station.domain.destinations import port_destination_name
from station.domain.enums import AlertAction, OrderRole, OrderStatus, OrderType, Side, TimeInForce
from station.domain.ids import client_order_id
from station.domain.orders import OrderRequest
from station.domain.ticks import tick_size
from station.oms import closing
from station.domain.tradingview_symbols import ticker_candidates
from station.oms.book import Book, OrderMeta
from station.oms.brackets import bracket_exits, expected_price
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
    status: OrderStatus = OrderStatus.NEW  # a bracket's exits start held


@dataclass
class Plan:
    """Orders for one cause, pair groups among them, orders to cancel first, or the reason nothing was planned."""

    orders: list[PlannedOrder] = field(default_factory=list)
    pairs: list[PairGroup] = field(default_factory=list)
    cancels: list[str] = field(default_factory=list)  # client order ids, cancelled before anything is sent
    unrouted: str | None = None

    def cancel(self, client_order_ids) -> None:
        for coid in client_order_ids:
            if coid not in self.cancels:
                self.cancels.append(coid)


def select_strategies(alert: Alert, config: RoutingConfig) -> tuple[list[tuple[StrategyConfig, TickerConfig]], str | None]:
    """The (strategy, ticker entry) pairs an alert goes to, or the reason there are none.

    A strategy Station runs itself (it has an `engine`) takes its own signals and the trader's clicks;
    alerts from outside (the webhook, scripts) only where its config says `"take_alerts": true`.
    """
    symbols = [*ticker_candidates(alert.ticker), *(ticker_candidates(alert.spread.ticker1) if alert.spread else ())]
    if alert.strategy:
        strategy = config.strategy(alert.strategy)
        if strategy is None:
            return [], f"no strategy named {alert.strategy!r}"
        if not strategy.enabled:
            return [], f"strategy {strategy.name} is stopped"
        if not _takes(strategy, alert):
            return [], f"strategy {strategy.name} trades its own signals; it takes alerts with \"take_alerts\": true"
        entry = _entry(strategy, symbols)
        if entry is None:
            return [], f"strategy {strategy.name} does not list ticker {alert.ticker} (or it is disabled)"
        return [(strategy, entry)], None
    listing = [(s, e) for s in config.strategies if s.enabled for e in [_entry(s, symbols)] if e is not None]
    found = [(s, e) for s, e in listing if _takes(s, alert)]
    if not found and listing:
        names = ", ".join(s.name for s, _ in listing)
        return [], f"no enabled strategy takes alerts for ticker {alert.ticker} ({names} trade their own signals)"
    if not found:
        return [], f"no enabled strategy lists ticker {alert.ticker}"
    return found, None


OWN_SOURCES = ("strategy", "manual")  # an engine strategy's signals and the trader's clicks


def _takes(strategy: StrategyConfig, alert: Alert) -> bool:
    return alert.source in OWN_SOURCES or not strategy.options.get("engine") or bool(strategy.options.get("take_alerts"))


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

    def plan(self, alert: Alert, cause: str, targets: list[tuple[StrategyConfig, TickerConfig]],
             destination: str | None = None) -> Plan:
        """The orders (and cancels) of `alert` for its strategies; `destination` limits them to that one."""
        plan = Plan()
        for strategy, entry in targets:
            for port in entry.ports:
                if destination in (None, port_destination_name(port)):
                    self._port_order(plan, alert, cause, strategy, entry, port)
            for route in entry.destinations:
                if destination not in (None, route.destination):
                    continue
                if alert.spread is not None:
                    self._pair_orders(plan, alert, cause, strategy, entry, route)
                elif alert.action is AlertAction.EXIT:
                    closing.exit_orders(self, plan, alert, cause, strategy, entry, route)
                elif alert.action is AlertAction.REVERSE:
                    closing.reverse_orders(self, plan, alert, cause, strategy, entry, route)
                elif alert.action is AlertAction.CANCEL:
                    closing.cancel_orders(self.book, plan, strategy, entry, route.destination)
                else:
                    self._orders(plan, alert, cause, strategy, entry, route)
        if not plan.orders and not plan.cancels and plan.unrouted is None and isinstance(alert.action, AlertAction):
            plan.unrouted = closing.NOTHING[alert.action]
        return plan

    # ---- one destination ---------------------------------------------------------------------

    def _port_order(self, plan: Plan, alert: Alert, cause: str, strategy: StrategyConfig, entry: TickerConfig,
                    port: int) -> None:
        """The port's line (it carries the alert, order instructions and all); a bracket's exits are Station's
        to work there, since a port reports no fills."""
        destination = port_destination_name(port)
        coid = client_order_id(cause, strategy.name, destination)
        if isinstance(alert.action, AlertAction):  # the exits Station works there (its lines are final once written)
            plan.cancel(o.client_order_id for o in self.book.open_for(destination, entry.ticker, strategy.name)
                        if o.request.protective)
        side = alert.side or closing.port_side(self.book, alert, destination, entry.ticker, strategy.name)
        instructions = alert.instructions
        kind = instructions.kind if instructions else OrderType.MARKET
        request = OrderRequest(
            client_order_id=coid, destination=destination, ticker=alert.ticker, side=side,
            qty=alert.qty or Decimal(1), order_type=kind,
            limit_price=instructions.limit_price if instructions and kind in (OrderType.LIMIT, OrderType.STOP_LIMIT) else None,
            stop_price=instructions.stop_price if instructions and kind in (OrderType.STOP, OrderType.STOP_LIMIT) else None,
            tif=instructions.time_in_force if instructions else TimeInForce.DAY,
            strategy=strategy.name, alert_id=alert.alert_id, price_hint=alert.price, alert=alert,
            role=OrderRole.EXIT if alert.action in (AlertAction.EXIT, AlertAction.CANCEL) else OrderRole.ENTRY,
        )
        plan.orders.append(PlannedOrder(request, OrderMeta(cause), coid, destination))
        if instructions is not None and instructions.is_bracket and alert.spread is None:
            self.add_exits(plan, request, OrderMeta(cause), entry, alert.price)

    def add_exits(self, plan: Plan, entry_request: OrderRequest, meta: OrderMeta, entry: TickerConfig,
                  fallback: Decimal | None) -> None:
        """The held exits of a bracket entry, after it in the plan."""
        instructions = entry_request.alert.instructions if entry_request.alert else None
        if instructions is None or not instructions.is_bracket:
            return
        tick = tick_size(entry.ticker, entry_request.instrument, entry.options.get("tick_size"))
        reference = expected_price(entry_request, fallback or self.book.marks.price(entry_request.ticker))
        for request in bracket_exits(entry_request, instructions, tick, reference):
            plan.orders.append(PlannedOrder(request, meta, request.client_order_id, request.destination,
                                            status=OrderStatus.HELD))

    def _orders(self, plan: Plan, alert: Alert, cause: str, strategy: StrategyConfig, entry: TickerConfig,
                route: TickerDestination) -> None:
        size = route.size_for(alert.qty)
        meta = OrderMeta(cause, point_value=entry.point_value(route.instrument))
        base = client_order_id(cause, strategy.name, route.destination)
        if size is None or size <= 0:
            plan.orders.append(PlannedOrder(None, meta, base, route.destination,
                                            "no quantity: the alert has none and the destination has no fixed qty"))
            return
        held = self.book.position(route.destination, entry.ticker, strategy.name)
        reversing = held != 0 and (held > 0) != (alert.action is Side.BUY) and intends_reversal(alert)
        if not reversing:
            self._entry(plan, alert, base, meta, strategy, entry, route, alert.action, size)
            return
        plan.cancel(closing.protective(self.book, route.destination, entry.ticker, strategy.name))
        self.reversal(plan, alert, cause, base, meta, strategy, entry, route, alert.action, abs(held), size)

    def reversal(self, plan: Plan, alert: Alert, cause: str, base: str, meta: OrderMeta, strategy: StrategyConfig,
                 entry: TickerConfig, route: TickerDestination, side: Side, close: Decimal, size: Decimal) -> None:
        """Close `close` and open `size` the other way: one order, or a close and an open (also always when the
        opening part is a bracket, whose exits are sized to it alone)."""
        bracket = alert.instructions is not None and alert.instructions.is_bracket
        if close <= 0:  # closing orders in flight take the position off already
            self._entry(plan, alert, base, meta, strategy, entry, route, side, size)
            return
        if not bracket and self._reversal(route) != "close_then_open":
            self._entry(plan, alert, base, meta, strategy, entry, route, side, close + size)
            return
        for leg, qty in (("close", close), ("open", size)):
            coid = client_order_id(cause, strategy.name, route.destination, leg)
            leg_meta = OrderMeta(cause, leg=leg, point_value=meta.point_value)
            if leg == "close":
                plan.orders.append(self._order(alert, coid, leg_meta, strategy, entry, route, side, qty,
                                               role=OrderRole.EXIT))
            else:
                self._entry(plan, alert, coid, leg_meta, strategy, entry, route, side, qty)

    def _entry(self, plan: Plan, alert: Alert, coid: str, meta: OrderMeta, strategy: StrategyConfig,
               entry: TickerConfig, route: TickerDestination, side: Side, qty: Decimal) -> None:
        planned = self._order(alert, coid, meta, strategy, entry, route, side, qty)
        plan.orders.append(planned)
        if planned.request is not None:
            self.add_exits(plan, planned.request, meta, entry, alert.price)

    def _reversal(self, route: TickerDestination) -> str:
        """The route's `reversal` setting, else what its destination type accepts."""
        if "reversal" in route.options:
            return route.options["reversal"]
        destination = self.config.destination(route.destination)
        return "close_then_open" if destination and destination.type in SPLIT_REVERSAL_TYPES else "single"

    def _order(self, alert: Alert, coid: str, meta: OrderMeta, strategy: StrategyConfig, entry: TickerConfig,
               route: TickerDestination, side: Side, qty: Decimal, ticker: str | None = None,
               instrument: str | None = None, price: Decimal | None = None,
               role: OrderRole = OrderRole.ENTRY) -> PlannedOrder:
        """One order: the alert's order type, prices and tif (an opening order; a close is at market), else the
        strategy's `order_type` setting (a limit at the alert's price)."""
        price = alert.price if price is None and ticker is None else price
        instructions = alert.instructions if role is OrderRole.ENTRY and ticker is None else None
        kind, limit_price, stop_price, tif = OrderType.MARKET, None, None, TimeInForce.DAY
        if instructions is not None:
            kind, tif = instructions.kind, instructions.time_in_force
            limit_price, stop_price = instructions.limit_price, instructions.stop_price
        elif str(strategy.options.get("order_type", "market")) == "limit":
            if price is None:
                return PlannedOrder(None, meta, coid, route.destination,
                                    "limit order needs a price and the alert has none")
            kind, limit_price = OrderType.LIMIT, price
        request = OrderRequest(
            client_order_id=coid, destination=route.destination, ticker=ticker or entry.ticker, side=side, qty=qty,
            order_type=kind, limit_price=limit_price, stop_price=stop_price, tif=tif,
            strategy=strategy.name, alert_id=alert.alert_id, price_hint=price,
            instrument=instrument if ticker else (signal_contract(alert) or route.instrument), alert=alert, role=role,
        )
        return PlannedOrder(request, meta, coid, route.destination)

    def _pair_orders(self, plan: Plan, alert: Alert, cause: str, strategy: StrategyConfig, entry: TickerConfig,
                     route: TickerDestination) -> None:
        spread = alert.spread
        size = route.size_for(alert.qty)
        group = client_order_id(cause, strategy.name, route.destination)
        point = entry.point_value(route.instrument)
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

