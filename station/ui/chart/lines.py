"""A chart's lines: one toggle button per moving average, and a menu to add and remove them.

The menu offers the lines of the strategies trading the chart's symbol (an engine
strategy's `line1` and `line2`, e.g. EMA 9 and SMA 21), any line typed in (`EMA 9`,
`SMA 21`, `WILDER 14`), and removing a line. The chart's settings keep every line and
which are shown.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QMenu, QToolButton, QWidget

from station.ui.chart.overlays import line_label, parse_line
from station.ui.confirm import ask_text
from station.ui.slots import connect

DEFAULT_LINES = ("EMA 20", "SMA 50")
StrategyLines = Callable[[str], list[tuple[str, tuple[str, ...]]]]  # symbol -> [(strategy, its line labels)]


class LinesBar(QWidget):
    """Toggle buttons for the chart's lines and a "Lines" menu; `changed` when what is drawn changes."""

    changed = Signal()
    problem = Signal(str)  # a line typed in that cannot be read, and why

    def __init__(self, lines: tuple[str, ...] = DEFAULT_LINES, shown: tuple[str, ...] = ("EMA 20",),
                 strategy_lines: StrategyLines | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.strategy_lines = strategy_lines or (lambda symbol: [])
        self.symbol = ""
        self.buttons: dict[str, QToolButton] = {}
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(0, 0, 0, 0)
        self.row.setSpacing(4)
        self.menu_button = QToolButton(text="Lines")
        self.menu_button.setToolTip("Add a moving average (a strategy's own lines, or one typed in), or remove one")
        self.menu = QMenu(self)
        self.menu.aboutToShow.connect(self._fill_menu)
        self.menu_button.setMenu(self.menu)
        self.menu_button.setPopupMode(QToolButton.InstantPopup)
        self.row.addWidget(self.menu_button)
        for label in _known(lines) + [label for label in _known(shown) if label not in _known(lines)]:
            self._add_button(label, label in _known(shown))

    def lines(self) -> tuple[str, ...]:
        """Every line with a button, in order."""
        return tuple(self.buttons)

    def shown(self) -> tuple[str, ...]:
        """The lines drawn now."""
        return tuple(label for label, button in self.buttons.items() if button.isChecked())

    def specs(self) -> list[tuple[str, int]]:
        """What to draw: (kind, length) of each line shown."""
        return [parse_line(label) for label in self.shown()]

    def add(self, *labels: str) -> None:
        """Show lines (adding a button for each new one)."""
        for text in labels:
            label = line_label(*parse_line(text))
            if label in self.buttons:
                self.buttons[label].setChecked(True)
            else:
                self._add_button(label, True)
        self.changed.emit()

    def remove(self, label: str) -> None:
        button = self.buttons.pop(label, None)
        if button is not None:
            button.deleteLater()
            self.changed.emit()

    def ask(self) -> None:
        """Add the lines the trader types (`EMA 9, SMA 21`); a line that cannot be read is said, nothing added."""
        text = ask_text(self, "Add lines", "Moving averages to draw, e.g. EMA 9, SMA 21 or WILDER 14:")
        if not text:
            return
        try:
            labels = [line_label(*parse_line(part)) for part in text.split(",") if part.strip()]
        except ValueError as exc:
            self.problem.emit(str(exc))
            return
        self.add(*labels)

    def _add_button(self, label: str, checked: bool) -> None:
        button = QToolButton(text=label, checkable=True, checked=checked)
        button.setToolTip(f"Draw {label} (Lines adds or removes lines)")
        button.toggled.connect(lambda _on: self.changed.emit())
        self.buttons[label] = button
        self.row.insertWidget(self.row.count() - 1, button)

    def _fill_menu(self) -> None:
        self.menu.clear()
        connect(self.menu.addAction("Add a line…").triggered, self.ask)
        for strategy, labels in self.strategy_lines(self.symbol):
            action = self.menu.addAction(f"Lines of {strategy}: {', '.join(labels)}")
            connect(action.triggered, self.add, *labels)
        if self.buttons:
            self.menu.addSeparator()
        for label in self.buttons:
            connect(self.menu.addAction(f"Remove {label}").triggered, self.remove, label)


def _known(labels: tuple[str, ...]) -> list[str]:
    """The labels that read as lines, written alike (a setting from an older version may hold anything)."""
    out = []
    for text in labels:
        try:
            label = line_label(*parse_line(text))
        except ValueError:
            continue
        if label not in out:
            out.append(label)
    return out
