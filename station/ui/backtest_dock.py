"""The Backtest dock: a strategy over history (or a sweep of its parameters) from the window.

The trader picks an engine strategy, the data (a DBN file, or one the History dialog cached from
Databento after its cost check), the period, parameters (a value each, or several to sweep) and
costs, and runs it: in a process of its own (`research/background.py`), with a progress bar and
Cancel. A run shows its summary, equity and drawdown curves and its trades (selecting one moves the
chart to it: `ShowTrade`); a sweep shows its rows, sortable, and a heat map over two parameters.
"Apply to strategy" writes the chosen parameters into the live strategy after a confirmation
that shows old and new values.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDateTime, QTimer, QTimeZone
from PySide6.QtWidgets import (
    QFileDialog,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from station.domain.commands import ShowTrade
from station.domain.events import ConfigChanged, HistoryEstimated, HistoryFinished, HistoryProgressed
from station.domain.timeutil import EASTERN
from station.research.contracts import contract_at, contracts_text
from station.ui import theme
from station.ui.backtest_form import BacktestForm, engine_keys, with_params
from station.ui.backtest_results import CurvesView, SummaryView, SweepView, TradesView
from station.ui.context import DockContext
from station.ui.slots import run_task

DBN_PATTERNS = ("*.dbn", "*.dbn.zst")
POLL_MS = 100


class BacktestDock(BacktestForm, QWidget):
    """Run form on top, results below (see the module docstring)."""

    def __init__(self, context: DockContext) -> None:
        super().__init__()
        self.context = context
        self.bridge = context.bridge
        self.job = None
        self.history_dialog = None
        self.last_params: dict[str, Any] = {}
        self._data = ""  # the file of the result shown
        self._contracts: dict[str, list[dict]] = {}  # the contracts it traded as its tickers
        self.sweep_keys: list[str] = []
        self._rows: dict[int, dict] = {}
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.poll)
        self._build()
        self.reload_strategies()
        self.bridge.on(ConfigChanged, lambda _: self.reload_strategies())
        for kind in (HistoryEstimated, HistoryProgressed, HistoryFinished):
            self.bridge.on(kind, self._on_history)

    # ---- the form ---------------------------------------------------------------------------------

    def _build(self) -> None:
        top = self._build_form()

        self.summary, self.curves, self.trades, self.sweep = SummaryView(), CurvesView(), TradesView(), SweepView()
        self.trades.picked.connect(self.show_trade)
        self.apply_button = QPushButton("Apply to strategy…")
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self.apply_to_strategy)
        sweep_page = QWidget()
        sweep_layout = QVBoxLayout(sweep_page)
        sweep_layout.setContentsMargins(0, 0, 0, 0)
        sweep_layout.addWidget(self.sweep, 1)
        sweep_layout.addWidget(self.apply_button)
        self.sweep.table.itemSelectionChanged.connect(
            lambda: self.apply_button.setEnabled(self.sweep.selected() is not None))
        self.tabs = QTabWidget()
        for widget, title in ((self.summary, "Summary"), (self.curves, "Equity"), (self.trades, "Trades"),
                              (sweep_page, "Sweep")):
            self.tabs.addTab(widget, title)
        splitter = QSplitter()
        splitter.setOrientation(splitter.orientation().Vertical)
        splitter.addWidget(top)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([300, 500])
        # in a scroll area: tabbed with the Log at the bottom, the dock must not claim the chart's height
        inner = QWidget()
        inner_layout = QVBoxLayout(inner)
        inner_layout.setContentsMargins(4, 4, 4, 4)
        inner_layout.addWidget(splitter)
        inner.setMinimumHeight(560)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.NoFrame)
        scroll.setWidget(inner)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)
        self._cached_files()

    def reload_strategies(self) -> None:
        config = self.context.queries.config.load()
        names = [s.name for s in config.strategies if s.options.get("engine")]
        current = self.strategy_box.currentText()
        self.strategy_box.blockSignals(True)
        self.strategy_box.clear()
        self.strategy_box.addItems(names)
        if current in names:
            self.strategy_box.setCurrentText(current)
        self.strategy_box.blockSignals(False)
        self._fill_params()

    def _engine(self) -> dict:
        document = self.context.queries.config.strategy_document(self.strategy_box.currentText()) or {}
        return document.get("engine") or {}

    def _fill_params(self) -> None:
        keys = engine_keys(self._engine())
        self.params.setRowCount(len(keys))
        for row, (key, value) in enumerate(keys.items()):
            name = QTableWidgetItem(key)
            name.setFlags(name.flags() & ~name.flags().ItemIsEditable)
            self.params.setItem(row, 0, name)
            self.params.setItem(row, 1, QTableWidgetItem(json.dumps(value) if not isinstance(value, str) else value))
            self.params.setItem(row, 2, QTableWidgetItem(""))
        self.params.resizeColumnsToContents()

    def _cached_files(self) -> None:
        folder = self.context.info.data_dir / "history"
        found = sorted({p for pattern in DBN_PATTERNS for p in folder.rglob(pattern)}) if folder.is_dir() else []
        for path in found:
            if self.data_box.findText(str(path)) < 0:
                self.data_box.addItem(str(path))

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Backtest on a DBN file", "",
                                              "DBN files (*.dbn *.dbn.zst *.zst);;All files (*)")
        if path:
            self.set_data(path)

    def set_data(self, path: str) -> None:
        """Choose a data file; the period fields take its span (the whole file stays ticked)."""
        if self.data_box.findText(path) < 0:
            self.data_box.addItem(path)
        self.data_box.setCurrentText(path)
        from station.marketdata.databento.files import DbnError, DbnFile

        try:
            metadata = DbnFile(path).metadata
        except DbnError as exc:
            self._say(str(exc), theme.RED)
            return
        zone = QTimeZone(b"America/New_York")
        end = int(metadata.end or 0)
        for edit, ns in ((self.start_edit, int(metadata.start)), (self.end_edit, end if 0 < end < 2**63 else None)):
            if ns:
                edit.setDateTime(QDateTime.fromSecsSinceEpoch(ns // 1_000_000_000, zone))

    def _history(self) -> None:
        """The History dialog (its cost check first): what it loads is cached and offered here."""
        from station.ui.chart.history_dialog import HistoryDialog

        document = self.context.queries.config.strategy_document(self.strategy_box.currentText()) or {}
        symbol = next(iter(document.get("tickers") or {"ES": {}}))
        if self.history_dialog is None or not self.history_dialog.dialog.isVisible():
            self.history_dialog = HistoryDialog(self.bridge, symbol, self, dataset="GLBX.MDP3",
                                                confirm_above_usd=float(self.context.queries.config.settings(
                                                    "marketdata").get("confirm_above_usd", 1.0)))
        self.history_dialog.show()

    def _on_history(self, events: list) -> None:
        if self.history_dialog is not None:
            for event in events:
                self.history_dialog.on_event(event)
        if any(isinstance(e, HistoryFinished) and e.ok for e in events):
            self._cached_files()

    # ---- running ------------------------------------------------------------------------------------

    def read_params(self) -> tuple[dict[str, Any], list[tuple[str, list[Any]]]]:
        """(the values changed from the strategy's, the sweeps) as the table holds them."""
        from station.research.params import parse_value

        current = engine_keys(self._engine())
        values, sweeps = {}, []
        for row in range(self.params.rowCount()):
            key = self.params.item(row, 0).text()
            value = parse_value(self.params.item(row, 1).text())
            if value != current.get(key):
                values[key] = value
            text = self.params.item(row, 2).text().strip()
            if text:
                sweeps.append((key, [parse_value(part) for part in text.split(",") if part.strip()]))
        return values, sweeps

    def spec(self):
        """The run the form describes; ValueError (ParamError) says what is wrong."""
        from station.research.config import backtest_document
        from station.research.params import apply
        from station.research.run import BacktestSpec
        from station.marketdata.trades import to_ns

        name = self.strategy_box.currentText()
        data = self.data_box.currentText().strip()
        if not name:
            raise ValueError("no engine strategy to backtest: add one in the Strategies dock")
        if not data or not Path(data).is_file():
            raise ValueError(f"no such data file: {data or '(none chosen)'}")
        document = backtest_document(self.context.queries.config, name)
        values, sweeps = self.read_params()
        apply(document["strategies"][name]["engine"], values)
        start, end = 0, 2**63 - 1
        if not self.whole_file.isChecked():
            start = to_ns(datetime.fromtimestamp(self.start_edit.dateTime().toSecsSinceEpoch(), EASTERN))
            end = to_ns(datetime.fromtimestamp(self.end_edit.dateTime().toSecsSinceEpoch(), EASTERN))
            if end <= start:
                raise ValueError("the period must end after it starts")
        split = self.split.value() or None
        return BacktestSpec(name, document, data, values, start, end, self.commission.value(), self.slippage.value(),
                            split), sweeps

    def run(self) -> None:
        from station.research.background import BacktestJob
        from station.research.data import check_data
        from station.research.params import apply, grid

        try:
            spec, sweeps = self.spec()
            combos = grid(sweeps)
            engine = spec.document["strategies"][spec.strategy]["engine"]
            engines = [apply(engine, {**spec.params, **combo}) for combo in combos]
            check_data(Path(spec.data), list(spec.document["strategies"][spec.strategy]["tickers"]),
                       {e["timeframe"] for e in engines if e.get("timeframe")})
        except ValueError as exc:  # a bad parameter (ParamError) or file (DataError)
            self._say(str(exc), theme.RED)
            return
        self.last_params = dict(spec.params)
        self.sweep_keys = [key for key, _ in sweeps]
        self._rows = {}
        if sweeps:
            self.job = BacktestJob(specs=[spec.with_params(c) for c in combos], workers=self.workers.value())
            self._say(f"Sweeping {len(combos)} parameter sets…", theme.MUTED)
        else:
            self.job = BacktestJob(spec)
            self._say(f"Backtesting {spec.strategy} on {Path(spec.data).name}…", theme.MUTED)
            self._data = str(spec.data)  # what a selected trade's bars are read from
        self.job.start()
        self.progress.setValue(0)
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self._timer.start()

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self._say("Cancelling…", theme.MUTED)

    def poll(self) -> None:
        """Take what the backtest process said since the last look."""
        if self.job is None:
            return
        for message in self.job.poll():
            kind = message[0]
            if kind == "progress":
                self.progress.setValue(int(message[1] * 1000))
            elif kind == "row":
                self._rows[message[1]] = message[2]
                self.sweep.show_rows([self._rows[i] for i in sorted(self._rows)], self.sweep_keys)
            elif kind == "result":
                self.show_result(message[1])
            elif kind == "error":
                self._say(message[1], theme.RED)
            elif kind == "done":
                self._finished()

    def _finished(self) -> None:
        self._timer.stop()
        cancelled = self.job is not None and self.job._cancel.is_set()
        self.job.stop()
        self.job = None
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if cancelled:
            self._say("Cancelled.", theme.AMBER)
        elif self.sweep_keys and self._rows:
            self.tabs.setCurrentIndex(3)
            self._say(f"Sweep done: {len(self._rows)} parameter sets. Select a row to apply it.", theme.GREEN)

    def show_result(self, result: dict) -> None:
        summary = result["summary"]
        self._contracts = summary.get("contracts") or {}
        self.summary.show_summary(summary)
        self.curves.show_curve(result["equity"])
        self.trades.show_trips(result["trips"])
        self.apply_button.setEnabled(bool(self.last_params))
        traded = f" Traded {contracts_text(self._contracts)}." if self._contracts else ""
        self._say(f"{summary['trades']} round trips, net PnL {summary['net_pnl']:,.2f}.{traded}", theme.GREEN)

    def show_trade(self, trip: dict) -> None:
        """Move the chart to a trade, entry and exit marked, on the file's bars (the chart and the market data
        hear `ShowTrade`)."""
        ticker, entry = str(trip["ticker"]), int(trip["entry_time"])
        self.bridge.publish(ShowTrade(ticker, str(trip["side"]), entry, int(trip["exit_time"]),
                                      float(trip["entry_price"]), float(trip["exit_price"]), self._data,
                                      contract_at(self._contracts, ticker, entry)))

    # ---- apply --------------------------------------------------------------------------------------

    def chosen_params(self) -> dict[str, Any]:
        """The parameters to apply: the selected sweep row's, else those of the last single run."""
        picked = self.sweep.selected() if self.tabs.currentIndex() == 3 else None
        return {**self.last_params, **(picked or {})}

    def apply_to_strategy(self) -> None:
        name = self.strategy_box.currentText()
        params = self.chosen_params()
        document = self.context.queries.config.strategy_document(name)
        if not params or document is None:
            return
        old = engine_keys(document.get("engine") or {})
        lines = "\n".join(f"{key}: {old.get(key)!r} → {value!r}" for key, value in params.items())
        answer = QMessageBox.question(self, "Apply to strategy",
                                      f"Change the live strategy {name}?\n\n{lines}")
        if answer != QMessageBox.Yes:
            return
        document["engine"] = with_params(document["engine"], params)
        run_task(self._save(name, document, lines))

    async def _save(self, name: str, document: dict, lines: str) -> None:
        try:
            await self.context.edits.save_strategy(name, document)
        except ValueError as exc:
            self._say(f"Not applied: {exc}", theme.RED)
            return
        self._say(f"Applied to {name}: {lines.replace(chr(10), '; ')}", theme.GREEN)

    def _say(self, text: str, color: str) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {color};")

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if self.job is not None:
            self.job.stop()
        super().closeEvent(event)
