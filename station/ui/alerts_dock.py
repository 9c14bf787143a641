"""The Alerts dock: every alert as it arrives and what became of it (queued, routed, duplicate, …).

Rows and statuses come from events in batches (the bridge's timer), so a flood of alerts
costs one table update per tick; nothing polls. What happened before the dock listened
(alerts routed while Station started, or before a restart) is in the journal, read once
right after subscribing: the router publishes a status only after committing it, so an
event either reached the dock or its outcome is in that read. A status event that comes
before its alert's row (batches of two kinds) waits for the row. Refused webhook requests
are rows too (status `refused`, with the reason and the sender's address; `refused_rows.py`),
shown or hidden by the "Refused" switch.
"""

from __future__ import annotations

import itertools
import re
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout,
                               QWidget)

from station.domain.alert import Alert
from station.domain.events import (AlertDuplicated, AlertReceived, AlertStatusChanged, ConfigChanged, OrderUpdated,
                                   RequestRefused)
from station.domain.orders import Order
from station.domain.refusals import Refusal
from station.domain.timeutil import to_eastern
from station.ui import theme
from station.ui.context import DockContext
from station.ui.refused_rows import RefusedRows, ticker_in
from station.ui.table_model import ALIGN_RIGHT, Column, RecordTableModel, TextFilterProxy, make_table
from station.ui.trading_format import price, qty, side_color
from station.ui.tradingview_setup import TradingViewSetup, webhook_url
from station.ui.slots import connect

if TYPE_CHECKING:
    from station.ui.panels import DockHost

CAP = 5000
STARTUP_ROWS = 500
STARTUP_ORDERS = 2000  # the orders read at start: which strategies the shown alerts went to, and their ids
EARLY_CAP = 1000  # statuses of alerts whose row has not come yet (or never will: older than the table)
SEARCH_MIN_WIDTH = 140
STATUS_COLORS = {"queued": theme.ACCENT, "routed": theme.GREEN, "unrouted": theme.AMBER, "rejected": theme.RED,
                 "duplicate": theme.GREY, "refused": theme.RED}
EMPTY = "No alerts yet. TradingView setup… gives the webhook URL and the message to paste into an alert."
FILTERS = ("All statuses", "queued", "routed", "unrouted", "rejected", "duplicate", "refused")
STARTUP_REFUSALS = 200
_duplicate_keys = itertools.count(1)


@dataclass(frozen=True, slots=True)
class AlertRow:
    """One line of the dock: an alert (or a skipped duplicate) and its status."""

    key: object
    received_at: datetime
    ticker: str
    action: str
    status: str
    alert_id: int | None = None
    strategy: str | None = None
    qty: Decimal | None = None
    price: Decimal | None = None
    source: str = "webhook"
    reason: str | None = None
    routed_to: str = ""  # the strategies its orders are for (an alert naming none goes to every one listing it)
    detail_tip: str | None = None  # the whole detail (its orders' ids) where the column shows it short

    @classmethod
    def of(cls, alert: Alert, reason: str | None = None) -> "AlertRow":
        return cls(key=alert.alert_id, received_at=alert.received_at, ticker=alert.ticker, action=str(alert.action),
                   status=str(alert.status), alert_id=alert.alert_id, strategy=alert.strategy, qty=alert.qty,
                   price=alert.price, source=alert.source, reason=reason)


def _detail_color(row: AlertRow) -> str:
    return STATUS_COLORS[row.status] if row.status in ("unrouted", "rejected", "refused") else theme.MUTED


def refused_row(refusal: Refusal, key: object, count: int) -> AlertRow:
    """A refused request's row: its reason in Detail (with how often it came this minute), its sender as Source."""
    more = f" (×{count} this minute)" if count > 1 else ""
    return AlertRow(key=key, received_at=refusal.at, ticker=ticker_in(refusal.body), action="", status="refused",
                    strategy=refusal.strategy, source=refusal.source, reason=f"{refusal.status} {refusal.reason}{more}")


