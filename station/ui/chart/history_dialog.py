"""Load history (forms/load_history.ui): the cost and size of what is not cached first, then progress and cancel.

Load stays disabled until an estimate for exactly the fields shown has arrived;
above the confirmation threshold the trader must also tick "I accept the cost".
The load is capped at the estimated cost, so a price that rose meanwhile buys
nothing. Events reach the dialog through its chart dock (one bridge handler).
"""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta

from PySide6.QtCore import QDateTime, QTimeZone
from PySide6.QtWidgets import QCheckBox, QComboBox, QDateTimeEdit, QLabel, QLineEdit, QProgressBar, QPushButton

from station.domain.commands import CancelHistory, EstimateHistory, LoadHistory
from station.domain.events import HistoryEstimated, HistoryFinished, HistoryProgressed
from station.domain.marketdata import HistoryRequest
from station.domain.timeutil import EASTERN, utc_now
from station.marketdata.bars.sessions import CME_ROOTS, symbol_root
from station.ui import theme
from station.ui.forms import child, load_form
from station.ui.slots import connect

SCHEMAS = ("trades", "ohlcv-1m", "ohlcv-1s", "ohlcv-1h", "ohlcv-1d", "tbbo", "mbp-1")
STYPES = ("continuous", "raw_symbol", "parent")


def databento_symbol(symbol: str) -> tuple[str, str]:
    """(symbol, symbology) to ask Databento for a chart's symbol: `ES` → front continuous `ES.c.0`."""
    root = symbol_root(symbol)
    if root == symbol.upper() and root in CME_ROOTS:
        return f"{root}.c.0", "continuous"
    return symbol, "raw_symbol"


class HistoryDialog:
    """Controller of the load-history form."""

    def __init__(self, bridge, symbol: str, parent=None, *, dataset: str = "GLBX.MDP3",
                 confirm_above_usd: float = 1.0) -> None:
        self.bridge = bridge
        self.confirm_above_usd = confirm_above_usd
        self.dialog = load_form("load_history", parent)
        get = lambda kind, name: child(self.dialog, kind, name)  # noqa: E731
        self.symbols, self.dataset = get(QLineEdit, "symbols"), get(QLineEdit, "dataset")
        self.stype, self.schema = get(QComboBox, "stype"), get(QComboBox, "schema")
        self.start, self.end = get(QDateTimeEdit, "start"), get(QDateTimeEdit, "end")
        self.estimate_label, self.status = get(QLabel, "estimate"), get(QLabel, "status")
        self.confirm, self.progress = get(QCheckBox, "confirm"), get(QProgressBar, "progress")
        self.estimate_button, self.load_button = get(QPushButton, "estimateButton"), get(QPushButton, "loadButton")
        self.cancel_button = get(QPushButton, "cancelButton")
        self.stype.addItems(STYPES)
        self.schema.addItems(SCHEMAS)
        name, stype = databento_symbol(symbol)
        self.symbols.setText(name)
        self.stype.setCurrentText(stype)
        self.dataset.setText(dataset)
        zone = QTimeZone(b"America/New_York")
        today = datetime.combine(utc_now().astimezone(EASTERN).date(), time(), EASTERN)
        for edit, moment in ((self.start, today - timedelta(days=1)), (self.end, today)):
            edit.setTimeZone(zone)
            edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(moment.timestamp()), zone))
        self.confirm.hide()
        self.progress.hide()
        connect(self.estimate_button.clicked, self.estimate)
        connect(self.load_button.clicked, self.load)
        connect(self.cancel_button.clicked, self.cancel)
        self.confirm.toggled.connect(lambda _: self._can_load())
        for signal in (self.symbols.textEdited, self.dataset.textEdited, self.stype.currentIndexChanged,
                       self.schema.currentIndexChanged, self.start.dateTimeChanged, self.end.dateTimeChanged):
            signal.connect(self._changed)
        self._estimated: tuple[HistoryRequest, float] | None = None
        self._pending: HistoryRequest | None = None
        self._loading: str | None = None

    def show(self) -> None:
        self.dialog.show()

    def request(self) -> HistoryRequest:
        """The request the fields describe (times in ET, aware)."""
        symbols = tuple(s.strip() for s in self.symbols.text().replace(";", ",").split(",") if s.strip())
        start = datetime.fromtimestamp(self.start.dateTime().toSecsSinceEpoch(), EASTERN)
        end = datetime.fromtimestamp(self.end.dateTime().toSecsSinceEpoch(), EASTERN)
        return HistoryRequest(uuid.uuid4().hex[:12], self.dataset.text().strip(), self.schema.currentText(),
                              symbols, start, end, self.stype.currentText())

    def estimate(self) -> None:
        request = self.request()
        if not request.symbols or request.end <= request.start:
            self._say(self.estimate_label, "Give at least one symbol and a range that ends after it starts.", theme.RED)
            return
        self._pending, self._estimated = request, None
        self._say(self.estimate_label, "Asking Databento what this costs…", theme.MUTED)
        self._can_load()
        self.bridge.publish(EstimateHistory(request))

    def load(self) -> None:
        if self._estimated is None:
            return
        request, cost = self._estimated
        self._loading = request.request_id
        self.progress.setValue(0)
        self.progress.show()
        self._say(self.status, "Loading…", theme.MUTED)
        self.bridge.publish(LoadHistory(request, max_cost_usd=cost))
        self._can_load()

    def cancel(self) -> None:
        if self._loading:
            self.bridge.publish(CancelHistory(self._loading))

    # ---- events, forwarded by the dock ------------------------------------------------------------

    def on_event(self, event) -> None:
        if isinstance(event, HistoryEstimated) and self._pending and event.request_id == self._pending.request_id:
            self._estimated = (self._pending, event.cost_usd)
            if event.fully_cached:
                text = "Everything asked for is already in the cache: free."
            else:
                text = f"${event.cost_usd:,.2f} for {event.size_bytes / 1e6:,.1f} MB not yet cached."
            self._say(self.estimate_label, text, theme.TEXT)
            self.confirm.setChecked(False)
            self.confirm.setVisible(event.cost_usd > self.confirm_above_usd)
            self._can_load()
        elif isinstance(event, HistoryProgressed) and event.request_id == self._loading:
            self.progress.setMaximum(max(event.total, 1))
            self.progress.setValue(event.done)
            self.progress.setFormat(f"%v / %m pieces — {event.bytes_received / 1e6:,.1f} MB")
        elif isinstance(event, HistoryFinished):
            if self._pending and event.request_id == self._pending.request_id and not self._loading:
                self._say(self.estimate_label, event.message, theme.RED)
            if event.request_id == self._loading:
                self._loading = None
                self._say(self.status, event.message, theme.GREEN if event.ok else theme.RED)
                if event.ok:
                    self.progress.setValue(self.progress.maximum())
                    self._estimated = None
            self._can_load()

    def _changed(self, *_) -> None:
        self._estimated = None
        self.confirm.hide()
        self._can_load()

    def _can_load(self) -> None:
        ready = self._estimated is not None and self._loading is None
        if ready and self._estimated[1] > self.confirm_above_usd:
            ready = self.confirm.isChecked()
        self.load_button.setEnabled(ready)
        self.cancel_button.setEnabled(self._loading is not None)
        self.estimate_button.setEnabled(self._loading is None)

    @staticmethod
    def _say(label: QLabel, text: str, color: str) -> None:
        label.setText(text)
        label.setStyleSheet(f"color: {color};")
