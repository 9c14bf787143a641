"""Buttons drawn in a table's cell (a delegate), so every row carries its own actions through model updates.

Index widgets would be lost or misplaced each time a live model inserts or refilters rows; a delegate
paints the buttons from the row as it is now and says which one was clicked (`clicked(name, record)`).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from station.ui import theme

GAP, PAD_X, MARGIN_Y = 4, 8, 1


class RowActions(QStyledItemDelegate):
    """Small buttons (name, label, colour, tooltip) in one column; `clicked` gives the button's name and the row's
    record (`Qt.UserRole` of the index)."""

    clicked = Signal(str, object)

    def __init__(self, buttons: list[tuple[str, str, str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.buttons = buttons

    def rects(self, option_rect: QRect, metrics) -> list[tuple[str, QRect]]:
        """Where each button is drawn in a cell."""
        out, x = [], option_rect.left() + GAP
        for name, label, _color, _tip in self.buttons:
            width = metrics.horizontalAdvance(label) + 2 * PAD_X
            out.append((name, QRect(x, option_rect.top() + MARGIN_Y, width, option_rect.height() - 2 * MARGIN_Y)))
            x += width + GAP
        return out

    def width(self, metrics) -> int:
        """The cell width all the buttons need."""
        return sum(metrics.horizontalAdvance(label) + 2 * PAD_X + GAP for _, label, _, _ in self.buttons) + GAP

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:  # noqa: N802
        return QSize(self.width(option.fontMetrics), option.fontMetrics.height() + 2 * MARGIN_Y + 2)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        if option.state & QStyle.State_Selected:
            painter.fillRect(option.rect, QColor(theme.SELECTION))
        painter.save()
        painter.setRenderHint(QPainter.Antialiasing)
        for (name, rect), (_, label, color, _tip) in zip(self.rects(option.rect, option.fontMetrics), self.buttons):
            painter.setPen(QColor(theme.CONTROL))
            painter.setBrush(QColor(color))
            painter.drawRoundedRect(rect, 3, 3)
            painter.setPen(QColor("#ffffff"))
            painter.drawText(rect, Qt.AlignCenter, label)
        painter.restore()

    def button_at(self, option_rect: QRect, metrics, pos) -> str | None:
        return next((name for name, rect in self.rects(option_rect, metrics) if rect.contains(pos)), None)

    def editorEvent(self, event: QEvent, model: Any, option: QStyleOptionViewItem, index: QModelIndex) -> bool:  # noqa: N802
        if event.type() == QEvent.MouseButtonRelease and event.button() == Qt.LeftButton:
            name = self.button_at(option.rect, option.fontMetrics, event.position().toPoint())
            if name is not None:
                self.clicked.emit(name, index.data(Qt.UserRole))
                return True
        return event.type() in (QEvent.MouseButtonPress, QEvent.MouseButtonDblClick) and \
            self.button_at(option.rect, option.fontMetrics, event.position().toPoint()) is not None

    def helpEvent(self, event, view, option, index) -> bool:  # noqa: N802 - each button's own tooltip
        name = self.button_at(option.rect, option.fontMetrics, event.pos())
        tip = next((t for n, _, _, t in self.buttons if n == name), None)
        if tip:
            from PySide6.QtWidgets import QToolTip

            QToolTip.showText(event.globalPos(), tip, view)
            return True
        return super().helpEvent(event, view, option, index)
