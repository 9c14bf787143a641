"""Chart trading: orders from the price plot, and the chart's working orders, held exits and positions as lines.

- Right-click in the plot: Buy/Sell limit or stop at that price on the tick grid — a limit below the
  market buys and a stop there sells, above it the other way round (all four while no price is known) —
  with the Manual Trading ticket's strategy, destination, quantity, TIF and bracket (`TicketChoice`),
  asked about as the ticket asks, sent as a `ManualOrder`.
- Working orders and held exits of the chart's symbol are lines (`order_lines.py`): a drag sends exactly
  one `ChangeOrder` on release, with the new price on the tick grid (a stop-limit keeps its limit's
  distance); the × sends `CancelOrder`. Each position in the symbol shows its average entry price.
The lines come from the book when the chart opens and follow `OrderUpdated`, `OrderChanged` and
`PositionsMarked`; nothing is drawn from a guess.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QObject, QPointF, Qt
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QMenu

from station.domain.commands import CancelOrder, ChangeOrder
from station.domain.config import RoutingConfig
from station.domain.enums import OrderRole, OrderType, Side
from station.domain.events import OrderChanged, OrderUpdated, PositionsMarked
from station.domain.orders import Order
from station.domain.pnl import MarkedPosition
from station.domain.ticks import round_to_tick
from station.ui.chart.order_lines import AVERAGE, BUY, SELL, STOP, TARGET, PriceLine, stack_labels
from station.ui.order_ticket import TicketChoice, configured_tick, tick_price, ticket_order
from station.ui.trading_format import ticker_root

if TYPE_CHECKING:
    from PySide6.QtCore import QSettings

    from station.queries import BookQueries
    from station.ui.bridge import UiBridge
    from station.ui.chart.view import ChartView

TAGS = {OrderType.LIMIT: "LMT", OrderType.STOP: "STP", OrderType.STOP_LIMIT: "STP LMT",
        OrderType.TRAILING_STOP: "TRAIL"}


@dataclass(frozen=True)
class TradingInputs:
    """What a chart needs to trade: the book (orders, positions, prices), the ticket's choices, the config
    (ticks) and the window's settings (whether to ask before an order)."""

    book: "BookQueries"
    choice: TicketChoice
    config: Callable[[], RoutingConfig]
    settings: "QSettings"


def line_price(order: Order) -> Decimal | None:
    """The price an order's line stands at: a limit's limit, a stop's (or stop-limit's) stop."""
    request = order.request
    return request.limit_price if request.order_type is OrderType.LIMIT else request.stop_price


def order_text(order: Order, tick: Decimal) -> str:
    """`LMT Buy 2 @ 5,012.25`; an exit as its signed size (`STP -2 @ 4,998.00`, `TGT -2 …`), `held` until armed."""
    request = order.request
    level = line_price(order)
    at = f" @ {tick_price(level, tick)}" if level is not None else ""
    if request.protective:
        tag = "TGT" if request.role is OrderRole.TAKE_PROFIT else TAGS.get(request.order_type, "STP")
        size = f"{'+' if request.side is Side.BUY else '-'}{order.remaining_qty.normalize():f}"
        return f"{tag} {size}{at}{' held' if order.status.value == 'held' else ''}"
    return f"{TAGS.get(request.order_type, request.order_type.value)} {request.side.value.capitalize()} " \
           f"{order.remaining_qty.normalize():f}{at}"


def order_color(order: Order) -> str:
    role = order.request.role
    if role is OrderRole.TAKE_PROFIT:
        return TARGET
    if role.protective:
        return STOP
    return BUY if order.request.side is Side.BUY else SELL


