"""Dialogs designed in Qt Designer: `.ui` files from the `forms/` folder, loaded at run time."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QFile, QIODevice
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
    return widget


def child(widget: QWidget, kind: type, name: str):
    """The named child of a loaded form, or FormError if the form lacks it."""
    found = widget.findChild(kind, name)
    if found is None:
        raise FormError(f"form {widget.objectName()} has no {kind.__name__} named {name!r}")
    return found
