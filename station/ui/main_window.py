"""The main window: docks, menus, status bar; layout and geometry persist across restarts."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import QDockWidget, QFileDialog, QMainWindow, QMessageBox, QWidget

from station.domain.events import ConnectionChanged, ErrorRaised, KillSwitchChanged, OrderFilled, PositionsMarked
from station.domain.validation import ConfigError
from station.ui import layout
from station.ui.confirm import confirm, confirmations_menu
from station.ui.context import DockContext
from station.ui.panels import PANELS, Panel
from station.ui.positions_dock import PnlSummary
from station.ui.side_column import SideColumn
from station.ui.sounds import FillSound
from station.ui.status_bar import StationStatusBar
from station.ui.slots import connect, run_task, slot

log = logging.getLogger("station.ui")

LAYOUT_VERSION = 1  # bumped only when dock object names change incompatibly
DEFAULT_SIZE = (1600, 1000)  # first start, where the screen has room
MINIMUM_SIZE = (1024, 640)  # a 1280x800 laptop's screen, less taskbar and title bar, still fits it
GO_TO = (("AlertsDock", "&Alerts", "Ctrl+1"), ("OrdersDock", "&Orders", "Ctrl+2"),
         ("PositionsDock", "&Positions && PnL", "Ctrl+3"), ("FillsDock", "&Fills", "Ctrl+4"),
         ("ChartDock", "&Chart", "Ctrl+5"), ("ManualTradingDock", "&Manual Trading", "Ctrl+6"),
         ("StrategiesDock", "&Strategies", "Ctrl+7"), ("LogDock", "&Log", "Ctrl+8"))


class MainWindow(QMainWindow):
    """Station's window: events in through the bridge, reads through the queries, commands out.

    Built from a `DockContext` (ui/launch.py makes it); it hands the context on to every dock.
    """

    closed = Signal()

    def __init__(self, context: DockContext) -> None:
        super().__init__()
        self.context = context
        self.setObjectName("MainWindow")
        self.setWindowTitle("Station — demo" if context.info.demo else "Station")
        self.setDockOptions(QMainWindow.AnimatedDocks | QMainWindow.AllowTabbedDocks | QMainWindow.AllowNestedDocks)
        self._fit_to_screen()
        self.bridge = context.bridge
        self.bridge.setParent(self)  # its timer lives as long as the window
        self.settings = context.settings

        self.status = StationStatusBar(self)
        self.setStatusBar(self.status)
        self.bridge.on(ConnectionChanged, self.status.on_connections)
        self.bridge.on(ErrorRaised, self.status.on_errors)
        self.bridge.on(PositionsMarked, self.status.on_positions)
        self.bridge.on(KillSwitchChanged, self.status.on_kill_switch)
        self.status.on_connections(context.queries.connections.latest_connections())
        book = context.queries.book
        self.status.show_kill_switch(book.kill_switch_reason, book.kill_switch_since)
        self.fill_sound = FillSound(context.settings, self)
        self.bridge.on(OrderFilled, self.fill_sound.on_fills)
        self.status.show_pnl(PnlSummary.of(context.queries.book.marked_positions()))

        self.docks: dict[str, QDockWidget] = {}
        self.panels: dict[str, Panel] = {}
        self.side_column = SideColumn(self)  # keeps its width when the window's width changes
        self._build_menus()
        for panel in PANELS:
            self.add_panel(panel)
        from station.ui.notifications import TrayNotifier

        self.tray = TrayNotifier(self, self.bridge)
        self.setCentralWidget(layout.chart_room())
        layout.arrange(self)
        self._order_view_menu()
        self._needs_sizing = not self._restore_layout()
        self._quit_asked = False  # a stop by signal (SIGTERM, SIGINT) closes without a question

    # ---- docks --------------------------------------------------------------------------------

    def add_panel(self, panel: Panel) -> QDockWidget:
        """Create the dock for `panel` and list it in the View menu."""
        dock = QDockWidget(panel.title, self)
        dock.setObjectName(panel.object_name)
        dock.setWidget(panel.build(self.context, self))
        self.addDockWidget(panel.area, dock)
        if panel.tabify_with and panel.tabify_with in self.docks:
            self.tabifyDockWidget(self.docks[panel.tabify_with], dock)
        self.docks[panel.object_name] = dock
        self.panels[panel.object_name] = panel
        self.side_column.watch(dock)
        self.add_view_action(dock.toggleViewAction())
        return dock

    def add_view_action(self, action: QAction) -> None:
        """List a dock's show/hide action in the View menu (above Go to, Full screen, Reset layout)."""
        self.view_menu.insertAction(self._view_separator, action)

    def dock_widget(self, object_name: str) -> QWidget:
        return self.docks[object_name].widget()

    def go_to(self, object_name: str) -> None:
        """Show a dock, bring its tab to the front and put the keyboard in it."""
        dock = self.docks.get(object_name)
        if dock is None:
            return
        dock.show()
        dock.raise_()
        dock.widget().setFocus(Qt.ShortcutFocusReason)

    def _order_view_menu(self) -> None:
        """List the docks in the View menu as Go to does (the trading ones first), then the others."""
        first = [name for name, _title, _key in GO_TO if name in self.docks]
        for name in first + [n for n in self.docks if n not in first]:
            action = self.docks[name].toggleViewAction()
            self.view_menu.removeAction(action)
            self.view_menu.insertAction(self._view_separator, action)

    def _toggle_full_screen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    # ---- menus --------------------------------------------------------------------------------

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "&Import config…", self._import_config, QKeySequence("Ctrl+I"))
        self._action(file_menu, "&Export config…", self._export_config, QKeySequence("Ctrl+E"))
        self._action(file_menu, "&Analyze alerts vs fills…", self.analyze, QKeySequence("Ctrl+Shift+A"))
        file_menu.addSeparator()
        self._action(file_menu, "Open &data folder", self._open_data_folder)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.Quit)

        self.view_menu = self.menuBar().addMenu("&View")
        self._view_separator = self.view_menu.addSeparator()
        go_to = self.view_menu.addMenu("&Go to")
        for name, title, key in GO_TO:
            self._action(go_to, title, slot(self.go_to, name), QKeySequence(key))
        self._action(self.view_menu, "&Full screen", self._toggle_full_screen, QKeySequence("F11"))
        self._action(self.view_menu, "&Reset layout", self.reset_layout, QKeySequence("Ctrl+Shift+R"))

        settings_menu = self.menuBar().addMenu("&Settings")
        self._action(settings_menu, "&Accounts && keys…", self.show_accounts)
        self._action(settings_menu, "REST &API and notifications…", self.show_api_settings, QKeySequence("Ctrl+,"))
        settings_menu.addMenu(confirmations_menu(self, self.settings))
        settings_menu.addAction(self.fill_sound.action(self))

        from station.ui.help_menu import fill_help_menu

        self.help_actions = fill_help_menu(self.menuBar().addMenu("&Help"), self, self.context.info, self._about)

    def _action(self, menu, text, slot, shortcut=None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        connect(action.triggered, slot)
        menu.addAction(action)
        return action

    def show_accounts(self, tab: str = "station"):
        """Settings → Accounts & keys: every secret, the keyring holding them, the tests of each service."""
        from station.ui.accounts_dialog import AccountsDialog

        self._accounts = AccountsDialog(self.context, self)
        self._accounts.open(tab)
        return self._accounts

    def show_api_settings(self):
        """The API token (to copy or renew) and e-mail notification settings."""
        from station.ui.notifications import ApiNotificationsDialog

        self._api_settings = ApiNotificationsDialog(self.context, self)
        self._api_settings.open()
        return self._api_settings

    def analyze(self):
        """File > Analyze…: the alerts-vs-fills report, written in a worker thread, then opened."""
        from station.ui.analysis_dialog import AnalysisRunner

        if getattr(self, "analysis", None) is None:
            self.analysis = AnalysisRunner(self.context, self, self.status)
        return self.analysis.ask()

    def _about(self) -> None:
        from station.ui.about import show_about

        show_about(self.context.info, self)

    def _open_data_folder(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.context.info.data_dir)))

    def _import_config(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import config", "", "Station config (*.json);;All files (*)")
        if path:
            run_task(self.import_config(Path(path)))

    async def import_config(self, path: Path) -> bool:
        """Import a config file; the result or the exact error is shown to the trader."""
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            revision = await self.context.edits.import_document(document)
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
            document = self.context.queries.config.export_document()
            Path(path).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            QMessageBox.warning(self, "Export config", f"Cannot write {path}:\n\n{exc}")
            return
        self.status.showMessage(f"Config exported to {path}", 8000)

    # ---- layout persistence ---------------------------------------------------------------

    def _fit_to_screen(self) -> None:
        """First start: as large as the screen allows up to 1600x1000; never below what a 1280x800 laptop shows."""
        screen = self.screen().availableGeometry()
        self.setMinimumSize(min(MINIMUM_SIZE[0], screen.width()), min(MINIMUM_SIZE[1], screen.height()))
        self.resize(min(DEFAULT_SIZE[0], screen.width()), min(DEFAULT_SIZE[1], screen.height()))

    def _restore_layout(self) -> bool:
        """Restore the saved geometry and dock layout; False if there was no usable layout."""
        geometry = self.settings.value("geometry")
        state = self.settings.value("windowState")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if not isinstance(state, QByteArray):
            return False
        if not self.restoreState(state, LAYOUT_VERSION):
            log.info("saved dock layout does not fit this version; using the default")
            return False
        return True

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if self._needs_sizing:  # the default layout depends on the window's size, known from now on
            self._needs_sizing = False
            layout.apply_default(self)
        QTimer.singleShot(0, self.side_column.note)  # the column's width as laid out or restored

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.side_column.window_resized()

    def save_layout(self) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("windowState", self.saveState(LAYOUT_VERSION))
        self.settings.sync()

    def reset_layout(self) -> None:
        """Put every dock back where it starts on a fresh install, sized for the window as it is."""
        layout.apply_default(self)
        self.side_column.note()
        self.save_layout()

    def close_without_asking(self) -> None:
        """Close as asked from outside (SIGTERM, SIGINT): no question, whatever is open."""
        self._quit_asked = True
        self.close()

    def may_quit(self) -> bool:
        """With positions open, ask first (a kind of question that can be switched off)."""
        held = [m.position for m in self.context.queries.book.marked_positions(include_flat=False)]
        if not held:
            return True
        shown = ", ".join(f"{p.qty:+} {p.ticker} ({p.strategy or 'unattributed'} at {p.destination})" for p in held[:6])
        more = f" and {len(held) - 6} more" if len(held) > 6 else ""
        count = f"{len(held)} position{'s' if len(held) != 1 else ''} open"
        return confirm(self, self.settings, "quit",
                       f"<b>Quit with {count}?</b><br>{shown}{more}.<br><br>They stay open at their destinations "
                       f"(paper positions are kept for the next start); nothing watches them while Station is closed.")

    def closeEvent(self, event) -> None:  # noqa: N802
        if not self._quit_asked and not self.may_quit():
            event.ignore()
            return
        self._quit_asked = True
        self.save_layout()
        self.bridge.close()
        for dock in self.docks.values():
            detach = getattr(dock.widget(), "detach", None)
            if detach:
                detach()
        event.accept()
        self.closed.emit()