class ChartTrading(QObject):
    """Lines and the right-click menu of one chart; `symbol` follows the chart."""

    def __init__(self, view: "ChartView", bridge: "UiBridge", inputs: TradingInputs, say: Callable[[str], None]) -> None:
        super().__init__(view)
        self.view, self.bridge, self.inputs, self.say = view, bridge, inputs, say
        self.symbol = ""
        self.orders: dict[str, Order] = {}  # open orders with a price, any symbol (the chart may switch)
        self.positions: list[MarkedPosition] = []
        self.lines: dict[str, PriceLine] = {}
        self.menu: QMenu | None = None
        self.changes: dict[str, str] = {}  # request id -> the order it changes, until answered
        for order in inputs.book.open_orders():
            self._keep(order)
        self.positions = inputs.book.marked_positions(include_flat=False)
        bridge.on(OrderUpdated, lambda batch: self._orders([e.order for e in batch]))
        bridge.on(OrderChanged, self._on_changed)
        bridge.on(PositionsMarked, lambda batch: self._positions(list(batch[-1].positions)))
        view.scene().sigMouseClicked.connect(self._on_click)
        box = view.price.getViewBox()
        box.sigYRangeChanged.connect(self._stack)  # zooming brings lines closer on screen or apart
        box.sigResized.connect(self._stack)

    # ---- what is drawn --------------------------------------------------------------------------------

    def show_symbol(self, symbol: str) -> None:
        self.symbol = symbol
        self.redraw()

    def tick(self) -> Decimal:
        return configured_tick(self.inputs.config(), self.symbol) if self.symbol else Decimal("0.01")

    def mine(self, ticker: str) -> bool:
        return bool(self.symbol) and ticker_root(ticker) == ticker_root(self.symbol)

    def _keep(self, order: Order) -> None:
        if order.status.is_terminal or line_price(order) is None:
            self.orders.pop(order.client_order_id, None)
        else:
            self.orders[order.client_order_id] = order

    def _orders(self, orders: list[Order]) -> None:
        for order in orders:
            self._keep(order)
        if any(self.mine(o.request.ticker) for o in orders):
            self.redraw()

    def _positions(self, positions: list[MarkedPosition]) -> None:
        fresh = [m for m in positions if not m.position.is_flat]
        before = {(m.position.destination, m.position.strategy, m.position.qty, m.position.avg_price) for m in self.positions}
        after = {(m.position.destination, m.position.strategy, m.position.qty, m.position.avg_price) for m in fresh}
        self.positions = fresh
        if before != after:
            self.redraw()

    def redraw(self) -> None:
        """Lines for what is open in the chart's symbol now: kept where they are, added, or taken away."""
        tick = self.tick()
        wanted: dict[str, tuple[float, str, str, bool, bool]] = {}
        for order in self.orders.values():
            if self.mine(order.request.ticker):
                wanted[order.client_order_id] = (float(line_price(order)), order_text(order, tick), order_color(order),
                                                 order.status.value == "held", True)
        mine = [m for m in self.positions if self.mine(m.position.ticker)]
        for marked in mine:
            p = marked.position
            owner = f" {p.strategy}" if len(mine) > 1 and p.strategy else ""
            text = f"Avg {tick_price(p.avg_price, tick)} {'+' if p.qty > 0 else ''}{p.qty.normalize():f}{owner}"
            wanted[f"avg:{p.destination}:{p.strategy or ''}"] = (float(p.avg_price), text, AVERAGE, False, False)
        for key in [k for k in self.lines if k not in wanted]:
            self.view.price.removeItem(self.lines.pop(key))
        for key, (price, text, color, dashed, order) in wanted.items():
            line = self.lines.get(key)
            if line is not None and (line.color, line.dashed, line.movable) == (color, dashed, order):
                line.show_as(price, text)
                continue
            if line is not None:
                self.view.price.removeItem(line)
            line = PriceLine(key, price, text, color, dashed=dashed, movable=order,
                             cancel=(lambda k=key: self.cancel(k)) if order else None,
                             moved=self.moved if order else None)
            self.view.price.addItem(line, ignoreBounds=True)
            self.lines[key] = line
        self._stack()

    def _stack(self, *_) -> None:
        stack_labels(list(self.lines.values()), self.scene_y, self.view.price.getViewBox().width())

    # ---- changes from the lines ------------------------------------------------------------------------

    def moved(self, line: PriceLine, value: float) -> None:
        """A line was let go: one ChangeOrder to the new price on the tick grid (nothing if it did not move)."""
        order = self.orders.get(line.key)
        if order is None:
            return
        tick = self.tick()
        price = round_to_tick(Decimal(repr(value)), tick)
        old = line_price(order)
        line.setValue(float(price))
        self._stack()
        if price == old:
            return
        request = order.request
        if request.order_type is OrderType.LIMIT:
            change = {"limit_price": price}
        elif request.order_type is OrderType.STOP_LIMIT:
            change = {"stop_price": price, "limit_price": request.limit_price + (price - old)}
        else:
            change = {"stop_price": price}
        request_id = uuid.uuid4().hex
        self.changes[request_id] = order.client_order_id
        self.say(f"{order_text(order, tick)} → {tick_price(price, tick)}…")
        self.bridge.publish(ChangeOrder(request_id, order.client_order_id, **change))

    def _on_changed(self, batch: list[OrderChanged]) -> None:
        for event in batch:
            coid = self.changes.pop(event.request_id, None)
            if coid is None:
                continue
            if event.error:
                self.say(f"Not changed: {event.error}")
                self.redraw()  # the line goes back where the order is
            else:
                self.say("")

    def cancel(self, key: str) -> None:
        order = self.orders.get(key)
        if order is not None:
            self.say(f"Cancelling {order_text(order, self.tick())}…")
            self.bridge.publish(CancelOrder(order.client_order_id))

    # ---- orders from the plot ----------------------------------------------------------------------------

    def _on_click(self, event) -> None:
        if event.button() != Qt.RightButton or event.isAccepted():
            return
        scene = event.scenePos()
        if not self.view.price.sceneBoundingRect().contains(scene):
            return
        event.accept()
        price = self.view.price.getViewBox().mapSceneToView(scene).y()
        self.menu_at(price).popup(QCursor.pos())

    def choices_at(self, price: Decimal) -> list[tuple[Side, OrderType]]:
        """What an order at `price` can be: below the market a buy limit or a sell stop, above it the others."""
        mark = self.inputs.book.marks.price(self.symbol)
        below = [(Side.BUY, OrderType.LIMIT), (Side.SELL, OrderType.STOP)]
        above = [(Side.SELL, OrderType.LIMIT), (Side.BUY, OrderType.STOP)]
        if mark is None or price == mark:
            return below + above
        return below if price < mark else above

    def menu_at(self, value: float) -> QMenu:
        """The right-click menu at a price of the plot."""
        tick = self.tick()
        price = round_to_tick(Decimal(repr(value)), tick)
        self.menu = menu = QMenu(self.view)
        choice = self.inputs.choice
        if not choice.strategy or not self.mine(choice.ticker or ""):
            action = menu.addAction(f"Choose a strategy trading {self.symbol} in Manual Trading")
            action.setEnabled(False)
            return menu
        for side, kind in self.choices_at(price):
            action = menu.addAction(f"{side.value.capitalize()} {kind.value} {choice.qty.normalize():f} @ "
                                    f"{tick_price(price, tick)}")
            action.setData((side.value, kind.value, str(price)))
            action.triggered.connect(lambda _=False, s=side, k=kind, p=price: self.place(s, k, p))
        menu.addSeparator()
        where = choice.destination or "all destinations"
        bracket = f", {choice.template.name}" if choice.template else ""
        info = menu.addAction(f"{choice.strategy} → {where} · {choice.tif.value.upper()}{bracket}")
        info.setEnabled(False)
        return menu

    def place(self, side: Side, kind: OrderType, price: Decimal) -> None:
        """An order at `price` with the ticket's choices, asked about as the ticket asks."""
        choice = self.inputs.choice
        limit = price if kind is OrderType.LIMIT else None
        stop = price if kind is OrderType.STOP else None
        command, text = ticket_order(uuid.uuid4().hex[:16], side, choice, kind, limit, stop,
                                     self.inputs.book.marks.price(choice.ticker))
        if command is None:
            self.say(f"Not sent: {text}")
            return
        if choice.confirm is not None:
            if not choice.confirm(f"<b>{text}</b> ({choice.strategy})?"):
                return
        else:
            from station.ui.confirm import confirm

            if not confirm(self.view, self.inputs.settings, "order", f"<b>{text}</b> ({choice.strategy})?"):
                return
        self.say(f"{text}: sent")
        self.bridge.publish(command)

    def scene_y(self, price: float) -> float:
        """Where a price is on the scene (tests and screenshots drive the mouse there)."""
        return self.view.price.getViewBox().mapViewToScene(QPointF(0, price)).y()
