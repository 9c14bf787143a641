"""The NinjaTrader dock: every TCP port and ATI account, its link, lines waiting, last delivery; and the
add-on's install.

Rows come from the configuration (ports listed under strategies' tickers, ATI
destinations) plus any NinjaTrader destination that reports; the live figures come
from bus events only: `ConnectionChanged` (state; REMOVED takes the row away),
`OrderUpdated` (an order created and still `new` is waiting for its destination),
`OrderReported` (SUBMITTED: written). A port that is down is red here as in the status
bar. "Install add-on…" copies the NinjaTrader 8 add-on into NinjaTrader's AddOns folder
or writes its import archive, then says the steps left inside NinjaTrader.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QMenu, QToolButton, QVBoxLayout, QWidget

from station.domain.config import RoutingConfig
from station.domain.enums import ConnectionState, OrderStatus
from station.domain.events import ConfigChanged, ConnectionChanged, OrderReported, OrderUpdated
from station.domain.timeutil import to_eastern
from station.ui import theme
from station.ui import ninjatrader_addon
from station.ui.context import DockContext
from station.ui.status_bar import LIGHT_COLORS
from station.ui.table_model import ALIGN_RIGHT, Column, RecordTableModel, make_table

log = logging.getLogger("station.ui")

PORT_PREFIX = "port:"
SENT_MEMORY = 50_000  # order ids remembered as sent (counted once each)
ATI_TYPE = "ninjatrader-ati"


@dataclass(frozen=True)
class NinjaTraderRow:
    """What the dock shows for one destination."""

    name: str
    kind: str
    target: str
    used_by: str = ""
    state: ConnectionState | None = None
    detail: str = ""
    waiting: frozenset[str] = field(default_factory=frozenset)
    sent: int = 0
    last_delivery: datetime | None = None

    @property
    def title(self) -> str:
        return f"Port {self.name[len(PORT_PREFIX):]}" if self.name.startswith(PORT_PREFIX) else self.name


def _last(row: NinjaTraderRow) -> str:
    return to_eastern(row.last_delivery).strftime("%H:%M:%S") if row.last_delivery else "—"


def _last_tip(row: NinjaTraderRow) -> str | None:
    return to_eastern(row.last_delivery).strftime("%Y-%m-%d %H:%M:%S %Z") if row.last_delivery else None


def _state_color(row: NinjaTraderRow) -> str:
    if row.waiting and row.state is not ConnectionState.CONNECTED:
        return theme.RED  # down while lines wait for it: the trader must look
    return LIGHT_COLORS.get(row.state, theme.GREY)  # the status bar's colours (a port down and retrying is red)


COLUMNS = [
    Column("Destination", lambda r: r.title, tooltip=lambda r: f"{r.kind}: {r.target}", width=100),
    Column("State", lambda r: f"● {r.state}" if r.state else "○ not started",
           color=_state_color, tooltip=lambda r: r.detail or None, width=110),
    Column("Waiting", lambda r: len(r.waiting), align=ALIGN_RIGHT,
           color=lambda r: theme.AMBER if r.waiting else theme.MUTED, width=60),
    Column("Sent", lambda r: r.sent, align=ALIGN_RIGHT, width=48),
    Column("Last delivery (ET)", _last, tooltip=_last_tip, width=120),
    Column("Used by", lambda r: r.used_by, tooltip=lambda r: r.used_by or None, width=160),
    Column("Detail", lambda r: r.detail, tooltip=lambda r: r.detail or None, color=lambda r: theme.MUTED),
]


def configured_rows(config: RoutingConfig) -> list[NinjaTraderRow]:
    """One row per port listed by any strategy's ticker and per ATI destination, in a stable order."""
    users: dict[str, dict[str, list[str]]] = {}  # destination -> strategy -> tickers
    for strategy in config.strategies:
        for ticker in strategy.tickers:
            names = [f"{PORT_PREFIX}{port}" for port in ticker.ports]
            for name in names + [dest.destination for dest in ticker.destinations]:
                users.setdefault(name, {}).setdefault(strategy.name, []).append(ticker.ticker)

    def used_by(name: str) -> str:
        return "; ".join(f"{strategy}: {', '.join(tickers)}" for strategy, tickers in users.get(name, {}).items())

    ports = sorted((n for n in users if n.startswith(PORT_PREFIX)), key=lambda n: int(n[len(PORT_PREFIX):]))
    rows = [NinjaTraderRow(name, "TCP port", f"127.0.0.1:{name[len(PORT_PREFIX):]}", used_by(name))
            for name in ports]
    for dest in sorted(config.destinations, key=lambda d: d.name):
        if dest.type == ATI_TYPE:
            target = f"account {dest.params.get('account')} — {dest.params.get('incoming')}"
            rows.append(NinjaTraderRow(dest.name, "ATI files", target, used_by(dest.name)))
    return rows


