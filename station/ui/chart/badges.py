"""Prices in coloured boxes on the price axis (the last price, the crosshair's), never over the candles.

A badge is a child of the right axis, so it is drawn in the axis's strip beside the plot,
moved to its price's height whenever the price, the view's range or the plot's size
changes; it hides when its price is out of view. Being part of its own chart's axis, it
goes away with that chart: nothing of one chart is left drawn over another.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPen
from PySide6.QtWidgets import QGraphicsRectItem, QGraphicsSimpleTextItem

PAD_X, PAD_Y = 5, 2


class AxisBadge(QGraphicsRectItem):
    """A price shown on the axis at its height; `show_price(None)` hides it."""

    def __init__(self, axis: pg.AxisItem, view: pg.ViewBox, fill: str, *, z: float = 10) -> None:
        super().__init__(axis)
        self.axis, self.view = axis, view
        self.price: float | None = None
        self.setPen(QPen(Qt.NoPen))
        self.setZValue(z)
        self.label = QGraphicsSimpleTextItem(self)
        self.label.setBrush(QBrush(QColor("#ffffff")))
        self.label.setFont(QFont(axis.font().family(), 8))
        self.set_fill(fill)
        self.hide()
        view.sigRangeChanged.connect(self.place)
        view.sigResized.connect(self.place)

    def set_fill(self, color: str) -> None:
        self.setBrush(QBrush(QColor(color)))

    def show_price(self, price: float | None, text: str = "") -> None:
        self.price = price
        if price is None:
            self.hide()
            return
        self.label.setText(text)
        self.place()

    def place(self, *_) -> None:
        """Put the badge at its price's height on the axis (hidden when the price is out of view)."""
        if self.price is None:
            return
        low, high = self.view.viewRange()[1]
        if high <= low:
            self.hide()
            return
        # from the range and the view's place in the scene, not `mapViewToScene`: that would bring the view's
        # deferred transform up to date in the middle of a range change and cost a second paint of the chart
        box = self.view.sceneBoundingRect()
        scene_y = box.top() + (high - self.price) / (high - low) * box.height()
        y = self.axis.mapFromScene(QPointF(0, scene_y)).y()
        height = self.label.boundingRect().height() + 2 * PAD_Y
        bounds = self.axis.boundingRect()
        if not bounds.top() <= y <= bounds.bottom():
            self.hide()
            return
        top = min(max(y - height / 2, bounds.top()), bounds.bottom() - height)
        self.setRect(QRectF(0, top, bounds.width(), height))
        self.label.setPos(PAD_X, top + PAD_Y)
        self.show()

    def text(self) -> str:
        """What the badge shows ('' while hidden)."""
        return self.label.text() if self.isVisible() else ""
