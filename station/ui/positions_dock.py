"""The Positions & PnL dock: positions per strategy, destination and ticker at live marks; totals.

Each row carries its own Close, Reverse and Add stop/target buttons (`RowActions`), and the count of its
working orders (protective exits and entries, from the book and `OrderUpdated`) with each one in its tooltip.
What a button did is said once the oms answers (`ManualActionCompleted`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable

import uuid
from typing import Callable

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from station.domain.commands import ClosePosition, ReversePosition
from station.domain.events import ManualActionCompleted, OrderUpdated, PositionsMarked
from station.domain.orders import Order
from station.domain.pnl import MarkedPosition
from station.domain.ticks import tick_size
from station.ui import theme
from station.ui.bridge import UiBridge
from station.ui.confirm import confirm
from station.ui.protect_dialog import ProtectDialog
from station.ui.row_actions import RowActions
from station.ui.table_model import ALIGN_RIGHT, Column, RecordTableModel, TextFilterProxy, make_table
from station.ui.trading_format import STATUS_COLORS, money, pnl_color, price, qty

ZERO = Decimal(0)

POSITION_COLUMNS = [
    Column("Ticker", lambda m: m.position.ticker, width=52, tooltip=lambda m: m.position.ticker),
    Column("Strategy", lambda m: m.position.strategy or "(unattributed)", width=80,
           tooltip=lambda m: m.position.strategy),
    Column("Qty", lambda m: qty(m.position.qty), ALIGN_RIGHT, sample="-10",
           color=lambda m: theme.GREEN if m.position.qty > 0 else theme.RED if m.position.qty < 0 else theme.MUTED),
    Column("Avg", lambda m: price(m.position.avg_price) if m.position.qty else "", ALIGN_RIGHT, sample="21,265.25"),
    Column("Mark", lambda m: price(m.mark), ALIGN_RIGHT, sample="21,265.25",
           tooltip=lambda m: None if m.mark is not None else "no price yet"),
    Column("Unrealized", lambda m: money(m.unrealized_pnl), ALIGN_RIGHT, color=lambda m: pnl_color(m.unrealized_pnl),
           sample="-12,345.00"),
    Column("Realized", lambda m: money(m.position.realized_pnl), ALIGN_RIGHT,
           color=lambda m: pnl_color(m.position.realized_pnl), sample="-12,345.00"),
    Column("Total", lambda m: money(m.total_pnl), ALIGN_RIGHT, color=lambda m: pnl_color(m.total_pnl),
           sample="-12,345.00"),
    Column("Destination", lambda m: m.position.destination, sample="paper", color=lambda m: theme.MUTED),
]

STRATEGY_COLUMNS = [
    Column("Strategy", lambda r: r["strategy"], width=110),
    Column("Open", lambda r: str(r["open"]), ALIGN_RIGHT, sample="10"),
    Column("Unrealized", lambda r: money(r["unrealized"]), ALIGN_RIGHT, color=lambda r: pnl_color(r["unrealized"]),
           sample="-12,345.00"),
    Column("Realized", lambda r: money(r["realized"]), ALIGN_RIGHT, color=lambda r: pnl_color(r["realized"]),
           sample="-12,345.00"),
    Column("Total", lambda r: money(r["total"]), ALIGN_RIGHT, color=lambda r: pnl_color(r["total"]),
           sample="-12,345.00"),
]
ROOM_FOR_BOTH = 300  # below this height the per-strategy table folds away (By strategy shows it)
ROW_BUTTONS = [("close", "Close", "#3a424e", "Close this position at market (its protective orders are cancelled)"),
               ("reverse", "Reverse", "#3a424e", "Close this position and open the same size the other way"),
               ("protect", "Stop/Target", "#1e3a5f", "Add a stop and/or a target protecting this position")]
TYPE_TAGS = {"market": "MKT", "limit": "LMT", "stop": "STP", "stop_limit": "STP LMT", "trailing_stop": "TRAIL"}


def order_line(order: Order) -> str:
    """`STP Sell 2 @ 4,998.00 working (stop loss)`: one working order as a position's tooltip lists it."""
    request = order.request
    level = request.limit_price if request.order_type.value == "limit" else request.stop_price or request.limit_price
    at = f" @ {price(level)}" if level is not None else ""
    role = "" if request.role.value in ("entry", "exit") else f" ({request.role.value.replace('_', ' ')})"
    return (f"{TYPE_TAGS.get(request.order_type.value, request.order_type.value)} {request.side.value.capitalize()} "
            f"{qty(order.remaining_qty)}{at} {order.status.value.replace('_', ' ')}{role}")


