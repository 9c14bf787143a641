"""Questions asked before actions with consequences, each kind switched off on its own.

"Don't ask again" in the question about a Buy stops questions about orders only, never the
one before Flatten All, the kill switch, quitting with positions open or removing a strategy.
Settings > Confirmations lists every kind, to switch each back on (the window's settings keep them).
"""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QCheckBox, QDialog, QInputDialog, QLabel, QLineEdit, QMenu, QWidget

from station.ui.forms import child, load_form

# kind -> what the question is about (its "Don't ask again" and its Settings entry name it)
KINDS = {
    "order": "manual orders",
    "flatten": "Flatten All",
    "kill": "the kill switch",
    "quit": "quitting with positions open",
    "remove": "removing strategies, tickers and destinations",
}
KEYS = {"order": "manual/confirm"}  # the key "Confirm orders" always had


def key(kind: str) -> str:
    """The window settings' key of one kind of question."""
    if kind not in KINDS:
        raise KeyError(f"unknown kind of confirmation {kind!r}")
    return KEYS.get(kind, f"confirm/{kind}")


def asks(settings: QSettings, kind: str) -> bool:
    """Whether questions of `kind` are asked (they are until switched off)."""
    return settings.value(key(kind), True, type=bool)


def set_asks(settings: QSettings, kind: str, on: bool) -> None:
    settings.setValue(key(kind), bool(on))


def confirm(parent: QWidget, settings: QSettings, kind: str, text: str) -> bool:
    """Ask `text` (rich text) unless questions of `kind` are off; True to go ahead."""
    if not asks(settings, kind):
        return True
    dialog: QDialog = load_form("confirm_action", parent)
    child(dialog, QLabel, "message").setText(text)
    dont_ask = child(dialog, QCheckBox, "dontAsk")
    dont_ask.setText(f"Don't ask again before {KINDS[kind]} (Settings › Confirmations)")
    accepted = dialog.exec() == QDialog.Accepted
    if accepted and dont_ask.isChecked():
        set_asks(settings, kind, False)
    return accepted


def ask_text(parent: QWidget, title: str, label: str, text: str = "") -> str | None:
    """A line of text from the trader (stripped), or None when cancelled or left empty."""
    dialog = QInputDialog(parent)
    dialog.setWindowTitle(title)
    dialog.setLabelText(label)
    dialog.setTextEchoMode(QLineEdit.Normal)
    dialog.setTextValue(text)
    if dialog.exec() != QDialog.Accepted:
        return None
    return dialog.textValue().strip() or None


def confirmations_menu(parent: QWidget, settings: QSettings) -> QMenu:
    """Settings › Confirmations: one checkable entry per kind of question."""
    menu = QMenu("&Confirmations", parent)
    for kind, about in KINDS.items():
        action = menu.addAction(f"Ask before {about}")
        action.setCheckable(True)
        action.setData(kind)
        action.setChecked(asks(settings, kind))
        action.toggled.connect(lambda on, kind=kind: set_asks(settings, kind, on))
    menu.aboutToShow.connect(lambda: [a.setChecked(asks(settings, a.data())) for a in menu.actions()])
    return menu
