"""The main window: docks, menus, status bar; layout and geometry persist across restarts."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import QDockWidget, QFileDialog, QMainWindow, QMessageBox, QWidget

from station import __version__
from station.app import Station
from station.domain.events import ConnectionChanged, ErrorRaised
from station.store.validation import ConfigError
from station.ui.bridge import UiBridge
from station.ui.panels import PANELS, Panel
from station.ui.status_bar import StationStatusBar

log = logging.getLogger("station.ui")

LAYOUT_VERSION = 1  # bumped only when dock object names change incompatibly


class MainWindow(QMainWindow):
    """Station's window. Talks to the core only through the bridge (events in, commands out)."""

    closed = Signal()

    def __init__(self, station: Station) -> None:
        super().__init__()
        self.station = station
        self.setObjectName("MainWindow")
        self.setWindowTitle("Station — demo" if station.options.demo else "Station")
        self.setDockOptions(QMainWindow.AnimatedDocks | QMainWindow.AllowTabbedDocks | QMainWindow.AllowNestedDocks)
        self.resize(1280, 800)
        self.bridge = UiBridge(station.bus, parent=self)
        self.settings = QSettings(str(Path(station.options.data_dir) / "ui.ini"), QSettings.IniFormat)

        self.status = StationStatusBar(self)
        self.setStatusBar(self.status)
        self.bridge.on(ConnectionChanged, self.status.on_connections)
        self.bridge.on(ErrorRaised, self.status.on_errors)
        self.status.on_connections(list(station.connections.values()))

        self.docks: dict[str, QDockWidget] = {}
        self._build_menus()
        for panel in PANELS:
            self.add_panel(panel)
        from station.ui.notifications import TrayNotifier

        self.tray = TrayNotifier(self, self.bridge)
        self._default_state = self.saveState(LAYOUT_VERSION)
        self._restore_layout()

    # ---- docks --------------------------------------------------------------------------------

    def add_panel(self, panel: Panel) -> QDockWidget:
        """Create the dock for `panel` and list it in the View menu."""
        dock = QDockWidget(panel.title, self)
        dock.setObjectName(panel.object_name)
        dock.setWidget(panel.build(self))
        self.addDockWidget(panel.area, dock)
        if panel.tabify_with and panel.tabify_with in self.docks:
            self.tabifyDockWidget(self.docks[panel.tabify_with], dock)
        self.docks[panel.object_name] = dock
        self.view_menu.insertAction(self._view_separator, dock.toggleViewAction())
        return dock

    def dock_widget(self, object_name: str) -> QWidget:
        return self.docks[object_name].widget()

    # ---- menus --------------------------------------------------------------------------------

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "&Import config…", self._import_config, QKeySequence("Ctrl+I"))
        self._action(file_menu, "&Export config…", self._export_config, QKeySequence("Ctrl+E"))
        self._action(file_menu, "&Analyze alerts vs fills…", self.analyze)
        file_menu.addSeparator()
        self._action(file_menu, "Open &data folder", self._open_data_folder)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.Quit)

        self.view_menu = self.menuBar().addMenu("&View")
        self._view_separator = self.view_menu.addSeparator()
        self._action(self.view_menu, "&Reset layout", self.reset_layout)

        settings_menu = self.menuBar().addMenu("&Settings")
        self._action(settings_menu, "REST &API and notifications…", self.show_api_settings)

        help_menu = self.menuBar().addMenu("&Help")
        self._action(help_menu, "&About Station", self._about)

    def _action(self, menu, text, slot, shortcut=None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def show_api_settings(self):
        """The API token (to copy or renew) and e-mail notification settings."""
        from station.ui.notifications import ApiNotificationsDialog

        self._api_settings = ApiNotificationsDialog(self.station, self)
        self._api_settings.dialog.open()
        return self._api_settings

    def analyze(self):
        """File > Analyze…: the alerts-vs-fills report, written in a worker thread, then opened."""
        from station.ui.analysis_dialog import AnalysisRunner

        if getattr(self, "analysis", None) is None:
            self.analysis = AnalysisRunner(self)
        return self.analysis.ask()

    def _about(self) -> None:
        from station.ui.about import show_about

        show_about(self.station, self)

    def _open_data_folder(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.station.options.data_dir)))

    def _import_config(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import config", "", "Station config (*.json);;All files (*)")
        if path:
            asyncio.ensure_future(self.import_config(Path(path)))

    async def import_config(self, path: Path) -> bool:
        """Import a config file; the result or the exact error is shown to the trader."""
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            revision = await self.station.config.import_document_async(document)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, ConfigError) as exc:
            log.warning("config import from %s failed: %s", path, exc)
            QMessageBox.warning(self, "Import config", f"Nothing was imported from {path.name}:\n\n{exc}")
            return False
        log.info("config imported from %s (revision %d)", path, revision)
        self.status.showMessage(f"Config imported from {path.name}", 8000)
        return True

    def _export_config(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export config", "station-config.json", "Station config (*.json)")
        if not path:
            return
        try:
            Path(path).write_text(json.dumps(self.station.config.export_document(), indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            QMessageBox.warning(self, "Export config", f"Cannot write {path}:\n\n{exc}")
            return
        self.status.showMessage(f"Config exported to {path}", 8000)

    # ---- layout persistence ---------------------------------------------------------------

    def _restore_layout(self) -> None:
        geometry = self.settings.value("geometry")
        state = self.settings.value("windowState")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray) and not self.restoreState(state, LAYOUT_VERSION):
            log.info("saved dock layout does not fit this version; using the default")

    def save_layout(self) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("windowState", self.saveState(LAYOUT_VERSION))
        self.settings.sync()

    def reset_layout(self) -> None:
        """Put every dock back where it starts on a fresh install."""
        self.restoreState(self._default_state, LAYOUT_VERSION)
        for dock in self.docks.values():
            dock.show()
        self.save_layout()

    def closeEvent(self, event) -> None:  # noqa: N802
        self.save_layout()
        self.bridge.close()
        for dock in self.docks.values():
            detach = getattr(dock.widget(), "detach", None)
            if detach:
                detach()
        event.accept()
        self.closed.emit()
