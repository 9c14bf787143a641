"""The Strategies dock: strategy → ticker → destinations (ports and named destinations), edited in place.

Every edit is checked at once (shown in red on the item, with the reason) and
saved through the config editor only when valid; each save bumps the config
revision and is announced (ConfigChanged), so the router, the REST API and other windows see it live.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QLabel,
    QMenu,
    QSizePolicy,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from shiboken6 import isValid

from station.domain.events import ConfigChanged
from station.domain.validation import ConfigError
from station.ui import theme
from station.ui.confirm import ask_text, confirm
from station.ui.context import DockContext
from station.ui.slots import connect, run_task
from station.ui.strategy_checks import destination_problem, parse_port, parse_size, port_problems, size_text

log = logging.getLogger("station.ui")

KIND = Qt.UserRole
PREVIOUS = Qt.UserRole + 1
COLUMNS = ["Strategy › ticker", "Size", "Instrument", "Check"]  # destinations sit under their ticker


class StrategiesDock(QWidget):
    """Tree of strategies with their tickers, ports and destinations; add, remove, rename, enable in place."""

    def __init__(self, context: DockContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context, self.config, self.edits, self.settings = context, context.queries.config, context.edits, context.settings
        self.saving: asyncio.Future | None = None
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setEditTriggers(QAbstractItemView.DoubleClicked | QAbstractItemView.EditKeyPressed)
        self.tree.setColumnWidth(0, 170)
        self.tree.setColumnWidth(1, 56)
        self.tree.setColumnWidth(2, 90)
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        self.tree.itemChanged.connect(self._edited)
        self.message = QLabel()
        self.message.setWordWrap(True)
        bar = QGridLayout()  # two rows of three: every button stays visible in a narrow column
        bar.setSpacing(2)
        self.buttons: dict[str, QToolButton] = {}
        for index, (key, text, slot, tip) in enumerate((
                ("strategy", "+ Strategy", self.add_strategy, "Add a strategy"),
                ("ticker", "+ Ticker", self.add_ticker, "Add a ticker to the selected strategy"),
                ("port", "+ Port", self.add_port, "Add a NinjaTrader TCP port to the selected ticker"),
                ("route", "+ Destination", None, "Route the selected ticker to a named destination"),
                ("named", "New destination…", self.new_destination, "Name a paper, NinjaTrader ATI, IB, … destination"),
                ("remove", "Remove", self.remove_selected, "Remove the selected item"))):
            button = QToolButton()
            button.setText(text)
            button.setToolTip(tip)
            button.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
            if slot:
                connect(button.clicked, slot)
            bar.addWidget(button, index // 3, index % 3)
            self.buttons[key] = button
        self.route_menu = QMenu(self)
        self.route_menu.aboutToShow.connect(self._fill_route_menu)
        self.buttons["route"].setMenu(self.route_menu)
        self.buttons["route"].setPopupMode(QToolButton.InstantPopup)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.tree)
        layout.addWidget(self.message)
        self.reload()
        context.bridge.on(ConfigChanged, lambda batch: self.reload())

    # ---- building the tree ------------------------------------------------------------------------

    def reload(self) -> None:
        """Rebuild from the stored config (unless an invalid edit is waiting to be fixed)."""
        if self.invalid_items():
            return
        self.snapshot = self.config.load()
        expanded = {self._path(i) for i in self._all_items() if i.isExpanded()}
        self.tree.blockSignals(True)
        self.tree.clear()
        for strategy in self.snapshot.strategies:
            top = self._item(self.tree, ("strategy", strategy.name), strategy.name, check=strategy.enabled)
            for entry in strategy.tickers:
                ticker = self._item(top, ("ticker", strategy.name, entry.ticker), entry.ticker, check=entry.enabled)
                problems = port_problems(self.snapshot, strategy.name, entry.ticker, list(entry.ports))
                for port in entry.ports:
                    item = self._item(ticker, ("port", strategy.name, entry.ticker, port), str(port))
                    item.setText(2, "NT port")
                    item.setToolTip(2, "NinjaTrader TCP port (JSON lines)")
                    self._mark(item, problems.get(port), warning=True)
                for route in entry.destinations:
                    spec = {"qty": route.qty} if route.qty is not None else (
                        {"multiplier": route.multiplier} if route.multiplier is not None else {})
                    item = self._item(ticker, ("route", strategy.name, entry.ticker, route.destination),
                                      route.destination, size=size_text(spec), instrument=route.instrument or "")
                    dest = self.snapshot.destination(route.destination)
                    self._mark(item, destination_problem(dest) if dest else None, warning=True)
        if self.snapshot.destinations:
            root = self._item(self.tree, ("destinations",), "Named destinations", editable=False)
            for dest in self.snapshot.destinations:
                item = self._item(root, ("destination", dest.name), dest.name, editable=False)
                item.setText(2, dest.type)
                self._mark(item, destination_problem(dest), warning=True)
        for item in self._all_items():
            item.setExpanded(self._path(item) in expanded or not expanded)
        self.tree.blockSignals(False)

    def _item(self, parent, kind: tuple, text: str, *, check: bool | None = None, size: str | None = None,
              instrument: str | None = None, editable: bool = True) -> QTreeWidgetItem:
        item = QTreeWidgetItem(parent)
        item.setText(0, text)
        item.setData(0, KIND, kind)
        flags = item.flags() | Qt.ItemIsEditable if editable else item.flags() & ~Qt.ItemIsEditable
        if check is not None:
            flags |= Qt.ItemIsUserCheckable
            item.setCheckState(0, Qt.Checked if check else Qt.Unchecked)
        item.setFlags(flags)
        if size is not None:
            item.setText(1, size)
        if instrument is not None:
            item.setText(2, instrument)
        item.setData(0, PREVIOUS, (text, check, size, instrument))
        return item

    def _mark(self, item: QTreeWidgetItem, problem: str | None, *, warning: bool = False) -> None:
        """Show a problem on the item: red for errors (not saved), amber for warnings."""
        is_warning = warning or (problem or "").startswith("warning")
        color = QColor(theme.AMBER if is_warning else theme.RED) if problem else None
        item.setData(0, Qt.UserRole + 2, None if (not problem or is_warning) else problem)
        for column in range(len(COLUMNS)):
            item.setForeground(column, QBrush(color) if color else QBrush())
            item.setToolTip(column, problem or "")
        item.setText(3, problem or "")
        if problem and not is_warning:
            self._say(problem, theme.RED)

    def invalid_items(self) -> list[QTreeWidgetItem]:
        return [i for i in self._all_items() if i.data(0, Qt.UserRole + 2)]

    def _clear_invalid(self, items: list[QTreeWidgetItem]) -> None:
        self.tree.blockSignals(True)  # marks are not edits
        for item in items:
            if isValid(item):  # a reload while the save was on its way rebuilt the tree
                item.setData(0, Qt.UserRole + 2, None)
        self.tree.blockSignals(False)

    def _all_items(self) -> list[QTreeWidgetItem]:
        out, stack = [], [self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())]
        while stack:
            item = stack.pop()
            out.append(item)
            stack.extend(item.child(i) for i in range(item.childCount()))
        return out

    @staticmethod
    def _path(item: QTreeWidgetItem) -> tuple:
        return tuple(item.data(0, KIND) or ())

    def _say(self, text: str, color: str = theme.MUTED) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {color}")

    # ---- edits --------------------------------------------------------------------------------------

    def _doc(self, strategy: str) -> dict[str, Any]:
        doc = self.config.strategy_document(strategy)
        if doc is None:
            raise KeyError(strategy)
        return doc

    def _edited(self, item: QTreeWidgetItem, column: int) -> None:
        kind = item.data(0, KIND)
        text, checked, size, instrument = item.data(0, PREVIOUS)
        now_checked = item.checkState(0) == Qt.Checked if checked is not None else None
        try:
            if kind[0] == "strategy":
                self._edit_strategy(kind[1], item.text(0).strip(), now_checked, checked)
            elif kind[0] == "ticker":
                doc = self._doc(kind[1])
                spec = doc["tickers"].pop(kind[2])
                spec["enabled"] = bool(now_checked)
                doc["tickers"][item.text(0).strip()] = spec
                self._save(kind[1], doc, item)
            elif kind[0] == "port":
                self._edit_port(item, kind)
            elif kind[0] == "route":
                doc = self._doc(kind[1])
                route = parse_size(item.text(1))
                if item.text(2).strip():
                    route["instrument"] = item.text(2).strip()
                doc["tickers"][kind[2]]["destinations"][kind[3]] = route
                self._save(kind[1], doc, item)
        except ValueError as exc:
            self.tree.blockSignals(True)
            self._mark(item, str(exc))
            self.tree.blockSignals(False)

    def _edit_strategy(self, name: str, new_name: str, checked: bool | None, before: bool | None) -> None:
        if checked != before:
            self._run(self.edits.set_strategy_enabled(name, bool(checked)), f"{name} {'started' if checked else 'stopped'}")
        elif new_name != name:
            if not new_name:
                raise ValueError("a strategy needs a name")
            if self.config.strategy_document(new_name) is not None:
                raise ValueError(f"a strategy named {new_name!r} exists")
            self._run(self.edits.rename_strategy(name, new_name), f"renamed {name} to {new_name}")

    def _edit_port(self, item: QTreeWidgetItem, kind: tuple) -> None:
        port = parse_port(item.text(0))
        doc = self._doc(kind[1])
        ports = [p for p in doc["tickers"][kind[2]]["ports"] if p != kind[3]]
        if port in ports:
            raise ValueError(f"port {port} is listed twice")
        doc["tickers"][kind[2]]["ports"] = ports + [port]
        self._save(kind[1], doc, item)

    def _save(self, strategy: str, doc: dict, item: QTreeWidgetItem | None = None) -> None:
        async def save() -> None:
            try:
                await self.edits.save_strategy(strategy, doc)
            except ConfigError as exc:
                if item is not None and isValid(item):
                    self.tree.blockSignals(True)
                    self._mark(item, "; ".join(exc.errors.values()))
                    self.tree.blockSignals(False)
                else:
                    self._say(str(exc), theme.RED)
                return
            self._clear_invalid([item] if item is not None else [])
            self._say(f"{strategy} saved", theme.GREEN)
            self.reload()

        self.saving = run_task(save())

    def _run(self, coro, done: str) -> None:
        async def run() -> None:
            try:
                await coro
            except (ConfigError, KeyError) as exc:
                self._say(str(exc), theme.RED)
                return
            self._say(done, theme.GREEN)
            self.reload()

        self.saving = run_task(run())

    # ---- toolbar ------------------------------------------------------------------------------------

    def _selected(self) -> tuple:
        item = self.tree.currentItem()
        return tuple(item.data(0, KIND) or ()) if item else ()

    def add_strategy(self, name: str | None = None) -> None:
        """Add an empty strategy, named by the trader (asked when not given)."""
        names = {s.name for s in self.snapshot.strategies}
        suggested = next(f"Strategy {n}" for n in range(1, 1000) if f"Strategy {n}" not in names)
        name = name or ask_text(self, "New strategy", "Name of the new strategy (alerts name it in "
                                "/webhook/<name> or their \"strategy\" field):", suggested)
        if name is None:
            return
        if name in names:
            self._say(f"A strategy named {name!r} exists.", theme.RED)
            return
        self._save(name, {"tickers": {}})

    def add_ticker(self, symbol: str | None = None) -> None:
        """Add a ticker to the selected strategy, as the trader names it (asked when not given)."""
        kind = self._selected()
        if not kind or kind[0] in ("destinations", "destination"):
            self._say("Select a strategy to add a ticker to.", theme.AMBER)
            return
        doc = self._doc(kind[1])
        symbol = symbol or ask_text(self, "New ticker", f"Ticker for {kind[1]}, as its alerts send it "
                                    "(ES, NASDAQ:AAPL, ES1!):")
        if symbol is None:
            return
        if symbol in doc["tickers"]:
            self._say(f"{kind[1]} lists {symbol} already.", theme.AMBER)
            return
        doc["tickers"][symbol] = {"ports": [], "destinations": {}}
        self._save(kind[1], doc)

    def add_port(self, port: int | None = None) -> None:
        kind = self._selected()
        if len(kind) < 3:
            self._say("Select a ticker to add a NinjaTrader port to.", theme.AMBER)
            return
        doc = self._doc(kind[1])
        ports = doc["tickers"][kind[2]]["ports"]
        used = {p for s in self.snapshot.strategies for t in s.tickers for p in t.ports}
        port = port or next(p for p in range(5000, 65536) if p not in used and p not in ports)
        doc["tickers"][kind[2]]["ports"] = ports + [port]
        self._save(kind[1], doc)

    def new_destination(self):
        """Open the named-destination dialog (paper, NinjaTrader ATI account, IB, …)."""
        from station.ui.destination_dialog import DestinationDialog

        self._destination_dialog = DestinationDialog(self.context, self)
        self._destination_dialog.dialog.open()
        return self._destination_dialog

    def _fill_route_menu(self) -> None:
        self.route_menu.clear()
        kind = self._selected()
        if len(kind) < 3:
            self.route_menu.addAction("Select a ticker first").setEnabled(False)
            return
        for dest in self.snapshot.destinations:
            connect(self.route_menu.addAction(dest.name).triggered, self.add_route, dest.name)
        if not self.snapshot.destinations:
            self.route_menu.addAction("No named destinations (import or add one)").setEnabled(False)

    def add_route(self, destination: str) -> None:
        kind = self._selected()
        doc = self._doc(kind[1])
        doc["tickers"][kind[2]]["destinations"].setdefault(destination, {})
        self._save(kind[1], doc)

    def remove_selected(self) -> None:
        """Remove the selected strategy, ticker, port, route or named destination, once the trader confirms."""
        kind = self._selected()
        if not kind or kind[0] == "destinations":
            return
        if not confirm(self, self.settings, "remove", _removal_question(kind)):
            return
        if kind[0] == "strategy":
            self._run(self.edits.delete_strategy(kind[1]), f"{kind[1]} removed")
        elif kind[0] == "destination":
            self._run(self.edits.delete_destination(kind[1]), f"destination {kind[1]} removed")
        elif kind[0] in ("ticker", "port", "route"):
            doc = self._doc(kind[1])
            ticker = doc["tickers"][kind[2]]
            if kind[0] == "ticker":
                del doc["tickers"][kind[2]]
            elif kind[0] == "port":
                ticker["ports"] = [p for p in ticker["ports"] if p != kind[3]]
            else:
                ticker["destinations"].pop(kind[3], None)
            self._clear_invalid(self.invalid_items())
            self._save(kind[1], doc)


def _removal_question(kind: tuple) -> str:
    what = {"strategy": lambda: f"strategy <b>{kind[1]}</b> with its tickers and their destinations",
            "destination": lambda: f"destination <b>{kind[1]}</b> (tickers routed to it lose that route)",
            "ticker": lambda: f"ticker <b>{kind[2]}</b> from {kind[1]}",
            "port": lambda: f"NinjaTrader port <b>{kind[3]}</b> from {kind[1]} › {kind[2]}",
            "route": lambda: f"destination <b>{kind[3]}</b> from {kind[1]} › {kind[2]}"}[kind[0]]()
    return f"Remove {what}?"