COLUMNS = [
    Column("Time (ET)", lambda r: to_eastern(r.received_at).strftime("%H:%M:%S"), sample="00:00:00",
           tooltip=lambda r: to_eastern(r.received_at).strftime("%Y-%m-%d %H:%M:%S.%f %Z")),
    Column("#", lambda r: r.alert_id, align=ALIGN_RIGHT, sample="999"),
    Column("Status", lambda r: r.status, color=lambda r: STATUS_COLORS.get(r.status), sample="duplicate"),
    Column("Ticker", lambda r: r.ticker, width=48, tooltip=lambda r: r.ticker),
    Column("Side", lambda r: r.action.upper(), color=lambda r: side_color(r.action), sample="SELL"),
    Column("Qty", lambda r: qty(r.qty), align=ALIGN_RIGHT, sample="10"),
    Column("Price", lambda r: price(r.price), align=ALIGN_RIGHT, sample="5,905.25"),
    Column("Strategy", lambda r: r.strategy or r.routed_to or "—", width=72,
           color=lambda r: None if r.strategy or r.routed_to else theme.MUTED,
           tooltip=lambda r: (r.strategy or r.routed_to or "") + ("" if r.strategy else
                                                                   f" (sent to every strategy listing {r.ticker})")),
    # the detail is read in full on a 1366-pixel screen; where the dock is narrower, the source scrolls away first
    Column("Detail", lambda r: r.reason or "", tooltip=lambda r: r.detail_tip or r.reason, color=_detail_color,
           sample="2 orders → paper, ib"),
    Column("Source", lambda r: r.source, color=lambda r: theme.MUTED, sample="webhook"),
]


