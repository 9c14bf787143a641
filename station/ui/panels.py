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

    return LogDock()


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
    from station.ui.manual_panel import ManualTradingDock

    return ManualTradingDock(window.bridge, window.station.config.load, window.settings,
                             window.station.oms.book.kill_switch_reason)


def _strategies(window: "MainWindow") -> QWidget:
    from station.ui.strategies_dock import StrategiesDock

    return StrategiesDock(window.bridge, window.station.config)


PANELS: list[Panel] = [
    Panel("LogDock", "Log", Qt.BottomDockWidgetArea, _log),
    Panel("StrategiesDock", "Strategies", Qt.LeftDockWidgetArea, _strategies),
    Panel("ManualTradingDock", "Manual Trading", Qt.RightDockWidgetArea, _manual),
    Panel("PositionsDock", "Positions && PnL", Qt.RightDockWidgetArea, _positions),
    Panel("OrdersDock", "Orders", Qt.BottomDockWidgetArea, _orders, tabify_with="LogDock"),
    Panel("FillsDock", "Fills", Qt.BottomDockWidgetArea, _fills, tabify_with="OrdersDock"),
]
