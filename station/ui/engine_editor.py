"""The engine strategy editor (forms/strategy_engine.ui): parameters of one strategy, saved through the
config import, so the same checks apply as for a config file and a running Station picks it up live."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QGroupBox, QLabel, QLineEdit, QSpinBox,
    QVBoxLayout, QWidget,
)

from station.domain.validation import ConfigError
from station.ui import theme
from station.ui.context import DockContext
from station.ui.forms import child, fit_on_show, load_form
from station.ui.slots import connect

log = logging.getLogger("station.ui")

KINDS = ["crossover", "supertrend", "zero_dte", "pairs"]
LINE_TYPES = ["sma", "ema", "wilder"]
BOXES = {"crossover": ("linesBox",), "supertrend": ("supertrendBox",), "zero_dte": ("linesBox", "zeroBox"),
         "pairs": ("pairsBox",)}
# widget name -> engine key, for the plain numbers of each kind (0 on an "off" spin box means None)
NUMBERS = {
    "crossover": {"stopPoints": "stop_points"},
    "supertrend": {"atrPeriod": "atr_period", "multiplier": "multiplier", "confirmBars": "confirm_bars",
                   "trailAtr": "trail_atr", "takeProfitAtr": "take_profit_atr"},
    "zero_dte": {"basis": "basis", "strikeStep": "strike_step", "closeBefore": "close_before_min"},
    "pairs": {"lookback": "lookback", "entryZ": "entry_z", "exitZ": "exit_z"},
}
OPTIONAL = {"stopPoints", "trailAtr", "takeProfitAtr"}


class EngineEditor(QDialog):
    """Edit (or create, with `name` None) an engine strategy."""

    def __init__(self, context: DockContext, name: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.config, self.edits = context.queries.config, context.edits
        self.name = name
        form = load_form("strategy_engine", self)
        form.setWindowFlags(Qt.Widget)  # the designed dialog becomes this dialog's content
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(form)
        self.setWindowTitle(f"Engine strategy — {name}" if name else "New engine strategy")
        self.resize(form.width(), form.sizeHint().height())
        fit_on_show(self)
        self.form = form
        self.kind: QComboBox = child(form, QComboBox, "kind")
        self.error: QLabel = child(form, QLabel, "error")
        self.error.setStyleSheet(f"color: {theme.RED};")
        self.kind.currentIndexChanged.connect(self._show_kind)
        buttons: QDialogButtonBox = child(form, QDialogButtonBox, "buttons")
        connect(buttons.accepted, self.save)
        buttons.rejected.connect(self.reject)
        self.document: dict[str, Any] = {}
        self._load()

    def w(self, kind: type, name: str):
        return child(self.form, kind, name)

    # ---- loading ---------------------------------------------------------------------------------

    def _load(self) -> None:
        name_edit, tickers = self.w(QLineEdit, "name"), self.w(QLineEdit, "tickers")
        engine: dict[str, Any] = {"kind": "crossover"}
        if self.name:
            self.document = self.config.export_document()["strategies"][self.name]
            engine = self.document.get("engine") or engine
            name_edit.setText(self.name)
            name_edit.setReadOnly(True)
            tickers.setText(", ".join(self.document.get("tickers", {})))
            tickers.setReadOnly(True)
            tickers.setToolTip("Tickers and their destinations are edited with the strategy's routing")
        self.kind.setCurrentIndex(KINDS.index(engine["kind"]))
        self.w(QLineEdit, "timeframe").setText(engine.get("timeframe", "1m"))
        self.w(QCheckBox, "tradeEnabled").setChecked(engine.get("trade_enabled", True))
        self.w(QComboBox, "sizing").setCurrentIndex(1 if engine.get("sizing") == "risk" else 0)
        self.w(QDoubleSpinBox, "qty").setValue(float(engine.get("qty", 1)))
        self.w(QDoubleSpinBox, "riskAmount").setValue(float(engine.get("risk_amount") or 0))
        self.w(QDoubleSpinBox, "pointValue").setValue(float(engine.get("point_value") or 0))  # 0: ticker/table
        for index in (1, 2):
            line = engine.get(f"line{index}") or {"type": "ema" if index == 1 else "sma", "period": 9 if index == 1 else 21}
            self.w(QComboBox, f"line{index}Type").setCurrentIndex(LINE_TYPES.index(line["type"]))
            self.w(QSpinBox, f"line{index}Period").setValue(int(line["period"]))
        for widget, key in NUMBERS[engine["kind"]].items():
            if engine.get(key) is not None:
                self._spin(widget).setValue(engine[key])
        for widget, key in (("signalSymbol", "signal_symbol"), ("underlying", "underlying"), ("calendar", "calendar")):
            if engine.get(key):
                self.w(QLineEdit, widget).setText(engine[key])
        self._show_kind()

    def _spin(self, name: str):
        return self.form.findChild(QSpinBox, name) or self.w(QDoubleSpinBox, name)

    def _show_kind(self) -> None:
        kind = KINDS[self.kind.currentIndex()]
        for box in ("linesBox", "supertrendBox", "zeroBox", "pairsBox"):
            self.w(QGroupBox, box).setVisible(box in BOXES[kind])
        self.w(QDoubleSpinBox, "stopPoints").setEnabled(kind == "crossover")

    # ---- saving ----------------------------------------------------------------------------------

    def engine(self) -> dict[str, Any]:
        """The `engine` object the widgets describe (checked by the config import on save)."""
        kind = KINDS[self.kind.currentIndex()]
        risk = self.w(QComboBox, "sizing").currentIndex() == 1
        engine: dict[str, Any] = {
            "kind": kind, "timeframe": self.w(QLineEdit, "timeframe").text().strip(),
            "trade_enabled": self.w(QCheckBox, "tradeEnabled").isChecked(),
            "qty": self.w(QDoubleSpinBox, "qty").value(), "sizing": "risk" if risk else "fixed",
            "point_value": self.w(QDoubleSpinBox, "pointValue").value() or None,
        }
        if risk:
            engine["risk_amount"] = self.w(QDoubleSpinBox, "riskAmount").value() or None
        if kind in ("crossover", "zero_dte"):
            for index in (1, 2):
                engine[f"line{index}"] = {"type": LINE_TYPES[self.w(QComboBox, f"line{index}Type").currentIndex()],
                                          "period": self.w(QSpinBox, f"line{index}Period").value()}
        for widget, key in NUMBERS[kind].items():
            value = self._spin(widget).value()
            engine[key] = None if widget in OPTIONAL and value == 0 else value
        if kind == "zero_dte":
            engine["signal_symbol"] = self.w(QLineEdit, "signalSymbol").text().strip() or "SPX"
            engine["underlying"] = self.w(QLineEdit, "underlying").text().strip() or None
            engine["calendar"] = self.w(QLineEdit, "calendar").text().strip() or "XNYS"
        return engine

    def document_to_save(self) -> dict[str, Any]:
        """The config document this save imports (the whole strategy, only its engine changed)."""
        name = self.name or self.w(QLineEdit, "name").text().strip()
        if self.name:
            strategy = {**self.document, "engine": self.engine()}
        else:
            tickers = [t.strip() for t in self.w(QLineEdit, "tickers").text().split(",") if t.strip()]
            strategy = {"engine": self.engine(), "tickers": {t: {} for t in tickers}}
        return {"strategies": {name: strategy}}

    async def save(self) -> bool:
        """Import the strategy; on a problem the exact reason is shown and nothing changes."""
        document = self.document_to_save()
        name = next(iter(document["strategies"]))
        if not name:
            self.error.setText("The strategy needs a name.")
            return False
        if not self.name and self.config.load().strategy(name) is not None:
            self.error.setText(f"A strategy named {name!r} exists already: pick another name, or edit that one.")
            return False
        try:
            await self.edits.import_document(document)
        except ConfigError as exc:
            self.error.setText("Not saved: " + "; ".join(f"{k.split('.', 2)[-1]}: {v}" for k, v in exc.errors.items()))
            return False
        log.info("engine strategy %s saved", name)
        self.accept()
        return True
