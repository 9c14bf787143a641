"""Grid lines at the axes' ticks, drawn as plain opaque lines (pyqtgraph's own grid costs ~10 ms a frame)."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QLineF, QRectF

GRID = "#1c2030"


class GridLines(pg.GraphicsObject):
    """Vertical lines at `x_axis` ticks and, with `y_axis`, horizontal lines at its ticks."""

    def __init__(self, x_axis: pg.AxisItem, y_axis: pg.AxisItem | None = None) -> None:
        super().__init__()
        self.x_axis, self.y_axis = x_axis, y_axis
        self.pen = pg.mkPen(GRID, width=1)
        self._rect = QRectF()
        self.setZValue(-10)

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._rect

    def viewRangeChanged(self) -> None:  # noqa: N802
        self.prepareGeometryChange()
        self._rect = self.viewRect() or QRectF()
        self.update()

    def paint(self, painter, option, widget=None) -> None:
        view = self.viewRect()
        if view is None or view.width() <= 0:
            return
        lines = [QLineF(x, view.top(), x, view.bottom())
                 for x in _values(self.x_axis.tickValues(view.left(), view.right(), self.x_axis.geometry().width()))]
        if self.y_axis is not None:
            ys = _values(self.y_axis.tickValues(view.top(), view.bottom(), self.y_axis.geometry().height()))
            lines += [QLineF(view.left(), y, view.right(), y) for y in ys]
        painter.setPen(self.pen)
        painter.drawLines(lines)


def _values(levels) -> list[float]:
    """Major tick values, plus the next level when the majors are few."""
    if not levels:
        return []
    values = list(levels[0][1])
    if len(values) < 4 and len(levels) > 1:
        values += list(levels[1][1])
    return values
