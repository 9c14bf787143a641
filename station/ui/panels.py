"""The docks the main window offers. Each capability adds its own entry here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:
    from station.ui.main_window import MainWindow


@dataclass(frozen=True)
class Panel:
    """A dock: stable object name (layouts restore by it), title, default area, and its builder."""

    object_name: str
    title: str
    area: Qt.DockWidgetArea
    build: Callable[["MainWindow"], QWidget]
    tabify_with: str | None = None


def _log(window: "MainWindow") -> QWidget:
    from station.ui.log_dock import LogDock

    return LogDock(buffer=window.log_buffer)


def _engine(window: "MainWindow") -> QWidget:
    from station.ui.engine_dock import EngineDock

    return EngineDock(window)


def _watchlist(window: "MainWindow") -> QWidget:
    from station.ui.watchlist_dock import WatchlistDock

    return WatchlistDock(window)


def _script_feed(window: "MainWindow") -> QWidget:
    from station.domain.events import ScriptDataReceived
    from station.store.script_feed_repo import ScriptFeedRepository
    from station.ui.script_feed_dock import ScriptFeedDock

    dock = ScriptFeedDock(ScriptFeedRepository(window.station.store))
    window.bridge.on(ScriptDataReceived, dock.on_uploads)
    return dock


def _ninjatrader(window: "MainWindow") -> QWidget:
    from station.ui.ninjatrader_dock import NinjaTraderDock

    return NinjaTraderDock(window)


def _orders(window: "MainWindow") -> QWidget:
    from station.store.order_repo import OrderRepository
    from station.ui.orders_dock import OrdersDock

    return OrdersDock(window.bridge, OrderRepository(window.station.store))


def _fills(window: "MainWindow") -> QWidget:
    from station.store.order_repo import OrderRepository
    from station.ui.orders_dock import FillsDock

    return FillsDock(window.bridge, OrderRepository(window.station.store))


def _positions(window: "MainWindow") -> QWidget:
    from station.ui.positions_dock import PositionsDock

    return PositionsDock(window.bridge, window.station.oms.book.marked_positions())


def _manual(window: "MainWindow") -> QWidget:
    from station.ui.manual_panel import ManualTradingDock, add_trading_menu

    panel = ManualTradingDock(window.bridge, window.station.config.load, window.settings,
                              window.station.oms.book.kill_switch_reason)
    add_trading_menu(window, panel)
    return panel


def _strategies(window: "MainWindow") -> QWidget:
    from station.ui.strategies_dock import StrategiesDock

    return StrategiesDock(window.bridge, window.station.config)


def _chart(window: "MainWindow") -> QWidget:
    from station.ui.chart.manager import chart_docks

    return chart_docks(window).build()


def _ib(window: "MainWindow") -> QWidget:
    from station.ui.ib_dock import IbDock

    return IbDock(window)


def _alerts(window: "MainWindow") -> QWidget:
    from station.ui.alerts_dock import AlertsDock, add_webhook_menu

    dock = AlertsDock(window)
    add_webhook_menu(window, dock)
    return dock


PANELS: list[Panel] = [
    Panel("LogDock", "Log", Qt.BottomDockWidgetArea, _log),
    Panel("AlertsDock", "Alerts", Qt.TopDockWidgetArea, _alerts),
    Panel("EngineDock", "Engine", Qt.BottomDockWidgetArea, _engine, tabify_with="LogDock"),
    Panel("WatchlistDock", "Pairs watchlist", Qt.RightDockWidgetArea, _watchlist),
    Panel("ScriptFeedDock", "Script Feed", Qt.BottomDockWidgetArea, _script_feed, tabify_with="LogDock"),
    Panel("NinjaTraderDock", "NinjaTrader", Qt.BottomDockWidgetArea, _ninjatrader, tabify_with="LogDock"),
    Panel("StrategiesDock", "Strategies", Qt.LeftDockWidgetArea, _strategies),
    Panel("ManualTradingDock", "Manual Trading", Qt.RightDockWidgetArea, _manual),
    Panel("PositionsDock", "Positions && PnL", Qt.RightDockWidgetArea, _positions),
    Panel("OrdersDock", "Orders", Qt.BottomDockWidgetArea, _orders, tabify_with="LogDock"),
    Panel("FillsDock", "Fills", Qt.BottomDockWidgetArea, _fills, tabify_with="OrdersDock"),
    Panel("ChartDock", "Chart", Qt.LeftDockWidgetArea, _chart),
    Panel("IbDock", "Interactive Brokers", Qt.BottomDockWidgetArea, _ib, tabify_with="LogDock"),
]
