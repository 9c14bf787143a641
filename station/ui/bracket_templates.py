"""Named bracket templates (like NinjaTrader's ATM templates): a stop, a target and/or a trailing stop in ticks.

The trader picks one per click in the Manual Trading ticket (or none). They are the window's own settings
(`DockContext.settings`, key `manual/bracket_templates`, a JSON list), made, changed and deleted in
`TemplatesDialog`. A template becomes the order instructions' `stop_loss`, `take_profit` and
`trailing_stop` as `{"ticks": N}`, read by the same rules as an alert's.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from station.ui import theme

log = logging.getLogger("station.ui")

KEY = "manual/bracket_templates"
MAX_TICKS = 100_000


class TemplateError(ValueError):
    """A template that cannot be used (no name, no exit, a trailing stop with a stop)."""


@dataclass(frozen=True)
class BracketTemplate:
    """A named bracket: distances in ticks from the entry's fill (None: not part of it)."""

    name: str
    stop_ticks: int | None = None
    target_ticks: int | None = None
    trailing_ticks: int | None = None

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise TemplateError("a template needs a name")
        given = [t for t in (self.stop_ticks, self.target_ticks, self.trailing_ticks) if t is not None]
        if not given:
            raise TemplateError("give a stop, a target or a trailing stop")
        if any(not isinstance(t, int) or t <= 0 or t > MAX_TICKS for t in given):
            raise TemplateError(f"ticks are whole numbers from 1 to {MAX_TICKS:,}")
        if self.stop_ticks is not None and self.trailing_ticks is not None:
            raise TemplateError("a trailing stop replaces the stop: give one of them")

    def fields(self) -> dict[str, dict[str, int]]:
        """The order instructions' bracket fields, as an alert writes them."""
        out = {}
        for key, ticks in (("stop_loss", self.stop_ticks), ("take_profit", self.target_ticks),
                           ("trailing_stop", self.trailing_ticks)):
            if ticks is not None:
                out[key] = {"ticks": ticks}
        return out

    def summary(self) -> str:
        """`stop 8 · target 16 ticks`."""
        parts = [f"{word} {ticks}" for word, ticks in (("stop", self.stop_ticks), ("target", self.target_ticks),
                                                      ("trail", self.trailing_ticks)) if ticks is not None]
        return " · ".join(parts) + " ticks"

    def to_json(self) -> dict:
        return {"name": self.name, "stop_ticks": self.stop_ticks, "target_ticks": self.target_ticks,
                "trailing_ticks": self.trailing_ticks}


def load_templates(settings: QSettings) -> list[BracketTemplate]:
    """The saved templates, by name (an entry that cannot be read is logged and left out)."""
    text = settings.value(KEY, "[]")
    try:
        items = json.loads(text if isinstance(text, str) else "[]")
    except json.JSONDecodeError:
        log.warning("the bracket templates setting is not JSON; none loaded")
        return []
    templates = []
    for item in items if isinstance(items, list) else []:
        try:
            templates.append(BracketTemplate(str(item["name"]), item.get("stop_ticks"), item.get("target_ticks"),
                                             item.get("trailing_ticks")))
        except (TypeError, KeyError, TemplateError) as exc:
            log.warning("bracket template %r left out: %s", item, exc)
    return sorted(templates, key=lambda t: t.name.lower())


def save_templates(settings: QSettings, templates: list[BracketTemplate]) -> None:
    settings.setValue(KEY, json.dumps([t.to_json() for t in sorted(templates, key=lambda t: t.name.lower())]))
    settings.sync()


