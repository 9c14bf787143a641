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


def _alerts(window: "MainWindow") -> QWidget:
    from station.ui.alerts_dock import AlertsDock, add_webhook_menu

    dock = AlertsDock(window)
    add_webhook_menu(window, dock)
    return dock


PANELS: list[Panel] = [
    Panel("LogDock", "Log", Qt.BottomDockWidgetArea, _log),
    Panel("AlertsDock", "Alerts", Qt.TopDockWidgetArea, _alerts),
]
