"""The Alerts dock: every alert as it arrives and what became of it (queued, routed, duplicate, …).

Rows come from the journal at start and then from bus events in batches (the
bridge's timer), so a flood of alerts costs one table update per tick. Statuses
are set by the router's events; rows still "queued" after a moment are checked
against the journal, which is the truth if an event came before the window.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout,
                               QWidget)

from station.domain.alert import Alert
from station.domain.events import AlertDuplicated, AlertReceived, AlertRejected, AlertRouted, AlertUnrouted
from station.domain.timeutil import to_eastern, utc_now
from station.ui import theme
from station.ui.table_model import ALIGN_RIGHT, Column, RecordTableModel, TextFilterProxy, make_table
from station.ui.trading_format import price, qty, side_color

if TYPE_CHECKING:
    from station.ui.main_window import MainWindow

CAP = 5000
STARTUP_ROWS = 500
RECHECK_MS = 2000
SEARCH_MIN_WIDTH = 140
STATUS_COLORS = {"queued": theme.ACCENT, "routed": theme.GREEN, "unrouted": theme.AMBER, "rejected": theme.RED,
                 "duplicate": theme.GREY}
EMPTY = "No alerts yet. TradingView setup… gives the webhook URL and the message to paste into an alert."
FILTERS = ("All statuses", "queued", "routed", "unrouted", "rejected", "duplicate")
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

    @classmethod
    def of(cls, alert: Alert, reason: str | None = None) -> "AlertRow":
        return cls(key=alert.alert_id, received_at=alert.received_at, ticker=alert.ticker, action=str(alert.action),
                   status=str(alert.status), alert_id=alert.alert_id, strategy=alert.strategy, qty=alert.qty,
                   price=alert.price, source=alert.source, reason=reason)


def _detail_color(row: AlertRow) -> str:
    return STATUS_COLORS[row.status] if row.status in ("unrouted", "rejected") else theme.MUTED


COLUMNS = [
    Column("Time (ET)", lambda r: to_eastern(r.received_at).strftime("%H:%M:%S"), width=64,
           tooltip=lambda r: to_eastern(r.received_at).strftime("%Y-%m-%d %H:%M:%S.%f %Z")),
    Column("#", lambda r: r.alert_id, align=ALIGN_RIGHT, width=40),
    Column("Status", lambda r: r.status, width=72, color=lambda r: STATUS_COLORS.get(r.status)),
    Column("Ticker", lambda r: r.ticker, width=64, tooltip=lambda r: r.ticker),
    Column("Side", lambda r: r.action.upper(), width=40, color=lambda r: side_color(r.action)),
    Column("Qty", lambda r: qty(r.qty), align=ALIGN_RIGHT, width=48),
    Column("Price", lambda r: price(r.price), align=ALIGN_RIGHT, width=72),
    Column("Strategy", lambda r: r.strategy or "—", width=84, color=lambda r: None if r.strategy else theme.MUTED),
    Column("Source", lambda r: r.source, width=64, color=lambda r: theme.MUTED),
    Column("Detail", lambda r: r.reason or "", tooltip=lambda r: r.reason, color=_detail_color),
]


class AlertsDock(QWidget):
    """Live alerts table with status filter and search, plus the webhook's address and setup."""

    def __init__(self, window: "MainWindow") -> None:
        super().__init__()
        self.window_ = window
        self.station = window.station
        self.model = RecordTableModel(COLUMNS, key=lambda r: r.key, cap=CAP)
        self.proxy = TextFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self._rows: dict[int, AlertRow] = {}

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
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search alerts (ticker, strategy, status, …)")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(SEARCH_MIN_WIDTH)
        self.count = QLabel()
        self.count.setStyleSheet(f"color: {theme.MUTED}")
        filters = QHBoxLayout()  # one row of controls: the table gets the height
        filters.setContentsMargins(0, 0, 0, 0)
        filters.addWidget(self.status_filter)
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
        self.search.textChanged.connect(self._search)
        self.setup_button.clicked.connect(lambda: self.open_setup())
        self.settings_button.clicked.connect(self.open_settings)

        bridge = window.bridge
        bridge.on(AlertReceived, self.on_received)
        bridge.on(AlertDuplicated, self.on_duplicated)
        bridge.on(AlertRouted, lambda events: self._set_status(events, "routed"))
        bridge.on(AlertUnrouted, lambda events: self._set_status(events, "unrouted"))
        bridge.on(AlertRejected, lambda events: self._set_status(events, "rejected"))
        self.load_recent()
        self._recheck = QTimer(self)
        self._recheck.setInterval(RECHECK_MS)
        self._recheck.timeout.connect(self.recheck_queued)
        self._recheck.start()
        self._show_address()
        if self.station.webhook.passphrase_created:  # created at this start: show it once, clearly
            QTimer.singleShot(0, lambda: self.open_setup(first_start=True))

    # ---- rows ----------------------------------------------------------------------------------

    def load_recent(self, limit: int = STARTUP_ROWS) -> None:
        """Fill the table from the journal's newest rows."""
        self._upsert([AlertRow.of(alert, reason) for alert, reason in self.station.webhook.journal.latest(limit)])

    def on_received(self, events: list[AlertReceived]) -> None:
        self._upsert([AlertRow.of(event.alert) for event in events])

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

    def _set_status(self, events: list, status: str) -> None:
        rows = []
        for event in events:
            row = self._rows.get(event.alert_id)
            if row is None:
                continue
            reason = getattr(event, "reason", None)
            if status == "routed":
                ids = getattr(event, "client_order_ids", ())
                reason = f"{len(ids)} order{'s' if len(ids) != 1 else ''}: {', '.join(ids)}" if ids else None
            rows.append(replace(row, status=status, reason=reason))
            if status == "unrouted":
                self.window_.status.showMessage(f"⚠ Alert #{row.alert_id} {row.action} {row.ticker} was not routed: "
                                                f"{reason}", 15000)
        self._upsert(rows)

    def recheck_queued(self) -> None:
        """Ask the journal about rows shown "queued" for more than a moment (routed before we listened)."""
        cutoff = utc_now().timestamp() - RECHECK_MS / 1000
        waiting = [row.alert_id for row in self._rows.values()
                   if row.status == "queued" and row.received_at.timestamp() < cutoff]
        if not waiting:
            return
        changed = []
        for alert_id, (status, reason) in self.station.webhook.journal.statuses(waiting[-900:]).items():
            row = self._rows[alert_id]
            if status != row.status:
                changed.append(replace(row, status=status, reason=reason))
        self._upsert(changed)

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
        status = self.status_filter.currentText()
        self.proxy.set_predicate(None if status == FILTERS[0] else (lambda r: r.status == status))
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
        others = (self.status_filter, self.count, self.setup_button, self.settings_button)
        room = self.width() - sum(w.sizeHint().width() for w in others) - SEARCH_MIN_WIDTH - 48
        self.address.setVisible(room >= self.address.sizeHint().width())

    def _show_address(self) -> None:
        webhook = self.station.webhook
        public = webhook.settings.get("public_url")
        shown = webhook.url(base=public) if public else webhook.url()
        self.address.setText(f'<span style="color:{theme.TEXT}">{shown}</span>')
        tip = f"TradingView alerts go to {webhook.url()}" + (f"\npublic (tunnel): {webhook.url(base=public)}" if public else "")
        self.address.setToolTip(tip)
        self.setup_button.setToolTip(f"{tip}\nThe URL and message to paste into TradingView, and a test alert")
        self._fit_address()

    # ---- dialogs -------------------------------------------------------------------------------

    def open_setup(self, first_start: bool = False) -> None:
        from station.ui.tradingview_setup import TradingViewSetup

        self._setup = TradingViewSetup(self.station, self.window_, first_start=first_start,
                                       on_change=self._show_address)
        self._setup.dialog.show()

    def open_settings(self) -> None:
        from station.ui.webhook_settings import WebhookSettings

        self._settings = WebhookSettings(self.station, self.window_, on_saved=self._show_address)
        self._settings.dialog.show()

    def detach(self) -> None:
        """Stop the journal checks (the window is closing)."""
        self._recheck.stop()


def add_webhook_menu(window: "MainWindow", dock: AlertsDock) -> None:
    """A "Webhook" menu (before Help) with the setup and settings dialogs."""
    from PySide6.QtGui import QAction, QKeySequence
    from PySide6.QtWidgets import QMenu

    menu = QMenu("&Webhook", window)
    for text, slot, key in (("&TradingView setup…", lambda: dock.open_setup(), "Ctrl+T"),
                            ("Webhook &settings…", dock.open_settings, None)):
        action = QAction(text, menu)
        action.triggered.connect(slot)
        if key:
            action.setShortcut(QKeySequence(key))
        menu.addAction(action)
    bar = window.menuBar()
    help_menu = next((a for a in bar.actions() if a.text() == "&Help"), None)
    bar.insertMenu(help_menu, menu) if help_menu else bar.addMenu(menu)
