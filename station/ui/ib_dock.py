"""The Interactive Brokers dock: each IB link's state, the account's positions and PnL, the contract table."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from station.domain.commands import ResolveContract
from station.domain.contract_map import ContractMapping
from station.domain.enums import ConnectionState
from station.domain.events import ConfigChanged, ConnectionChanged, ContractResolved, PortfolioReported
from station.domain.timeutil import EASTERN, utc_now
from station.ui import theme
from station.ui.context import DockContext
from station.ui.ib_contract_dialog import TYPE_NAMES, ContractDialog
from station.ui.status_bar import LIGHT_COLORS
from station.ui.table_model import ALIGN_RIGHT, Column, RecordTableModel, make_table
from station.ui.slots import connect, run_task

log = logging.getLogger("station.ui")


@dataclass(frozen=True)
class LinkRow:
    """One IB destination as configured, and what its link last said."""

    name: str
    address: str
    client_id: int
    account: str
    state: ConnectionState = ConnectionState.DISCONNECTED
    detail: str = "not started"
    since: datetime = field(default_factory=utc_now)


def _money(value) -> str:
    return "" if value is None else f"{value:,.2f}"


def _qty(value) -> str:
    return f"{value.normalize():f}"


def _pnl_color(value) -> str | None:
    return None if not value else (theme.GREEN if value > 0 else theme.RED)


LINK_COLUMNS = [
    Column("Destination", lambda r: r.name, width=90),
    Column("State", lambda r: f"● {r.state}", color=lambda r: LIGHT_COLORS.get(r.state), width=110),
    Column("TWS", lambda r: r.address, width=110),
    Column("Client", lambda r: r.client_id, align=ALIGN_RIGHT, width=52),
    Column("Account", lambda r: r.account, width=90),
    Column("Since (ET)", lambda r: r.since.astimezone(EASTERN).strftime("%H:%M:%S"), width=76),
    Column("Detail", lambda r: r.detail, tooltip=lambda r: r.detail, color=lambda r: theme.MUTED),
]
PORTFOLIO_COLUMNS = [
    Column("Destination", lambda r: r.destination, width=90),
    Column("Ticker", lambda r: r.ticker, width=120, tooltip=lambda r: r.ticker),
    Column("Qty", lambda r: _qty(r.qty), align=ALIGN_RIGHT, width=52),
    Column("Avg price", lambda r: _money(r.avg_price), align=ALIGN_RIGHT, width=80),
    Column("Last", lambda r: _money(r.market_price), align=ALIGN_RIGHT, width=80),
    Column("Unrealized", lambda r: _money(r.unrealized_pnl), align=ALIGN_RIGHT, width=84,
           color=lambda r: _pnl_color(r.unrealized_pnl)),
    Column("Realized", lambda r: _money(r.realized_pnl), align=ALIGN_RIGHT, width=84,
           color=lambda r: _pnl_color(r.realized_pnl)),
    Column("Account", lambda r: r.account, color=lambda r: theme.MUTED),
]
CONTRACT_COLUMNS = [
    Column("TradingView symbol", lambda m: m.tv_symbol, width=150),
    Column("Type", lambda m: TYPE_NAMES[m.sec_type], width=65),
    Column("IB symbol", lambda m: m.symbol, width=80),
    Column("Exchange", lambda m: m.exchange + (f" / {m.primary_exchange}" if m.primary_exchange else ""), width=110),
    Column("Contract chosen", lambda m: m.rule(), width=300, tooltip=lambda m: m.rule()),
    Column("Note", lambda m: m.note, tooltip=lambda m: m.note, color=lambda m: theme.MUTED),
]


class IbDock(QWidget):
    """Tabs: Connection (one row per IB destination), Account (IB's positions and PnL), Contracts (the table)."""

    def __init__(self, context: DockContext) -> None:
        super().__init__()
        self.context = context
        self.bridge = context.bridge
        self.links = RecordTableModel(LINK_COLUMNS, key=lambda r: r.name, newest_first=False)
        self.portfolio = RecordTableModel(PORTFOLIO_COLUMNS, key=lambda r: (r.destination, r.ticker),
                                          newest_first=False)
        self.contracts = RecordTableModel(CONTRACT_COLUMNS, key=lambda m: m.tv_symbol, newest_first=False)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._links_tab(), "Connection")
        self.tabs.addTab(make_table(self.portfolio, PORTFOLIO_COLUMNS,
                                    empty="IB's own positions and PnL show here once an IB destination is connected."),
                         "Account")
        self.tabs.addTab(self._contracts_tab(), "Contracts")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.tabs)
        self.bridge.on(ConnectionChanged, self.on_links)
        self.bridge.on(PortfolioReported, self.portfolio.upsert)
        self.bridge.on(ContractResolved, self.on_resolved)
        self.bridge.on(ConfigChanged, lambda _events: self.reload())
        self.reload()
        self.on_links(context.queries.connections.latest_connections())

    # ---- building -------------------------------------------------------------------------------

    def _links_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(0, 4, 0, 0)
        self.hint = QLabel("No IB destination yet: Strategies › New destination… (type <b>ib</b>: TWS or IB Gateway's "
                           "host, port 7497 and a client id), or import a config that names one.")
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet(f"color: {theme.MUTED}")
        layout.addWidget(self.hint)
        layout.addWidget(make_table(self.links, LINK_COLUMNS))
        return tab

    def _contracts_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(0, 4, 0, 0)
        buttons = QHBoxLayout()
        for text, slot in (("Add…", self.add), ("Edit…", self.edit), ("Delete", self.delete_selected)):
            button = QPushButton(text)
            connect(button.clicked, slot)
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.lookup_symbol = QLineEdit()
        self.lookup_symbol.setPlaceholderText("symbol to look up at IB")
        self.lookup_destination = QComboBox()
        self.lookup_button = QPushButton("Look up at IB")
        connect(self.lookup_button.clicked, self.look_up)
        buttons.addWidget(self.lookup_symbol, 1)
        buttons.addWidget(self.lookup_destination)
        buttons.addWidget(self.lookup_button)
        layout.addLayout(buttons)
        self.contract_table = make_table(self.contracts, CONTRACT_COLUMNS,
                                         empty="No rows: symbols resolve by the built-in rules. Add… pins a "
                                               "TradingView symbol to an IB contract; Look up at IB shows what it means.")
        self.contract_table.doubleClicked.connect(lambda _index: self.edit())
        self.contract_table.selectionModel().currentRowChanged.connect(self._selected_changed)
        layout.addWidget(self.contract_table)
        self.lookup_result = QLabel("")
        self.lookup_result.setWordWrap(True)
        self.lookup_result.setTextInteractionFlags(Qt.TextSelectableByMouse)
        layout.addWidget(self.lookup_result)
        return tab

    # ---- data -------------------------------------------------------------------------------------

    def ib_destinations(self) -> list:
        return [d for d in self.context.queries.config.load().destinations if d.type == "ib"]

    def reload(self) -> None:
        """Re-read the contract table and the IB destinations (after any config change)."""
        self.contracts.clear()
        self.contracts.upsert(self.context.queries.ib_contracts.all())
        destinations = self.ib_destinations()
        known = {r.name: r for r in self.links.records()}
        rows = []
        for d in destinations:
            p = d.params
            row = LinkRow(d.name, f"{p.get('host', '127.0.0.1')}:{p.get('port', 7497)}", p.get("client_id", 1),
                          p.get("account") or "")
            old = known.get(d.name)
            rows.append(replace(row, state=old.state, detail=old.detail, since=old.since) if old else row)
        self.links.clear()
        self.links.upsert(rows)
        self.hint.setVisible(not destinations)
        current = self.lookup_destination.currentText()
        self.lookup_destination.clear()
        self.lookup_destination.addItems([d.name for d in destinations])
        if current:
            self.lookup_destination.setCurrentText(current)
        self.lookup_button.setEnabled(bool(destinations))

    def on_links(self, events: list[ConnectionChanged]) -> None:
        rows = {r.name: r for r in self.links.records()}
        changed = [replace(rows[e.name], state=e.state, detail=e.detail or str(e.state), since=utc_now())
                   for e in events if e.kind == "broker" and e.name in rows]
        self.links.upsert(changed)

    def on_resolved(self, events: list[ContractResolved]) -> None:
        last = events[-1]
        if last.error:
            self.lookup_result.setStyleSheet(f"color: {theme.RED}")
            self.lookup_result.setText(f"{last.destination}: {last.symbol} — {last.error}")
        else:
            self.lookup_result.setStyleSheet(f"color: {theme.TEXT}")
            self.lookup_result.setText(f"{last.destination}: {last.symbol} → {last.description}")

    # ---- actions ------------------------------------------------------------------------------------

    def selected(self) -> ContractMapping | None:
        index = self.contract_table.currentIndex()
        return self.contracts.record(index.row()) if index.isValid() else None

    def _selected_changed(self, current, _previous) -> None:
        if current.isValid():
            self.lookup_symbol.setText(self.contracts.record(current.row()).tv_symbol)

    def add(self) -> ContractDialog:
        dialog = ContractDialog(self, self._save)
        dialog.open()
        return dialog

    def edit(self) -> ContractDialog | None:
        mapping = self.selected()
        if mapping is None:
            return None
        dialog = ContractDialog(self, self._save, mapping)
        dialog.open()
        return dialog

    def _save(self, mapping: ContractMapping, replacing: str | None) -> None:
        run_task(self.save(mapping, replacing))

    async def save(self, mapping: ContractMapping, replacing: str | None = None) -> None:
        """Store a row (the running brokers pick it up through the config revision) and show it."""
        await self.context.edits.save_ib_contract(mapping, replacing)
        log.info("IB contract %s saved: %s %s, %s", mapping.tv_symbol, mapping.sec_type, mapping.symbol, mapping.rule())
        self.reload()

    def delete_selected(self) -> None:
        mapping = self.selected()
        if mapping is None:
            return
        answer = QMessageBox.question(self, "Delete IB contract",
                                      f"Delete the row for {mapping.tv_symbol}? It will be read by the built-in rules.")
        if answer == QMessageBox.Yes:
            run_task(self.delete(mapping.tv_symbol))

    async def delete(self, tv_symbol: str) -> None:
        await self.context.edits.delete_ib_contract(tv_symbol)
        self.reload()

    def look_up(self) -> None:
        """Ask the chosen IB destination which contract the symbol means today."""
        symbol = self.lookup_symbol.text().strip()
        destination = self.lookup_destination.currentText()
        if not symbol or not destination:
            return
        self.lookup_result.setStyleSheet(f"color: {theme.MUTED}")
        self.lookup_result.setText(f"Looking up {symbol} at {destination}…")
        self.bridge.publish(ResolveContract(destination, symbol))
