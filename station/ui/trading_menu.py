"""The Trading menu: the Manual Trading panel's actions with their keyboard shortcuts, after View."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from station.ui.manual_panel import SHORTCUTS, ManualTradingDock
from station.ui.slots import connect

TRADING_MENU = (("buy", "&Buy"), ("sell", "&Sell"), ("close", "&Close position"), ("reverse", "&Reverse position"),
                None, ("call", "0DTE C&all"), ("put", "0DTE &Put"), None, ("flatten", "&Flatten All"),
                ("kill", "&Kill switch"))


def add_trading_menu(window, panel: ManualTradingDock) -> QMenu:
    """A "Trading" menu (after View) with the panel's actions and their keyboard shortcuts.

    The shortcuts themselves belong to the panel (window-wide QShortcuts); the menu shows them after a
    tab, which Qt draws as the shortcut column without registering a second, ambiguous shortcut.
    """
    menu = QMenu("&Trading", window)
    for entry in TRADING_MENU:
        if entry is None:
            menu.addSeparator()
            continue
        key, text = entry
        action = QAction(f"{text}\t{QKeySequence(SHORTCUTS[key]).toString(QKeySequence.NativeText)}", menu)
        connect(action.triggered, panel.actions_by_key[key])
        menu.addAction(action)
    bar = window.menuBar()
    after_view = next((a for a in bar.actions() if a.text() == "&Settings"), None)
    bar.insertMenu(after_view, menu) if after_view else bar.addMenu(menu)
    return menu