class AlertsDock(QWidget):
    """Live alerts table with status filter and search, plus the webhook's address and setup."""

    notice = Signal(str, int)  # a message for the status line, and for how long (ms)

    def __init__(self, context: DockContext) -> None:
        super().__init__()
        self.context = context
        self.model = RecordTableModel(COLUMNS, key=lambda r: r.key, cap=CAP)
        self.proxy = TextFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self._rows: dict[int, AlertRow] = {}
        self._early: OrderedDict[int, AlertStatusChanged] = OrderedDict()
        self._orders: dict[int, dict[str, tuple]] = {}  # alert id -> {order id: (strategy, destination)}

        self.address = QLabel()
        self.address.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.address.setStyleSheet(f"color: {theme.MUTED}")
        self.address.setMinimumWidth(1)  # never widens the dock: it is hidden where it does not fit
        self.setup_button = QPushButton("TradingView setup…")
        self.settings_button = QPushButton("Settings…")
        self.settings_button.setToolTip("De-duplication, rate limits, allow-list, tunnel, delay")

        self.status_filter = QComboBox()
        self.status_filter.addItems(list(FILTERS))
        self.status_filter.setToolTip("Show only alerts with this status")
        self.show_refused = QCheckBox("Refused")
        self.show_refused.setChecked(True)
        self.show_refused.setToolTip("Show webhook requests Station refused (wrong passphrase, bad body, unknown "
                                     "strategy, …) with the reason")
        self._refused = RefusedRows(refused_row)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search alerts (ticker, strategy, status, …)")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(SEARCH_MIN_WIDTH)
        self.count = QLabel()
        self.count.setStyleSheet(f"color: {theme.MUTED}")
        filters = QHBoxLayout()  # one row of controls: the table gets the height
        filters.setContentsMargins(0, 0, 0, 0)
        filters.addWidget(self.status_filter)
        filters.addWidget(self.show_refused)
        filters.addWidget(self.search, 1)
        filters.addWidget(self.count)
        filters.addSpacing(8)
        filters.addWidget(self.address)
        filters.addWidget(self.setup_button)
        filters.addWidget(self.settings_button)

        self.table = make_table(self.proxy, COLUMNS, empty=EMPTY)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(filters)
        layout.addWidget(self.table)

        self.status_filter.currentTextChanged.connect(self._refilter)
        self.show_refused.toggled.connect(self._refilter)
        self.search.textChanged.connect(self._search)
        connect(self.setup_button.clicked, self.open_setup)
        connect(self.settings_button.clicked, self.open_settings)

        bridge = context.bridge
        bridge.on(AlertReceived, self.on_received)
        bridge.on(AlertDuplicated, self.on_duplicated)
        bridge.on(AlertStatusChanged, self.on_statuses)
        bridge.on(OrderUpdated, lambda events: self.on_orders([e.order for e in events]))
        bridge.on(ConfigChanged, lambda _events: self._show_address())
        bridge.on(RequestRefused, self.on_refused)
        self.load_recent()  # after subscribing: what came before is in the journal, what comes after in events
        self._show_address()
        if context.info.passphrase_created:  # created at this start: show it once, clearly
            QTimer.singleShot(0, lambda: self.open_setup(first_start=True))

    # ---- rows ----------------------------------------------------------------------------------

    def load_recent(self, limit: int = STARTUP_ROWS) -> None:
        """Fill the table from the journal's newest rows."""
        latest = self.context.queries.alerts.latest_alerts(limit)
        self._note_orders(self.context.queries.orders.latest_orders(STARTUP_ORDERS))
        refused = self._refused.rows(self.context.queries.refusals.latest_refusals(STARTUP_REFUSALS)[::-1])
        rows = [self._with_orders(AlertRow.of(alert, reason)) for alert, reason in latest]
        self._upsert(sorted(rows + refused, key=lambda r: r.received_at))

    def on_orders(self, orders: list[Order]) -> None:
        """Orders made for alerts: the rows say which strategies took them."""
        changed = self._note_orders(orders)
        self._upsert([self._with_orders(self._rows[i]) for i in changed if i in self._rows])

    def _note_orders(self, orders: list[Order]) -> set[int]:
        changed = set()
        for order in orders:
            alert_id = order.request.alert_id
            if alert_id is not None and order.client_order_id not in self._orders.setdefault(alert_id, {}):
                self._orders[alert_id][order.client_order_id] = (order.request.strategy, order.request.destination)
                changed.add(alert_id)
        while len(self._orders) > CAP:
            del self._orders[min(self._orders)]
        return changed

    def _with_orders(self, row: AlertRow) -> AlertRow:
        """The row with the strategies its orders are for; a routed row read from the journal names its orders."""
        orders = self._orders.get(row.alert_id) if row.alert_id is not None else None
        if not orders or row.status == "duplicate":
            return row
        strategies = ", ".join(sorted({s for s, _d in orders.values() if s}))
        if row.status != "routed" or (row.reason and not ORDERS_DETAIL.match(row.reason)):
            return replace(row, routed_to=strategies)
        destinations = ", ".join(dict.fromkeys(d for _s, d in orders.values()))
        count = len(orders)
        return replace(row, routed_to=strategies, reason=f"{count} order{'s' if count != 1 else ''} → {destinations}",
                       detail_tip=_orders_detail(tuple(orders)))

    def on_received(self, events: list[AlertReceived]) -> None:
        rows = []
        for event in events:
            row = self._with_orders(AlertRow.of(event.alert))
            shown = self._rows.get(row.alert_id)
            if shown is not None and shown.status != "queued":  # read from the journal already routed
                row = replace(row, status=shown.status, reason=shown.reason)
            early = self._early.pop(row.alert_id, None)
            rows.append(self._with_status(row, early) if early is not None else row)
        self._upsert(rows)

    def on_duplicated(self, events: list[AlertDuplicated]) -> None:
        rows = []
        for event in events:
            original = self._rows.get(event.original_alert_id)
            rows.append(AlertRow(
                key=("duplicate", next(_duplicate_keys)), received_at=event.received_at, ticker=event.ticker,
                action=original.action if original else "", status="duplicate",
                strategy=original.strategy if original else None, qty=original.qty if original else None,
                price=original.price if original else None,
                reason=f"duplicate of #{event.original_alert_id}, skipped"))
        self._upsert(rows)

    def on_refused(self, events: list[RequestRefused]) -> None:
        """Refused requests: a row each (repeats within a minute share one), and a word in the status line."""
        rows = self._refused.rows([event.refusal for event in events])
        self._upsert(rows)
        if rows and self.show_refused.isChecked():
            last = rows[-1]
            self.notice.emit(f"⚠ A webhook request from {last.source} was refused: {last.reason}", 15000)

    def on_statuses(self, events: list[AlertStatusChanged]) -> None:
        """Routed, unrouted, rejected: the row changes; an alert not shown yet keeps its status for its row."""
        rows = []
        for event in events:
            row = self._rows.get(event.alert_id)
            if row is None:
                self._early[event.alert_id] = event
                while len(self._early) > EARLY_CAP:
                    self._early.popitem(last=False)
                continue
            row = self._with_orders(self._with_status(row, event))
            rows.append(row)
            if row.status == "unrouted":
                self.notice.emit(f"⚠ Alert #{row.alert_id} {row.action} {row.ticker} was not routed: {row.reason}",
                                 15000)
        self._upsert(rows)

    @staticmethod
    def _with_status(row: AlertRow, event: AlertStatusChanged) -> AlertRow:
        reason = event.why
        ids = getattr(event, "client_order_ids", ())
        if ids:
            reason = _orders_detail(ids)
        return replace(row, status=event.status, reason=reason)

    def _upsert(self, rows: list[AlertRow]) -> None:
        if not rows:
            return
        for row in rows:
            if row.alert_id is not None and row.status != "duplicate":
                self._rows[row.alert_id] = row
        self.model.upsert(rows)
        if len(self._rows) > CAP:  # forget what the table no longer shows
            for alert_id in sorted(self._rows)[:len(self._rows) - CAP]:
                del self._rows[alert_id]
        self._show_count()

    # ---- filters and header --------------------------------------------------------------------

    def _refilter(self) -> None:
        status, refused = self.status_filter.currentText(), self.show_refused.isChecked()
        if status != FILTERS[0]:
            self.proxy.set_predicate(lambda r: r.status == status and (refused or status != "refused"))
        else:
            self.proxy.set_predicate(None if refused else (lambda r: r.status != "refused"))
        self._show_count()

    def _search(self, text: str) -> None:
        self.proxy.set_text(text)
        self._show_count()

    def _show_count(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        self.count.setText(f"{total:,} alerts" if shown == total else f"{shown:,} of {total:,} alerts")

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit_address()

    def _fit_address(self) -> None:
        """Show the address in the row only where the search box keeps a usable width (it is in the tooltip
        of the setup button and in the status bar too)."""
        others = (self.status_filter, self.show_refused, self.count, self.setup_button, self.settings_button)
        room = self.width() - sum(w.sizeHint().width() for w in others) - SEARCH_MIN_WIDTH - 48
        self.address.setVisible(room >= self.address.sizeHint().width())

    def _show_address(self) -> None:
        local = self.context.info.receiver_url
        public = self.context.queries.config.settings("webhook").get("public_url")
        shown = webhook_url(public or local)
        self.address.setText(f'<span style="color:{theme.TEXT}">{shown}</span>')
        tip = f"TradingView alerts go to {webhook_url(local)}" + (f"\npublic (tunnel): {shown}" if public else "")
        self.address.setToolTip(tip)
        self.setup_button.setToolTip(f"{tip}\nThe URL and message to paste into TradingView, and a test alert")
        self._fit_address()

    # ---- dialogs -------------------------------------------------------------------------------

    def open_setup(self, first_start: bool = False) -> None:
        self._setup = TradingViewSetup(self.context, self.window(), first_start=first_start,
                                       on_change=self._show_address)
        self._setup.show()

    def open_settings(self) -> None:
        from station.ui.webhook_settings import WebhookSettings

        self._settings = WebhookSettings(self.context, self.window(), on_saved=self._show_address)
        self._settings.dialog.show()


ORDERS_DETAIL = re.compile(r"^\d+ orders? ?[:→]")  # a routed alert's detail naming its orders


def _orders_detail(ids: tuple[str, ...]) -> str:
    return f"{len(ids)} order{'s' if len(ids) != 1 else ''}: {', '.join(ids)}"


def add_webhook_menu(window: "DockHost", dock: AlertsDock) -> None:
    """A "Webhook" menu (before Help) with the setup and settings dialogs."""
    from PySide6.QtGui import QAction, QKeySequence
    from PySide6.QtWidgets import QMenu

    menu = QMenu("&Webhook", window)
    for text, slot, key in (("&TradingView setup…", dock.open_setup, "Ctrl+T"),
                            ("Webhook &settings…", dock.open_settings, None)):
        action = QAction(text, menu)
        connect(action.triggered, slot)
        if key:
            action.setShortcut(QKeySequence(key))
        menu.addAction(action)
    bar = window.menuBar()
    help_menu = next((a for a in bar.actions() if a.text() == "&Help"), None)
    bar.insertMenu(help_menu, menu) if help_menu else bar.addMenu(menu)
