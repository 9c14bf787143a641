"""The Orders and Fills docks: live tables of every order (with its state) and every execution."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from station.domain.commands import CancelOrder
from station.domain.events import OrderFilled, OrderUpdated
from station.domain.orders import Order
from station.queries import OrderQueries
from station.ui import theme
from station.ui.bridge import UiBridge
from station.ui.table_model import ALIGN_RIGHT, Column, RecordTableModel, TextFilterProxy, make_table
from station.ui.trading_format import STATUS_COLORS, et_time, price, qty, side_color
from station.ui.slots import connect

CAP = 5000


def _order_price(order: Order) -> str:
    request = order.request
    shown = request.limit_price or request.stop_price
    return price(shown) if shown is not None else ("mkt" if request.price_hint is None else f"~{price(request.price_hint)}")


def _filled(order: Order) -> str:
    return qty(order.request.qty) if order.filled_qty == order.request.qty else \
        f"{qty(order.filled_qty)}/{qty(order.request.qty)}"


# what matters first comes first (a narrow dock scrolls away the columns on the right); every column fits a
# 1366-pixel screen's Orders dock: Time … Destination and Type are seen without scrolling
ORDER_COLUMNS = [
    Column("Time (ET)", lambda o: et_time(o.request.created_at), sample="00:00:00"),
    Column("Ticker", lambda o: o.request.symbol, width=52, tooltip=lambda o: o.request.symbol),
    Column("Side", lambda o: o.request.side.value.upper(), color=lambda o: side_color(o.request.side), sample="SELL"),
    Column("Qty", _filled, ALIGN_RIGHT, sample="10/10",
           tooltip=lambda o: f"{qty(o.filled_qty)} of {qty(o.request.qty)} filled"),
    Column("Type", lambda o: o.request.order_type.value.replace("_", " "), sample="market",
           color=lambda o: theme.MUTED),
    Column("Price", _order_price, ALIGN_RIGHT, sample="~21,265.25",
           tooltip=lambda o: "market order; ~ the price it was sent at" if o.request.limit_price is None
           and o.request.stop_price is None else None),
    Column("Status", lambda o: o.status.value.replace("_", " "), color=lambda o: STATUS_COLORS.get(o.status),
           sample="submitted", tooltip=lambda o: o.reason),
    Column("Avg", lambda o: price(o.avg_price), ALIGN_RIGHT, sample="21,265.25"),
    Column("Strategy", lambda o: o.request.strategy or "—", width=72, tooltip=lambda o: o.request.strategy),
    Column("Destination", lambda o: o.request.destination, sample="paper"),
    Column("Id / reason", lambda o: o.reason or o.client_order_id, tooltip=lambda o: o.client_order_id,
           color=lambda o: theme.RED if o.reason and o.status.value == "rejected" else theme.MUTED),
]

FILL_COLUMNS = [
    Column("Time (ET)", lambda f: et_time(f.time), sample="00:00:00"),
    Column("Ticker", lambda f: f.ticker, width=52, tooltip=lambda f: f.ticker),
    Column("Side", lambda f: f.side.value.upper(), color=lambda f: side_color(f.side), sample="SELL"),
    Column("Qty", lambda f: qty(f.qty), ALIGN_RIGHT, sample="100"),
    Column("Price", lambda f: price(f.price), ALIGN_RIGHT, sample="21,265.25"),
    Column("Strategy", lambda f: f.strategy or "—", width=80, tooltip=lambda f: f.strategy),
    Column("Destination", lambda f: f.destination, sample="paper"),
    Column("Order", lambda f: f.client_order_id, tooltip=lambda f: f.fill_id, color=lambda f: theme.MUTED),
]


def _filtered_table(parent: QWidget, model: RecordTableModel, columns: list[Column], placeholder: str, empty: str):
    proxy = TextFilterProxy(parent)
    proxy.setSourceModel(model)
    search = QLineEdit()
    search.setPlaceholderText(placeholder)
    search.setClearButtonEnabled(True)
    search.textChanged.connect(proxy.set_text)
    table = make_table(proxy, columns, empty=empty)
    return proxy, search, table


class OrdersDock(QWidget):
    """Every order, newest first, updated in place; Delete cancels the selected working orders."""

    def __init__(self, bridge: UiBridge, orders: OrderQueries | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.model = RecordTableModel(ORDER_COLUMNS, key=lambda o: o.client_order_id, cap=CAP)
        self.proxy, self.search, self.table = _filtered_table(
            self, self.model, ORDER_COLUMNS, "Filter orders…",
            "No orders yet. Routed alerts, strategy signals and the Manual Trading buttons place them here.")
        self.summary = QLabel()
        self.summary.setStyleSheet(f"color: {theme.MUTED}")
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.search, 1)
        top.addWidget(self.summary)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.table)
        cancel = QAction("Cancel order", self.table)
        cancel.setShortcut(QKeySequence.Delete)
        cancel.setShortcutContext(Qt.WidgetShortcut)
        connect(cancel.triggered, self.cancel_selected)
        self.table.addAction(cancel)
        self.table.setContextMenuPolicy(Qt.ActionsContextMenu)
        bridge.on(OrderUpdated, lambda batch: self.show_orders([e.order for e in batch]))
        if orders is not None:
            self.model.upsert(orders.latest_orders(CAP))
        self._count()

    def show_orders(self, orders: list[Order]) -> None:
        self.model.upsert(orders)
        self._count()

    def selected(self) -> list[Order]:
        rows = {self.proxy.mapToSource(i).row() for i in self.table.selectionModel().selectedRows()}
        return [self.model.record(r) for r in sorted(rows)]

    def cancel_selected(self) -> None:
        for order in self.selected():
            if not order.status.is_terminal:
                self.bridge.publish(CancelOrder(order.client_order_id))

    def _count(self) -> None:
        records = self.model.records()
        working = sum(1 for o in records if not o.status.is_terminal)
        self.summary.setText(f"{len(records)} orders · {working} open")


class FillsDock(QWidget):
    """Every execution, newest first."""

    def __init__(self, bridge: UiBridge, orders: OrderQueries | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = RecordTableModel(FILL_COLUMNS, key=lambda f: f.fill_id, cap=CAP)
        self.proxy, self.search, self.table = _filtered_table(
            self, self.model, FILL_COLUMNS, "Filter fills…", "No fills yet. Every execution of an order shows here.")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.table)
        bridge.on(OrderFilled, lambda batch: self.model.upsert(e.fill for e in batch))
        if orders is not None:
            self.model.upsert(orders.latest_fills(CAP))