def _ticks_box(tooltip: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(0, MAX_TICKS)
    box.setSpecialValueText("none")
    box.setSuffix(" ticks")
    box.setToolTip(tooltip)
    return box


class TemplatesDialog(QDialog):
    """Bracket templates: pick one on the left, edit it on the right; New, Save and Delete."""

    saved = Signal()  # the templates changed (the ticket reloads them)

    def __init__(self, settings: QSettings, parent: QWidget | None = None, selected: str | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Bracket templates")
        self.settings = settings
        self.templates = load_templates(settings)
        self.names = QListWidget()
        self.names.setMinimumWidth(140)
        self.names.setMaximumWidth(180)
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. Scalp 8/16")
        self.stop = _ticks_box("The stop-loss, in ticks from the entry's fill (none: no stop)")
        self.target = _ticks_box("The take-profit, in ticks from the entry's fill (none: no target)")
        self.trailing = _ticks_box("A trailing stop, in ticks behind the best price since the fill (instead of a stop)")
        self.problem = QLabel("")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(f"color: {theme.RED}")
        self.problem.setMinimumHeight(2 * self.problem.fontMetrics().lineSpacing() + 4)  # room for a reason
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignRight | Qt.AlignVCenter)
        form.addRow("Name", self.name)
        form.addRow("Stop", self.stop)
        form.addRow("Target", self.target)
        form.addRow("Trailing stop", self.trailing)
        self.new_button, self.save_button, self.delete_button = QPushButton("New"), QPushButton("Save"), QPushButton("Delete")
        self.save_button.setDefault(True)
        buttons = QHBoxLayout()
        for button in (self.new_button, self.save_button, self.delete_button):
            buttons.addWidget(button)
        right = QVBoxLayout()
        right.addLayout(form)
        right.addWidget(self.problem)
        right.addStretch(1)
        right.addLayout(buttons)
        body = QHBoxLayout()
        body.addWidget(self.names)
        body.addLayout(right, 1)
        close = QDialogButtonBox(QDialogButtonBox.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(body)
        layout.addWidget(close)
        self.names.currentTextChanged.connect(self._show)
        self.new_button.clicked.connect(self.new)
        self.save_button.clicked.connect(self.save)
        self.delete_button.clicked.connect(self.delete)
        self._fill(selected)

    def _fill(self, selected: str | None = None) -> None:
        self.names.blockSignals(True)
        self.names.clear()
        self.names.addItems([t.name for t in self.templates])
        self.names.blockSignals(False)
        rows = [t.name for t in self.templates]
        if selected in rows:
            self.names.setCurrentRow(rows.index(selected))
        elif rows:
            self.names.setCurrentRow(0)
        else:
            self.new()
        self.delete_button.setEnabled(bool(rows))

    def _show(self, name: str) -> None:
        template = next((t for t in self.templates if t.name == name), None)
        if template is None:
            return
        self.name.setText(template.name)
        self.stop.setValue(template.stop_ticks or 0)
        self.target.setValue(template.target_ticks or 0)
        self.trailing.setValue(template.trailing_ticks or 0)
        self.problem.setText("")

    def new(self) -> None:
        """Empty fields for a new template (Save adds it)."""
        self.names.clearSelection()
        self.names.setCurrentRow(-1)
        self.name.setText("")
        self.stop.setValue(8)
        self.target.setValue(16)
        self.trailing.setValue(0)
        self.problem.setText("")
        self.name.setFocus()

    def edited(self) -> BracketTemplate:
        """The template as the fields say (TemplateError says what is wrong)."""
        value = lambda box: box.value() or None  # noqa: E731
        return BracketTemplate(self.name.text().strip(), value(self.stop), value(self.target), value(self.trailing))

    def save(self) -> bool:
        """Save the fields as the selected template (renamed if the name changed) or as a new one."""
        try:
            template = self.edited()
        except TemplateError as exc:
            self.problem.setText(str(exc))
            return False
        current = self.names.currentItem().text() if self.names.currentItem() else None
        others = [t for t in self.templates if t.name not in (current, template.name)]
        self.templates = sorted([*others, template], key=lambda t: t.name.lower())
        save_templates(self.settings, self.templates)
        self._fill(template.name)
        self.problem.setText("")
        self.saved.emit()
        return True

    def delete(self) -> None:
        item = self.names.currentItem()
        if item is None:
            return
        self.templates = [t for t in self.templates if t.name != item.text()]
        save_templates(self.settings, self.templates)
        self._fill()
        self.saved.emit()