class NinjaTraderDock(QWidget):
    """A table of NinjaTrader destinations with a one-line summary above it."""

    def __init__(self, context: DockContext | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._context = context
        self.rows: dict[str, NinjaTraderRow] = {}
        self._sent_ids: OrderedDict[str, None] = OrderedDict()
        self.model = RecordTableModel(COLUMNS, key=lambda r: r.name, newest_first=False, cap=1000)
        self.summary = QLabel()
        self.summary.setStyleSheet(f"color: {theme.MUTED}; padding: 2px 2px 4px 2px;")
        self.summary.setWordWrap(True)  # a narrow dock wraps the line instead of growing
        self.table = make_table(self.model, COLUMNS)
        self.addons_dir: Path = ninjatrader_addon.addons_dir()
        self.install_button = self._install_button()
        self.install_note = QLabel()
        self.install_note.setWordWrap(True)
        self.install_note.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.install_note.setStyleSheet(f"padding: 4px; border: 1px solid {theme.MUTED}; border-radius: 3px;")
        self.install_note.hide()
        self.installing: asyncio.Future | None = None
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.install_button, 0, Qt.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.install_note)
        layout.addWidget(self.table)
        if context is not None:
            bridge = context.bridge
            bridge.on(ConnectionChanged, self.on_connections)
            bridge.on(OrderUpdated, self.on_orders)
            bridge.on(OrderReported, self.on_reports)
            bridge.on(ConfigChanged, lambda _batch: self.reload())
            self.reload()
            self.on_connections(context.queries.connections.latest_connections())
        self._refresh_summary()

    def reload(self) -> None:
        """Rebuild the list from the configuration, keeping the live figures of known rows."""
        if self._context is None:
            return
        self.set_configured(configured_rows(self._context.queries.config.load()))

    def set_configured(self, configured: list[NinjaTraderRow]) -> None:
        known = self.rows
        rows: dict[str, NinjaTraderRow] = {}
        for row in configured:
            old = known.get(row.name)
            rows[row.name] = replace(old, kind=row.kind, target=row.target, used_by=row.used_by) if old else row
        for name, old in known.items():  # still reporting, though no longer configured
            if name not in rows and (old.state not in (None, ConnectionState.DISCONNECTED) or old.waiting):
                rows[name] = replace(old, used_by="")
        self.rows = rows
        self.model.clear()
        self.model.upsert(rows.values())
        self._refresh_summary()

    # ---- events (batches from the bridge) -------------------------------------------------

    def _row(self, name: str) -> NinjaTraderRow | None:
        row = self.rows.get(name)
        if row is None and name.startswith(PORT_PREFIX):
            row = NinjaTraderRow(name, "TCP port", f"127.0.0.1:{name[len(PORT_PREFIX):]}")
        return row

    def _update(self, changed: dict[str, NinjaTraderRow]) -> None:
        if not changed:
            return
        self.rows.update(changed)
        self.model.upsert(changed.values())
        self._refresh_summary()

    def on_connections(self, events: list[ConnectionChanged]) -> None:
        changed: dict[str, NinjaTraderRow] = {}
        removed = False
        for event in events:
            if event.state is ConnectionState.REMOVED:  # no longer configured: the row goes
                changed.pop(event.name, None)
                removed = self.rows.pop(event.name, None) is not None or removed
                continue
            row = changed.get(event.name) or self._row(event.name)
            if row is not None:
                changed[event.name] = replace(row, state=event.state, detail=event.detail)
        if removed:
            self.rows.update(changed)
            self.model.clear()
            self.model.upsert(self.rows.values())
            self._refresh_summary()
            return
        self._update(changed)

    def on_orders(self, events: list[OrderUpdated]) -> None:
        changed: dict[str, NinjaTraderRow] = {}
        for event in events:
            name, cid = event.order.request.destination, event.order.client_order_id
            row = changed.get(name) or self._row(name)
            if row is None:
                continue
            waiting = row.waiting | {cid} if event.order.status is OrderStatus.NEW else row.waiting - {cid}
            changed[name] = replace(row, waiting=frozenset(waiting))
        self._update(changed)

    def on_reports(self, events: list[OrderReported]) -> None:
        changed: dict[str, NinjaTraderRow] = {}
        for event in events:
            row = changed.get(event.destination) or self._row(event.destination)
            if row is None or event.status is OrderStatus.NEW:
                continue
            row = replace(row, waiting=row.waiting - {event.client_order_id})
            if event.status is OrderStatus.SUBMITTED and self._first_sending(event.client_order_id):
                row = replace(row, sent=row.sent + 1, last_delivery=event.at)
            changed[event.destination] = row
        self._update(changed)

    def _first_sending(self, client_order_id: str) -> bool:
        """True the first time an order is said sent (the dispatcher and the port both say it; a line written
        again after a reconnect is said again)."""
        if client_order_id in self._sent_ids:
            return False
        self._sent_ids[client_order_id] = None
        if len(self._sent_ids) > SENT_MEMORY:
            self._sent_ids.popitem(last=False)
        return True

    # ---- the add-on's install -------------------------------------------------------------

    def _install_button(self) -> QToolButton:
        button = QToolButton()
        button.setText("Install add-on…")
        button.setToolTip("The NinjaTrader 8 add-on that receives this Station's port lines and answers with "
                          "order states, fills and positions")
        button.setPopupMode(QToolButton.InstantPopup)
        menu = QMenu(button)
        self.copy_action = menu.addAction(
            "Copy into NinjaTrader 8 (Documents › NinjaTrader 8 › bin › Custom › AddOns)")
        self.copy_action.triggered.connect(lambda: self.start_install(self.install_into_ninjatrader))
        self.zip_action = menu.addAction("Write an NT8 import .zip…")
        self.zip_action.triggered.connect(self._ask_archive_path)
        button.setMenu(menu)
        return button

    def _ask_archive_path(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Write the NinjaTrader 8 import archive",
                                              str(Path.home() / "StationReceiver.zip"), "NinjaScript archive (*.zip)")
        if path:
            self.start_install(lambda: self.write_archive(Path(path)))

    def start_install(self, job) -> None:
        """Run an install off the event loop; its outcome, or why it failed, shows in the note."""
        self.install_button.setEnabled(False)
        self.installing = asyncio.ensure_future(job())

    async def install_into_ninjatrader(self) -> None:
        """Copy the add-on into NinjaTrader's AddOns folder and say the steps left."""
        await self._install(lambda: ninjatrader_addon.install(self.addons_dir),
                            "Station Receiver copied into {where}.")

    async def write_archive(self, path: Path) -> None:
        """Write the add-on's import archive and say the steps left."""
        await self._install(lambda: ninjatrader_addon.write_archive(path), "Station Receiver written to {where}.")

    async def _install(self, work, headline: str) -> None:
        try:
            done = await asyncio.to_thread(work)
        except OSError as exc:
            log.warning("installing the NinjaTrader add-on failed: %s", exc)
            self._show_note(f"<b>The add-on was not installed</b>: {_html(str(exc))}", theme.RED)
        else:
            log.info("NinjaTrader add-on: %s (%d files)", done.where, len(done.files))
            steps = "".join(f"<li>{_html(step)}</li>" for step in done.steps)
            removed = f" Older files removed: {', '.join(done.removed)}." if done.removed else ""
            self._show_note(f"<b>{_html(headline.format(where=done.where))}</b> {len(done.files)} files.{removed}"
                            f"<br>Left to do in NinjaTrader:<ol style='margin: 2px 0 0 -20px'>{steps}</ol>",
                            theme.GREEN)
        finally:
            self.install_button.setEnabled(True)

    def _show_note(self, html: str, color: str) -> None:
        self.install_note.setText(html)
        self.install_note.setStyleSheet(f"padding: 4px; border: 1px solid {color}; border-radius: 3px;")
        self.install_note.show()

    def _refresh_summary(self) -> None:
        rows = list(self.rows.values())
        if not rows:
            self.summary.setText("No NinjaTrader ports or ATI accounts configured yet: list ports under a "
                                 "strategy's ticker (File › Import config).")
            return
        up = sum(1 for r in rows if r.state is ConnectionState.CONNECTED)
        waiting = sum(len(r.waiting) for r in rows)
        last = max((r.last_delivery for r in rows if r.last_delivery), default=None)
        parts = [f"{up} of {len(rows)} connected", f"{waiting} line{'s' if waiting != 1 else ''} waiting"]
        if last:
            parts.append(f"last delivery {to_eastern(last):%H:%M:%S} ET")
        self.summary.setText(" · ".join(parts))


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
