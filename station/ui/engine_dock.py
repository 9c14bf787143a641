"""The Engine dock: every engine strategy's state (stopped, warming up, running, halted and why),
its position and last signal; Start/Stop (one or all), Edit…, and the 0DTE Call/Put/Close buttons."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from station.domain.commands import BuyZeroDte, CloseZeroDte, StartStrategy, StopStrategy
from station.domain.enums import OptionRight
from station.domain.events import StrategySignalled, StrategyStateChanged
from station.domain.timeutil import to_eastern
from station.ui import theme
from station.ui.context import DockContext
from station.ui.table_model import Column, RecordTableModel, make_table
from station.ui.slots import connect

STATE_COLORS = {"running": theme.GREEN, "warming_up": theme.AMBER, "halted": theme.RED, "stopped": theme.GREY}
KIND_NAMES = {"crossover": "Crossover", "supertrend": "Supertrend", "zero_dte": "0DTE", "pairs": "Pairs"}


@dataclass
class StrategyRow:
    """What one row shows; updated in place from events."""

    name: str
    kind: str = ""
    tickers: str = ""
    timeframe: str = ""
    trade_enabled: bool = True
    state: str = "stopped"
    reason: str = ""
    positions: dict[str, str] = field(default_factory=dict)
    last_signal: str = ""


def _last(event: StrategySignalled) -> str:
    traded = "" if event.traded else f" (not sent: {event.note})"
    return f"{to_eastern(event.at):%H:%M:%S} {event.action} {event.qty} {event.ticker} — {event.reason}{traded}"


COLUMNS = [
    Column("Strategy", lambda r: r.name, width=110),
    Column("Kind", lambda r: KIND_NAMES.get(r.kind, r.kind), width=76, color=lambda r: theme.MUTED),
    Column("Tickers", lambda r: r.tickers, width=100, tooltip=lambda r: r.tickers),
    Column("TF", lambda r: r.timeframe, width=40),
    Column("State", lambda r: r.state.replace("_", " "), color=lambda r: STATE_COLORS.get(r.state), width=84,
           tooltip=lambda r: r.reason or None),
    Column("Trading", lambda r: "on" if r.trade_enabled else "signals only", width=84,
           color=lambda r: None if r.trade_enabled else theme.AMBER),
    Column("Position", lambda r: ", ".join(f"{t} {p}" for t, p in r.positions.items()), width=100,
           tooltip=lambda r: ", ".join(f"{t} {p}" for t, p in r.positions.items()) or None),
    Column("Why / last signal", lambda r: r.reason or r.last_signal, tooltip=lambda r: r.last_signal or None,
           color=lambda r: theme.RED if r.state == "halted" else None),
]


class EngineDock(QWidget):
    """Strategy states and controls; talks to the engine only through the bridge (and reads its snapshot)."""

    def __init__(self, context: DockContext) -> None:
        super().__init__()
        self.context = context
        self.bridge = context.bridge
        self.engine = context.queries.engine
        self.rows: dict[str, StrategyRow] = {}
        self.model = RecordTableModel(COLUMNS, key=lambda r: r.name, newest_first=False, cap=500)
        self.table = make_table(self.model, COLUMNS, empty="No engine strategies yet. New… adds a crossover, "
                                                           "Supertrend, pairs or 0DTE strategy on live bars.")
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())

        self.start_button = self._button("Start", self._start, "Warm up and run the selected strategy")
        self.stop_button = self._button("Stop", self._stop, "Stop the selected strategy (its state is kept)")
        self.start_all = self._button("Start all", lambda: self.bridge.publish(StartStrategy("*")), "Start every strategy")
        self.stop_all = self._button("Stop all", lambda: self.bridge.publish(StopStrategy("*")), "Stop every strategy")
        self.edit_button = self._button("Edit…", self._edit, "Change the selected strategy's parameters")
        self.new_button = self._button("New…", lambda: self._open_editor(None), "Add an engine strategy")
        self.call_button = self._button("Call", lambda: self._zero_dte(OptionRight.CALL), "Buy today's ATM call")
        self.put_button = self._button("Put", lambda: self._zero_dte(OptionRight.PUT), "Buy today's ATM put")
        self.close_button = self._button("Close", lambda: self._zero_dte(None), "Sell the option held")
        self.call_button.setStyleSheet(f"color: {theme.GREEN};")
        self.put_button.setStyleSheet(f"color: {theme.RED};")
        self.zero_label = QLabel("0DTE:")
        self.zero_label.setStyleSheet(f"color: {theme.MUTED};")

        buttons = QHBoxLayout()
        buttons.setSpacing(2)
        for widget in (self.start_button, self.stop_button, self.start_all, self.stop_all, self.new_button,
                       self.edit_button):
            buttons.addWidget(widget)
        buttons.addStretch(1)
        for widget in (self.zero_label, self.call_button, self.put_button, self.close_button):
            buttons.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(buttons)
        layout.addWidget(self.table)

        self.bridge.on(StrategyStateChanged, self.on_states)
        self.bridge.on(StrategySignalled, self.on_signals)
        for snapshot in self.engine.snapshot():
            self._apply_snapshot(snapshot)
        self._update_buttons()

    def _button(self, text: str, slot, tip: str) -> QToolButton:
        button = QToolButton()  # compact: the row fits a narrow dock
        button.setText(text)
        button.setToolTip(tip)
        connect(button.clicked, slot)
        return button

    # ---- events ----------------------------------------------------------------------------------

    def _apply_snapshot(self, snapshot: dict[str, Any]) -> None:
        row = self.rows.setdefault(snapshot["name"], StrategyRow(snapshot["name"]))
        row.kind, row.timeframe = snapshot["kind"], snapshot.get("timeframe") or ""
        row.tickers, row.trade_enabled = ", ".join(snapshot["tickers"]), snapshot["trade_enabled"]
        row.state, row.reason = snapshot["state"], snapshot["reason"]
        row.positions = {t: d.get("position", "flat") for t, d in snapshot["instances"].items()}
        self.model.upsert([row])

    def on_states(self, events: list[StrategyStateChanged]) -> None:
        names = {event.name for event in events}
        for snapshot in self.engine.snapshot():
            if snapshot["name"] in names:  # kind, tickers, positions as the engine has them now
                self._apply_snapshot(snapshot)
        touched = []
        for event in events:
            row = self.rows.setdefault(event.name, StrategyRow(event.name, kind=event.kind))
            row.state, row.reason = event.state, event.reason
            touched.append(row)
        self.model.upsert(touched)
        self._update_buttons()

    def on_signals(self, events: list[StrategySignalled]) -> None:
        touched = []
        for event in events:
            row = self.rows.setdefault(event.strategy, StrategyRow(event.strategy))
            row.last_signal = _last(event)
            if event.traded:
                row.positions[event.ticker] = event.target_position
            touched.append(row)
        self.model.upsert(touched)

    # ---- buttons ---------------------------------------------------------------------------------

    def selected(self) -> StrategyRow | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.record(rows[0].row()) if rows else None

    def select(self, name: str) -> None:
        for index, record in enumerate(self.model.records()):
            if record.name == name:
                self.table.selectRow(index)

    def _update_buttons(self) -> None:
        row = self.selected()
        for button in (self.start_button, self.stop_button, self.edit_button):
            button.setEnabled(row is not None)
        is_zero = row is not None and row.kind == "zero_dte"
        for widget in (self.zero_label, self.call_button, self.put_button, self.close_button):
            widget.setEnabled(is_zero)

    def _start(self) -> None:
        if row := self.selected():
            self.bridge.publish(StartStrategy(row.name))

    def _stop(self) -> None:
        if row := self.selected():
            self.bridge.publish(StopStrategy(row.name))

    def _zero_dte(self, right: OptionRight | None) -> None:
        row = self.selected()
        if row is None or row.kind != "zero_dte":
            return
        click = uuid.uuid4().hex[:12]
        self.bridge.publish(BuyZeroDte(click, row.name, right) if right else CloseZeroDte(click, row.name))

    def _edit(self) -> None:
        if row := self.selected():
            self._open_editor(row.name)

    def _open_editor(self, name: str | None) -> None:
        from station.ui.engine_editor import EngineEditor

        editor = EngineEditor(self.context, name, parent=self)
        editor.setAttribute(Qt.WA_DeleteOnClose)
        editor.open()
