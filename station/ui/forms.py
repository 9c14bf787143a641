"""Dialogs designed in Qt Designer: `.ui` files from the `forms/` folder, loaded at run time."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QFile, QIODevice, QObject
from PySide6.QtUiTools import QUiLoader
from PySide6.QtWidgets import QWidget

from station.paths import forms_dir


class FormError(RuntimeError):
    """A form is missing or cannot be loaded."""


def form_path(name: str) -> Path:
    return forms_dir() / f"{name}.ui"


def all_forms() -> list[str]:
    """Names of every shipped form."""
    return sorted(p.stem for p in forms_dir().glob("*.ui"))


def load_form(name: str, parent: QWidget | None = None) -> QWidget:
    """Build the widget tree of `forms/<name>.ui`; child widgets are found with `findChild`."""
    path = form_path(name)
    file = QFile(str(path))
    if not file.open(QIODevice.ReadOnly):
        raise FormError(f"cannot open form {path}: {file.errorString()}")
    try:
        widget = QUiLoader().load(file, parent)
    finally:
        file.close()
    if widget is None:
        raise FormError(f"cannot load form {path}")
    fit_on_show(widget)
    return widget


class _FitOnShow(QObject):
    """At a window's first show: as tall as its content (not the designer's guess), within the screen."""

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        if event.type() == QEvent.Show:
            watched.removeEventFilter(self)
            if watched.isWindow():
                hint, screen = watched.sizeHint(), watched.screen().availableGeometry()
                watched.resize(min(max(watched.width(), hint.width()), screen.width() - 40),
                               min(max(hint.height(), watched.minimumSizeHint().height()), screen.height() - 80))
        return False


def fit_on_show(widget: QWidget) -> None:
    """Size `widget` to its content when it is first shown (the designer's width is kept where wider)."""
    widget.installEventFilter(_FitOnShow(widget))


def child(widget: QWidget, kind: type, name: str):
    """The named child of a loaded form, or FormError if the form lacks it."""
    found = widget.findChild(kind, name)
    if found is None:
        raise FormError(f"form {widget.objectName()} has no {kind.__name__} named {name!r}")
    return found
