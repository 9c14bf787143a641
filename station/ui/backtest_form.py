"""The Backtest dock's run form: strategy, data, period, parameters (a value each, or values to sweep), costs, Run
and Cancel with a progress bar. A mixin of `BacktestDock` (`ui/backtest_dock.py`), which runs what it describes."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QTimeZone
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from station.ui import theme


def engine_keys(engine: dict, prefix: str = "") -> dict[str, Any]:
    """An engine object flattened to dotted keys (`line1.period`), `kind` left out (it is not a parameter)."""
    out: dict[str, Any] = {}
    for key, value in engine.items():
        if key == "kind":
            continue
        if isinstance(value, dict):
            out.update(engine_keys(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def with_params(engine: dict, params: dict[str, Any]) -> dict:
    """The engine object with dotted `params` written in."""
    out = json.loads(json.dumps(engine))
    for key, value in params.items():
        node = out
        *path, last = key.split(".")
        for part in path:
            node = node.setdefault(part, {})
        node[last] = value
    return out


class BacktestForm:
    """Builds the form's widgets as attributes of the dock (`strategy_box`, `data_box`, `params`, `commission`…)."""

    def _build_form(self) -> QWidget:
        """The form, with Run, Cancel, the progress bar and the status line under it."""
        form = QFormLayout()
        self.strategy_box = QComboBox()
        self.strategy_box.currentIndexChanged.connect(lambda _: self._fill_params())
        form.addRow("Strategy", self.strategy_box)
        self.data_box = QComboBox(editable=True)
        self.data_box.setMinimumWidth(220)
        self.data_box.setToolTip("A DBN file (trades), or one the History dialog cached from Databento")
        self.data_box.textActivated.connect(self.set_data)
        browse, cached = QPushButton("File…"), QPushButton("Databento range…")
        browse.clicked.connect(self._browse)
        cached.clicked.connect(self._history)
        data_row = QHBoxLayout()
        data_row.addWidget(self.data_box, 1)
        data_row.addWidget(browse)
        data_row.addWidget(cached)
        form.addRow("Data", data_row)
        self.whole_file = QCheckBox("whole file")
        self.whole_file.setChecked(True)
        self.start_edit, self.end_edit = QDateTimeEdit(), QDateTimeEdit()
        zone = QTimeZone(b"America/New_York")
        for edit in (self.start_edit, self.end_edit):
            edit.setTimeZone(zone)
            edit.setDisplayFormat("yyyy-MM-dd HH:mm")
            edit.setCalendarPopup(True)
        self.whole_file.toggled.connect(lambda on: [e.setEnabled(not on) for e in (self.start_edit, self.end_edit)])
        self.whole_file.toggled.emit(True)
        period = QHBoxLayout()
        for widget in (self.whole_file, QLabel("from"), self.start_edit, QLabel("to"), self.end_edit):
            period.addWidget(widget)
        period.addStretch(1)
        form.addRow("Period (ET)", period)
        self.params = QTableWidget(0, 3)
        self.params.setHorizontalHeaderLabels(["Parameter", "Value", "Sweep values (a,b,c)"])
        self.params.verticalHeader().hide()
        self.params.horizontalHeader().setStretchLastSection(True)
        self.params.setMinimumHeight(90)
        self.params.setMaximumHeight(130)
        form.addRow("Parameters", self.params)
        self.commission, self.slippage, self.split = QDoubleSpinBox(), QDoubleSpinBox(), QDoubleSpinBox()
        self.commission.setRange(0, 1000)
        self.commission.setDecimals(2)
        self.commission.setPrefix("$ ")
        self.slippage.setRange(0, 100)
        self.slippage.setDecimals(1)
        self.slippage.setSuffix(" ticks")
        self.split.setRange(0, 0.95)
        self.split.setSingleStep(0.05)
        self.split.setSpecialValueText("no split")
        self.workers = QSpinBox()
        self.workers.setRange(1, 64)
        costs = QHBoxLayout()
        for label, widget in (("commission/contract", self.commission), ("slippage", self.slippage),
                              ("in-sample share", self.split), ("processes", self.workers)):
            costs.addWidget(QLabel(label))
            costs.addWidget(widget)
        costs.addStretch(1)
        form.addRow("Costs", costs)
        self.run_button, self.cancel_button = QPushButton("Run"), QPushButton("Cancel")
        self.run_button.setStyleSheet(f"background: {theme.ACCENT}; color: white; padding: 4px 16px;")
        self.cancel_button.setEnabled(False)
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        run_row = QHBoxLayout()
        run_row.addWidget(self.run_button)
        run_row.addWidget(self.cancel_button)
        run_row.addWidget(self.progress, 1)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.addLayout(form)
        top_layout.addLayout(run_row)
        top_layout.addWidget(self.status)
        return top
