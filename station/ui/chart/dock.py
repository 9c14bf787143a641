"""A chart dock: symbol and timeframe pickers, lines, replay speed, history, and the chart, wired to the bus.

The dock asks for bars with `RequestBars` (and lets go with `ReleaseBars`), draws the
`BarsLoaded` answer, then applies `BarUpdated` batches as the UI bridge hands them
over (20 Hz): one refresh per batch however many bars changed. Alerts and fills of
its symbol become markers at their market time (`markers.py`): those from before the
chart opened are read through the queries, new ones come as events.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Callable

import numpy as np

from PySide6.QtCore import QSize, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from station.domain.commands import ReleaseBars, RequestBars, SetReplaySpeed, ShowTrade, StartReplay
from station.domain.enums import ConnectionState
from station.domain.events import (
    AlertReceived,
    BarsLoaded,
    BarUpdated,
    ConnectionChanged,
    HistoryEstimated,
    HistoryFinished,
    HistoryProgressed,
    OrderFilled,
    TickReceived,
)
from station.marketdata.bars.timeframes import STANDARD, TimeframeError, parse_timeframe
from station.ui.chart.lines import DEFAULT_LINES, LinesBar, StrategyLines
from station.ui.chart.markers import ChartMarkers, Marker
from station.ui.chart.trading import ChartTrading, TradingInputs
from station.ui.chart.view import ChartView
from station.ui.slots import connect

if TYPE_CHECKING:
    from station.ui.bridge import UiBridge

SPEEDS = (("×1", 1.0), ("×10", 10.0), ("×100", 100.0), ("Max", 0.0))
_ids = itertools.count(1)
TickSize = Callable[[str], "float | None"]  # symbol -> its minimum price step, when known


class ChartDock(QWidget):
    """One chart with its toolbar; `detach` lets go of the bars it asked for."""

    changed = Signal()  # what the chart shows changed (symbol, timeframe, lines)
    looked_at = Signal()  # the chart came into view (its tab raised, its dock shown)

    def __init__(self, bridge: "UiBridge", symbol: str = "ES", timeframe: str = "1m",
                 overlays: tuple[str, ...] = ("EMA 20",), name: str = "chart", *, dataset: str = "GLBX.MDP3",
                 confirm_above_usd: float = 1.0, lines: tuple[str, ...] = DEFAULT_LINES,
                 markers: ChartMarkers | None = None, tick_size: TickSize | None = None,
                 strategy_lines: StrategyLines | None = None, trading: TradingInputs | None = None) -> None:
        super().__init__()
        self.bridge = bridge
        self.dataset, self.confirm_above_usd = dataset, confirm_above_usd
        self.markers = markers or ChartMarkers()
        self.tick_size = tick_size or (lambda symbol: None)
        self.history_dialog = None
        self.requester = f"{name}#{next(_ids)}"
        self.symbol, self.timeframe = "", ""
        self._waiting: list = []
        self._loaded = False
        self._watched = False
        self.view = ChartView(self)
        self._toolbar(lines, overlays, strategy_lines)
        self.trading = ChartTrading(self.view, bridge, trading, self._say) if trading is not None else None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.bar)
        layout.addWidget(self.view, 1)
        for kind, handler in ((BarsLoaded, self._on_loaded), (BarUpdated, self._on_bars),
                              (TickReceived, self._on_ticks), (AlertReceived, self._on_alerts),
                              (OrderFilled, self._on_fills), (ConnectionChanged, self._on_connections),
                              (HistoryEstimated, self._on_history), (HistoryProgressed, self._on_history),
                              (HistoryFinished, self._on_history), (ShowTrade, self._on_show_trade)):
            bridge.on(kind, handler)
        self._span: tuple[int, int] | None = None  # a trade to move to once its symbol's bars are loaded
        self._apply_overlays()
        self.show_symbol(symbol, timeframe)

    # ---- toolbar --------------------------------------------------------------------------------

    def _toolbar(self, lines: tuple[str, ...], overlays: tuple[str, ...], strategy_lines: StrategyLines | None) -> None:
        self.bar = QWidget(self)
        self.bar.setObjectName("ChartToolbar")
        self.bar.setStyleSheet("#ChartToolbar { background: #181c27; border-bottom: 1px solid #2a2e39; }"
                               "QToolButton { padding: 2px 6px; border-radius: 3px; }"
                               "QToolButton:checked { background: #2d4a7a; }")
        row = QHBoxLayout(self.bar)
        row.setContentsMargins(6, 3, 6, 3)
        row.setSpacing(4)
        self.symbol_box = QComboBox(editable=True)
        self.symbol_box.setInsertPolicy(QComboBox.NoInsert)
        self.symbol_box.setMinimumWidth(90)
        self.symbol_box.setToolTip("Symbol (type one and press Enter)")
        self.symbol_box.lineEdit().returnPressed.connect(self._picked)
        self.symbol_box.activated.connect(lambda _: self._picked())
        self.timeframe_box = QComboBox(editable=True)
        self.timeframe_box.addItems(STANDARD)
        self.timeframe_box.setInsertPolicy(QComboBox.NoInsert)
        self.timeframe_box.setMinimumWidth(70)
        self.timeframe_box.setToolTip("Timeframe: 1s … 1d, or tick bars such as 512t")
        self.timeframe_box.lineEdit().returnPressed.connect(self._picked)
        self.timeframe_box.activated.connect(lambda _: self._picked())
        row.addWidget(self.symbol_box)
        row.addWidget(self.timeframe_box)
        self.lines = LinesBar(lines, overlays, strategy_lines)
        self.lines.changed.connect(self._apply_overlays)
        row.addWidget(self.lines)
        self.message = QLabel("")
        self.message.setStyleSheet("color: #ef5350;")
        self.message.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)  # never widens the toolbar
        row.addWidget(self.message)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)
        row.addWidget(spacer)
        self.speed_box = QComboBox()
        for label, speed in SPEEDS:
            self.speed_box.addItem(label, speed)
        self.speed_box.setCurrentIndex(1)  # ×10
        self.speed_box.setToolTip("Replay speed")
        self.speed_box.activated.connect(lambda i: self.bridge.publish(SetReplaySpeed(self.speed_box.itemData(i))))
        self.speed_box.hide()
        row.addWidget(self.speed_box)
        self.replay_button = QToolButton(text="Replay…")
        self.replay_button.setToolTip("Replay a DBN file into the charts")
        connect(self.replay_button.clicked, self._replay_file)
        row.addWidget(self.replay_button)
        self.history_button = QToolButton(text="History…")
        self.history_button.setToolTip("Load history from Databento (cost shown first; cached)")
        connect(self.history_button.clicked, self._history)
        row.addWidget(self.history_button)
        self.live_button = QToolButton(text="Live ⇥")
        self.live_button.setToolTip("Follow the newest bar again")
        self.live_button.setEnabled(False)
        connect(self.live_button.clicked, self.view.go_live)
        self.view.followChanged.connect(lambda following: self.live_button.setEnabled(not following))
        row.addWidget(self.live_button)

    def _picked(self) -> None:
        symbol = self.symbol_box.currentText().strip().upper()
        timeframe = self.timeframe_box.currentText().strip().lower()
        if symbol and (symbol, timeframe) != (self.symbol, self.timeframe):
            self.show_symbol(symbol, timeframe)

    def _apply_overlays(self) -> None:
        self.view.set_overlays(self.lines.specs())
        self.changed.emit()

    @property
    def overlay_buttons(self) -> dict:
        """The lines' toggle buttons by label."""
        return self.lines.buttons

    def overlays(self) -> tuple[str, ...]:
        """The lines drawn now (`EMA 20`, …)."""
        return self.lines.shown()

    # ---- what is shown --------------------------------------------------------------------------

    def show_symbol(self, symbol: str, timeframe: str) -> bool:
        """Switch to `symbol` and `timeframe` (False, with the reason shown, for a bad timeframe)."""
        try:
            timeframe = parse_timeframe(timeframe).name
        except TimeframeError as exc:
            self.message.setStyleSheet("color: #ef5350;")
            self.message.setText(str(exc))
            return False
        self.message.setText("")
        if self.symbol:
            self.bridge.publish(ReleaseBars(self.symbol, self.timeframe, self.requester))
        self.symbol, self.timeframe = symbol, timeframe
        self.lines.symbol = symbol
        self._loaded, self._waiting = False, []
        self.view.set_tick(self.tick_size(symbol))
        self.view.set_markers(self.markers.past(symbol))
        if self.trading is not None:
            self.trading.show_symbol(symbol)
        if self.symbol_box.findText(symbol) < 0:
            self.symbol_box.addItem(symbol)
        self.symbol_box.setCurrentText(symbol)
        self.timeframe_box.setCurrentText(timeframe)
        self.view.set_empty(f"Loading {symbol} {timeframe}…")
        self.bridge.publish(RequestBars(symbol, timeframe, self.requester))
        self.changed.emit()
        return True

    def _say(self, text: str) -> None:
        """What chart trading did (or why not), in the toolbar."""
        self.message.setStyleSheet(f"color: {'#ef5350' if text.startswith('Not ') else '#d1d4dc'};")
        self.message.setText(text)
        self.message.setToolTip(text)

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        dock = self.parent()
        if isinstance(dock, QDockWidget) and not self._watched:  # a tab raised shows no widget: its dock says so
            self._watched = True
            dock.visibilityChanged.connect(lambda shown: shown and self.looked_at.emit())
        self.looked_at.emit()

    def sizeHint(self) -> QSize:  # noqa: N802 - the chart is the big thing in the window
        return QSize(1000, 600)

    def detach(self) -> None:
        """The window closes: stop asking for bars."""
        if self.symbol:
            self.bridge.publish(ReleaseBars(self.symbol, self.timeframe, self.requester))

    # ---- bus events (batches from the bridge) ---------------------------------------------------

    def _on_loaded(self, events: list[BarsLoaded]) -> None:
        for event in events:
            bars = event.bars
            if (bars.symbol, bars.timeframe) == (self.symbol, self.timeframe) and event.requester in ("", self.requester):
                if self.view.tick is None:
                    self.view.set_tick(inferred_tick(np.asarray(bars.close, dtype=float)))
                self.view.set_bars(bars)
                self._loaded = True
                if self._span is not None:
                    self.view.show_span(*self._span)
                if self._waiting:
                    self.view.apply(self._waiting)
                    self._waiting = []
                    self.view.refresh()

    def _on_bars(self, events: list[BarUpdated]) -> None:
        mine = [e.bar for e in events if e.bar.symbol == self.symbol and e.bar.timeframe == self.timeframe]
        if not mine:
            return
        if not self._loaded:
            self._waiting += mine
            return
        if self.view.apply(mine):
            self.view.refresh()

    def _on_ticks(self, events: list[TickReceived]) -> None:
        for symbol in {e.tick.symbol for e in events}:
            if self.symbol_box.findText(symbol) < 0:
                self.symbol_box.addItem(symbol)

    def _on_alerts(self, events: list[AlertReceived]) -> None:
        for event in events:
            marker = self.markers.of_alert(event.alert, self.symbol)
            if marker is not None:
                self.view.add_marker(marker)

    def _on_fills(self, events: list[OrderFilled]) -> None:
        for event in events:
            marker = self.markers.of_fill(event.fill, self.symbol)
            if marker is not None:
                self.view.add_marker(marker)

    def _on_show_trade(self, commands: list[ShowTrade]) -> None:
        """The Backtest dock's selected trade: its symbol, entry and exit marked, the view moved to it."""
        trade = commands[-1]
        symbol = trade.symbol.upper()
        self._span = (trade.entry_ns, trade.exit_ns)
        if symbol != self.symbol:
            self.show_symbol(symbol, self.timeframe)
        entry, exit_ = ("buy", "sell") if trade.side == "long" else ("sell", "buy")
        self.view.add_marker(Marker(trade.entry_ns, trade.entry_price, entry, "fill"))
        self.view.add_marker(Marker(trade.exit_ns, trade.exit_price, exit_, "fill"))
        if self._loaded:
            self.view.show_span(*self._span)

    def _on_connections(self, events: list[ConnectionChanged]) -> None:
        for event in events:
            if event.kind == "feed" and event.name == "replay":
                self.speed_box.setVisible(event.state is ConnectionState.REPLAYING)

    # ---- actions ----------------------------------------------------------------------------------

    def _replay_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Replay a DBN file", "", "DBN files (*.dbn *.dbn.zst *.zst);;All files (*)")
        if path:
            self.bridge.publish(StartReplay(path, self.speed_box.currentData()))

    def _history(self) -> None:
        from station.ui.chart.history_dialog import HistoryDialog

        if self.history_dialog is None or not self.history_dialog.dialog.isVisible():
            self.history_dialog = HistoryDialog(self.bridge, self.symbol, self, dataset=self.dataset,
                                                confirm_above_usd=self.confirm_above_usd)
        self.history_dialog.show()

    def _on_history(self, events: list) -> None:
        if self.history_dialog is not None:
            for event in events:
                self.history_dialog.on_event(event)


NICE_TICKS = tuple(m * 10.0 ** e for e in range(-6, 4) for m in (1, 2, 2.5, 5))


def inferred_tick(closes: np.ndarray) -> float | None:
    """A symbol's price step read from its prices (the smallest gap between distinct ones, made round)."""
    values = np.unique(np.round(closes[-5000:][np.isfinite(closes[-5000:])], 8))
    gaps = np.diff(values)
    gaps = gaps[gaps > 1e-9]
    if len(gaps) < 3:
        return None
    smallest = float(gaps.min())
    return min(NICE_TICKS, key=lambda tick: abs(np.log(tick / smallest)))
