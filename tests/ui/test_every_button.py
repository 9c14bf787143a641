"""Every button and menu entry of the window, clicked once: no slot raises, no task fails, nothing is left running.

Questions are answered "OK" (a name asked for keeps its suggestion), file pickers are
cancelled, menus and links do not open: what runs is each slot's own code, end to end
against a started Station.
"""

import asyncio
import sys

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import (QAbstractButton, QAbstractItemView, QApplication, QDialog, QDockWidget, QFileDialog, QMenu, QMessageBox,
                               QTabBar)

from support.launch import free_port, run_qt
from support.wait import until
from station.app import Options, Station
from station.ui import slots
from station.ui.launch import main_window

CONFIG = {
    "destinations": {"paper": {"type": "paper"}},
    "strategies": {"Momentum": {"tickers": {"ES": {"point_value": 50, "destinations": {"paper": {}}},
                                            "NQ": {"ports": [5001], "destinations": {"paper": {}}}}}},
}
SKIPPED_ACTIONS = ("&Quit", "&Full screen")  # the test's own window and screen


@pytest.fixture
def answered(monkeypatch):
    """Modal questions accepted, pickers cancelled, popups and links not opened; what was asked, in order."""
    asked = []

    def accept(dialog):
        asked.append(dialog.windowTitle())
        return QDialog.Accepted

    monkeypatch.setattr(QDialog, "exec", accept)
    monkeypatch.setattr(QMenu, "exec", lambda menu, *a, **k: asked.append(menu.title()))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: ("", ""))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: ("", ""))
    for name in ("question", "warning", "information", "critical"):
        monkeypatch.setattr(QMessageBox, name, lambda *a, **k: QMessageBox.Yes)
    monkeypatch.setattr(QMessageBox, "about", lambda *a, **k: None)
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: isinstance(url, QUrl))
    return asked


def clickable(widget) -> list[QAbstractButton]:
    """The buttons a trader can press: not a dock's own title buttons, not tab bars' scroll arrows; a button
    that pops up a menu is pressed through its menu's entries (Qt runs the popup's own loop in C++)."""
    return [b for b in widget.findChildren(QAbstractButton)
            if b.isEnabled() and not isinstance(b.parent(), (QDockWidget, QTabBar))
            and not (hasattr(b, "menu") and b.menu() is not None)]


def select_first_rows(widget) -> None:
    """Buttons acting on a selection get one: the first row of every list, table and tree."""
    for view in widget.findChildren(QAbstractItemView):
        model = view.model()
        if model is not None and model.rowCount() and view.selectionModel() is not None:
            view.setCurrentIndex(model.index(0, 0))


def popup_entries(widget) -> list[QAction]:
    """The entries of the menus buttons pop up, filled as when they show."""
    entries = []
    for button in widget.findChildren(QAbstractButton):
        menu = button.menu() if hasattr(button, "menu") else None
        if menu is not None and button.isEnabled():
            menu.aboutToShow.emit()
            entries += [a for a in menu.actions() if a.isEnabled() and not a.isSeparator()]
    return entries


def actions(menu_bar) -> list[QAction]:
    out, stack = [], list(menu_bar.actions())
    while stack:
        action = stack.pop(0)
        if action.menu():
            stack[:0] = action.menu().actions()
        elif not action.isSeparator() and action.isEnabled() and action.text() not in SKIPPED_ACTIONS:
            out.append(action)
    return out


def test_every_button_and_menu_entry_runs_without_an_error(qtbot, data_dir, secrets, monkeypatch, answered):
    raised = []
    monkeypatch.setattr(sys, "excepthook", lambda kind, exc, tb: raised.append(f"{kind.__name__}: {exc}"))

    async def scenario():
        station = Station(Options(data_dir=data_dir, port=free_port()), secrets)
        station.config.import_document(CONFIG)
        await station.start()
        asyncio.get_running_loop().set_exception_handler(lambda loop, context: raised.append(context.get("message")))
        sys.excepthook = lambda kind, exc, tb: raised.append(f"{kind.__name__}: {exc} {getattr(exc, '__notes__', '')}")
        earlier = set(QApplication.topLevelWidgets())  # other tests' windows: not ours to press
        window = main_window(station)
        window.show()
        pressed = []
        try:
            for button in clickable(window):
                select_first_rows(window)  # again each time: a saved edit rebuilds the lists
                pressed.append(button.text() or button.toolTip())
                button.click()
                await until(lambda: not slots.running(), 10, what=f"{pressed[-1]!r}'s work done")
            for action in popup_entries(window) + actions(window.menuBar()):
                pressed.append(action.text())
                action.trigger()
                await until(lambda: not slots.running(), 10, what=f"{pressed[-1]!r}'s work done")
            dialogs = [w for w in QApplication.topLevelWidgets()
                       if w is not window and w not in earlier and w.isVisible()]
            for dialog in dialogs:  # and the buttons of every dialog these opened
                for button in clickable(dialog):
                    if button.isVisible() and button.isEnabled():
                        pressed.append(f"{dialog.windowTitle()}: {button.text()}")
                        button.click()
                        await until(lambda: not slots.running(), 10, what=f"{pressed[-1]!r}'s work done")
            window.bridge.flush()
        finally:
            for widget in QApplication.topLevelWidgets():
                if widget is not window and widget not in earlier and widget.isVisible():
                    widget.close()
            window.close_without_asking()
            await until(lambda: not slots.running(), 10, what="the window's work done before Station stops")
            await station.stop()
        return pressed, window.statusBar().currentMessage()

    pressed, status = run_qt(scenario, timeout=120)
    assert not raised, raised
    assert not status.startswith("⚠"), status
    assert {"+ Strategy", "+ Ticker", "Remove", "Buy", "KILL SWITCH", "Flatten All", "History…"} <= set(pressed)
    assert len(pressed) > 60