@dataclass(frozen=True)
class PnlSummary:
    """Totals over a snapshot of positions: what the status bar and the dock's headline show."""

    total: Decimal = ZERO
    unrealized: Decimal = ZERO
    realized: Decimal = ZERO
    open: int = 0

    @classmethod
    def of(cls, positions: Iterable[MarkedPosition]) -> "PnlSummary":
        total = unrealized = realized = ZERO
        count = 0
        for marked in positions:
            total += marked.total_pnl
            unrealized += marked.unrealized_pnl
            realized += marked.position.realized_pnl
            count += 0 if marked.position.is_flat else 1
        return cls(total, unrealized, realized, count)

    def detail(self) -> str:
        return f"unrealized {money(self.unrealized)} · realized {money(self.realized)} · {self.open} open"


def _key(marked: MarkedPosition):
    p = marked.position
    return p.destination, p.ticker, p.strategy or ""


class PositionsDock(QWidget):
    """Live positions and PnL, per strategy and in total."""

    def __init__(self, bridge: UiBridge, positions: list[MarkedPosition] = (), parent: QWidget | None = None, *,
                 orders: list[Order] = (), settings: QSettings | None = None,
                 tick: Callable[[str], Decimal] | None = None) -> None:
        super().__init__(parent)
        self.bridge, self.settings = bridge, settings
        self.tick = tick or (lambda ticker: tick_size(ticker))
        self.working: dict[tuple[str, str, str], dict[str, Order]] = {}  # position key -> its open orders
        self.pending: dict[str, str] = {}  # click id -> what was asked, until the oms answers
        self.dialog: ProtectDialog | None = None
        # the row's buttons come early, so a narrow dock shows them without scrolling
        columns = [*POSITION_COLUMNS[:4], Column(
            "Orders", self._orders_text, ALIGN_RIGHT, sample="10", color=lambda m: theme.ACCENT,
            tooltip=self._orders_tooltip), Column("", lambda m: ""), *POSITION_COLUMNS[4:]]
        self.columns, self.actions_column = columns, 5
        self.model = RecordTableModel(columns, key=_key, cap=2000, newest_first=False)
        self.proxy = TextFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.table = make_table(self.proxy, columns, empty="No positions yet. Fills open them here.",
                                filtered="No open positions (Show flat lists the closed ones).")
        self.actions = RowActions(ROW_BUTTONS, self.table)
        self.table.setItemDelegateForColumn(self.actions_column, self.actions)
        self.table.horizontalHeader().resizeSection(self.actions_column, self.actions.width(self.table.fontMetrics()))
        self.actions.clicked.connect(self._row_action)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.strategies = RecordTableModel(STRATEGY_COLUMNS, key=lambda r: r["strategy"], newest_first=False)
        self.strategy_table = make_table(self.strategies, STRATEGY_COLUMNS, empty="PnL per strategy shows here.")
        self.total = QLabel()
        self.total.setTextFormat(Qt.RichText)
        self.total.setWordWrap(True)  # a narrow dock wraps the detail under the total
        self.show_flat = QCheckBox("Show flat")
        self.show_flat.setChecked(False)
        self.show_flat.toggled.connect(self._refilter)
        self.by_strategy = QCheckBox("By strategy")
        self.by_strategy.setChecked(True)  # until the dock's height says otherwise (see resizeEvent)
        self.by_strategy.setToolTip("PnL per strategy under the positions (folded away in a low dock)")
        self.by_strategy.toggled.connect(lambda on: self.strategy_table.setVisible(on))
        self.by_strategy.clicked.connect(lambda: setattr(self, "_by_strategy_chosen", True))  # the trader's click
        self._by_strategy_chosen = False  # the trader's choice wins over the dock's height
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.total, 1)
        top.addWidget(self.by_strategy)
        top.addWidget(self.show_flat)
        splitter = QSplitter(Qt.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(self.strategy_table)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(splitter)
        layout.addWidget(self.status)
        self._refilter()
        self.show_orders(list(orders))
        self.show_positions(list(positions))
        bridge.on(PositionsMarked, lambda batch: self.show_positions(list(batch[-1].positions)))
        bridge.on(OrderUpdated, lambda batch: self.show_orders([e.order for e in batch]))
        bridge.on(ManualActionCompleted, self._on_completed)

    # ---- working orders per row ---------------------------------------------------------------------

    def show_orders(self, orders: list[Order]) -> None:
        """Keep each position's open orders (an order that ended leaves its row)."""
        for order in orders:
            request = order.request
            key = (request.destination, request.ticker.upper(), request.strategy or "")
            mine = self.working.setdefault(key, {})
            if order.status.is_terminal:
                mine.pop(order.client_order_id, None)
            else:
                mine[order.client_order_id] = order
        if orders and self.model.rowCount():
            self.model.upsert(self.model.records())  # the Orders column of every row, redrawn

    def orders_of(self, marked: MarkedPosition) -> list[Order]:
        """The open orders of a row's position, oldest first."""
        p = marked.position
        return list(self.working.get((p.destination, p.ticker.upper(), p.strategy or ""), {}).values())

    def _orders_text(self, marked: MarkedPosition) -> str:
        count = len(self.orders_of(marked))
        return str(count) if count else ""

    def _orders_tooltip(self, marked: MarkedPosition) -> str | None:
        orders = self.orders_of(marked)
        if not orders:
            return "No working orders"
        lines = "".join(f"<div style='color:{STATUS_COLORS.get(o.status, theme.TEXT)}'>{order_line(o)}</div>"
                        for o in orders)
        return f"<b>Working orders</b>{lines}"

    # ---- row buttons --------------------------------------------------------------------------------

    def _row_action(self, name: str, marked: MarkedPosition) -> None:
        {"close": self.close_row, "reverse": self.reverse_row, "protect": self.protect_row}[name](marked)

    def _ask(self, text: str) -> bool:
        return self.settings is None or confirm(self, self.settings, "order", text)

    def _send(self, command, label: str) -> None:
        self.pending[command.click_id] = label
        self._say(f"{label}: sent…", theme.MUTED)
        self.bridge.publish(command)

    def close_row(self, marked: MarkedPosition) -> None:
        p = marked.position
        label = f"Close {p.ticker} ({p.strategy or 'unattributed'} at {p.destination})"
        if self._ask(f"<b>{label}</b>: {qty(p.qty)} at market, and cancel its protective orders?"):
            self._send(ClosePosition(_click(), p.strategy or "", p.ticker, p.destination), label)

    def reverse_row(self, marked: MarkedPosition) -> None:
        p = marked.position
        label = f"Reverse {p.ticker} ({p.strategy or 'unattributed'} at {p.destination})"
        if self._ask(f"<b>{label}</b>: close {qty(p.qty)} and open {qty(abs(p.qty))} the other way?"):
            self._send(ReversePosition(_click(), p.strategy or "", p.ticker, p.destination), label)

    def protect_row(self, marked: MarkedPosition) -> ProtectDialog:
        """The Add stop/target dialog for a row (not modal); Add sends `ProtectPosition`."""
        if self.dialog is not None:
            self.dialog.close()
        self.dialog = dialog = ProtectDialog(marked, self.tick(marked.position.ticker), self)
        dialog.accepted.connect(lambda: self._protect(dialog))
        dialog.show()
        return dialog

    def _protect(self, dialog: ProtectDialog) -> None:
        command = dialog.command(_click())
        if command is None:
            self._say("Add stop/target: tick a stop (or a trailing stop), a target or both.", theme.AMBER)
            return
        self._send(command, f"Protect {command.ticker} at {command.destination}: {dialog.summary()}")

    def _on_completed(self, batch: list[ManualActionCompleted]) -> None:
        for event in batch:
            label = self.pending.pop(event.click_id, None)
            if label is None:
                continue
            if event.error:
                self._say(f"{label}: {event.error}", theme.RED)
            else:
                count = len(event.client_order_ids)
                self._say(f"{label}: {count} order{'s' if count != 1 else ''} placed", theme.GREEN)

    def _say(self, text: str, color: str) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {color}")

    def show_positions(self, positions: list[MarkedPosition]) -> None:
        """Show a snapshot of every position at its mark (the latest of a batch is enough)."""
        self.model.upsert(sorted(positions, key=lambda m: (m.position.strategy or "", m.position.ticker,
                                                            m.position.destination)))
        rows: dict[str, dict] = {}
        for marked in self.model.records():
            name = marked.position.strategy or "(unattributed)"
            row = rows.setdefault(name, {"strategy": name, "open": 0, "unrealized": ZERO, "realized": ZERO, "total": ZERO})
            row["open"] += 0 if marked.position.is_flat else 1
            row["unrealized"] += marked.unrealized_pnl
            row["realized"] += marked.position.realized_pnl
            row["total"] += marked.total_pnl
        self.strategies.upsert(rows.values())
        summary = PnlSummary.of(self.model.records())
        color = pnl_color(summary.total) or theme.TEXT
        self.total.setText(
            f'<span style="font-size:15px; font-weight:600; color:{color}">Total {money(summary.total)}</span>'
            f'<span style="color:{theme.MUTED}">&nbsp;&nbsp; {summary.detail()}</span>')

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if not self._by_strategy_chosen:  # a low dock gives its rows to the positions
            self.by_strategy.setChecked(self.height() >= ROOM_FOR_BOTH)

    def _refilter(self) -> None:
        flat = self.show_flat.isChecked()
        self.proxy.set_predicate(None if flat else (lambda m: not m.position.is_flat))


def _click() -> str:
    return uuid.uuid4().hex[:16]
