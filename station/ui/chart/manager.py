"""Chart docks, as many as the trader opens (View → New chart), each remembered across restarts.

The first chart is the `ChartDock` panel. More are `ChartDock-2`, `ChartDock-3`…;
their names and what each shows (symbol, timeframe, overlays) are kept in the
window's settings, and they come back where they were (`restoreDockWidget`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget
from shiboken6 import isValid

from station.analysis.ticks import FUTURES_TICKS
from station.marketdata.databento.symbology import display_symbol, infer_stype
from station.ui.chart.dock import ChartDock
from station.ui.chart.lines import DEFAULT_LINES
from station.ui.chart.markers import ChartMarkers
from station.ui.chart.trading import TradingInputs
from station.ui.chart.overlays import line_label
from station.ui.trading_format import ticker_root
from station.ui.slots import connect

if TYPE_CHECKING:
    from station.ui.panels import DockHost

MAIN = "ChartDock"


class ChartDocks:
    """Builds chart docks for one window and keeps their settings."""

    def __init__(self, window: "DockHost") -> None:
        self.window = window
        self.settings = window.context.settings
        self.docks: dict[str, ChartDock] = {}
        action = QAction("&New chart", window)
        action.setShortcut(QKeySequence("Ctrl+Shift+N"))
        connect(action.triggered, self.new_chart)
        window.view_menu.addAction(action)
        self.new_chart_action = action
        QTimer.singleShot(0, self._restore_extra)

    def build(self, name: str = MAIN) -> ChartDock:
        """The chart widget of dock `name`, showing what it showed last time (or the default symbol)."""
        settings, context = self.settings, self.window.context
        values = context.queries.config.settings("marketdata")
        default = "ES"
        if values.get("live_symbols") and not context.info.demo:
            first = values["live_symbols"][0]
            default = display_symbol(infer_stype(first), first)
        overlays = settings.value(f"charts/{name}/overlays", "EMA 20")
        lines = settings.value(f"charts/{name}/lines", ",".join(DEFAULT_LINES))
        chart = ChartDock(context.bridge, str(settings.value(f"charts/{name}/symbol", default)),
                          str(settings.value(f"charts/{name}/timeframe", "1m")),
                          _listed(overlays), name,
                          dataset=values.get("live_dataset", "GLBX.MDP3"),
                          confirm_above_usd=float(values.get("confirm_above_usd", 1.0)),
                          lines=_listed(lines), markers=ChartMarkers(context.queries),
                          tick_size=self.tick_size, strategy_lines=self.strategy_lines,
                          trading=TradingInputs(context.queries.book, context.ticket, context.queries.config.load,
                                                context.settings))
        chart.changed.connect(lambda: self._remember(name, chart))
        for signal in (chart.changed, chart.looked_at):  # the ticket follows the chart in view
            signal.connect(lambda: context.focus.set(chart.symbol))
        self.docks[name] = chart
        return chart

    def new_chart(self, symbol: str | None = None, timeframe: str | None = None) -> QDockWidget:
        """Open another chart dock, tabbed with the first one."""
        number = 2
        while f"{MAIN}-{number}" in self.window.docks:
            number += 1
        name = f"{MAIN}-{number}"
        dock = self._add(name)
        if MAIN in self.window.docks:
            self.window.tabifyDockWidget(self.window.docks[MAIN], dock)
        dock.show()
        dock.raise_()
        chart = self.docks[name]
        if symbol or timeframe:
            chart.show_symbol(symbol or chart.symbol, timeframe or chart.timeframe)
        self._save_names()
        return dock

    def _add(self, name: str) -> QDockWidget:
        from station.ui.panels import Panel

        number = name.rsplit("-", 1)[-1]
        return self.window.add_panel(Panel(name, f"Chart {number}", Qt.LeftDockWidgetArea,
                                           lambda _context, _host: self.build(name)))

    def _restore_extra(self) -> None:
        if not isValid(self.window):  # the window closed before the event loop came round
            return
        names = self.settings.value("charts/extra", [])
        for name in [names] if isinstance(names, str) else list(names or []):
            if name in self.window.docks:
                continue
            dock = QDockWidget(f"Chart {name.rsplit('-', 1)[-1]}", self.window)
            dock.setObjectName(name)
            dock.setWidget(self.build(name))
            if not self.window.restoreDockWidget(dock):  # not in the saved layout: next to the first chart
                self.window.addDockWidget(Qt.LeftDockWidgetArea, dock)
                if MAIN in self.window.docks:
                    self.window.tabifyDockWidget(self.window.docks[MAIN], dock)
            self.window.docks[name] = dock
            self.window.add_view_action(dock.toggleViewAction())

    def _save_names(self) -> None:
        extra = [name for name in self.docks if name != MAIN]
        self.settings.setValue("charts/extra", extra)

    def _remember(self, name: str, chart: ChartDock) -> None:
        settings = self.settings
        settings.setValue(f"charts/{name}/symbol", chart.symbol)
        settings.setValue(f"charts/{name}/timeframe", chart.timeframe)
        settings.setValue(f"charts/{name}/overlays", ",".join(chart.overlays()))
        settings.setValue(f"charts/{name}/lines", ",".join(chart.lines.lines()))

    def tick_size(self, symbol: str) -> float | None:
        """A chart symbol's price step: a ticker's `tick_size` in the config, else the futures table's."""
        root = ticker_root(symbol)
        for strategy in self.window.context.queries.config.load().strategies:
            for ticker in strategy.tickers:
                if ticker_root(ticker.ticker) == root and ticker.options.get("tick_size"):
                    return float(ticker.options["tick_size"])
        return FUTURES_TICKS.get(root)

    def strategy_lines(self, symbol: str) -> list[tuple[str, tuple[str, ...]]]:
        """The lines of each engine strategy trading `symbol` (its line1 and line2), for a chart's Lines menu."""
        root, found = ticker_root(symbol), []
        for strategy in self.window.context.queries.config.load().strategies:
            engine = strategy.options.get("engine") or {}
            if not any(ticker_root(t.ticker) == root for t in strategy.tickers):
                continue
            labels = tuple(line_label(line["type"], int(line["period"])) for line in
                           (engine.get("line1"), engine.get("line2")) if isinstance(line, dict) and "type" in line)
            if labels:
                found.append((strategy.name, labels))
        return found


def chart_docks(window: "DockHost") -> ChartDocks:
    """The window's chart manager (made on first use)."""
    manager = getattr(window, "charts", None)
    if manager is None:
        manager = window.charts = ChartDocks(window)
    return manager


def _listed(value) -> tuple[str, ...]:
    """A settings value written as "a,b" (or read back as a list) as a tuple."""
    items = value if isinstance(value, (list, tuple)) else str(value or "").split(",")
    return tuple(str(item).strip() for item in items if str(item).strip())
