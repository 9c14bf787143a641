"""Labelled horizontal lines on the price plot: working orders and held exits (draggable, with an × to cancel) and
a position's average entry price.

A line's label says what it is (`LMT Buy 2 @ 5,012.25`, `STP -2 @ 4,998.00 held`, `Avg 5,010.00 +2`);
entries are coloured by side, exits by role (stop orange, target blue), held exits dashed, the average
gold. A drag reports once, on release (`moved(line, price)`); the × reports a click (`cancel(line)`).
Lines closer on screen than a label's height get their labels side by side (`stack_labels`), so a stop a
tick from its entry still reads, and each × still takes its own click.
"""

from __future__ import annotations

from typing import Callable

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QCursor

BUY, SELL = "#26a69a", "#ef5350"
STOP, TARGET, AVERAGE = "#ff9800", "#42a5f5", "#f5c542"
LABEL_FILL = (19, 23, 34, 225)  # the chart's background, nearly opaque: a label reads over candles
LABEL_AT, CANCEL_AT = 0.90, 0.955  # where along the visible width the label ends and the × sits
LANE_GAP_PX = 8  # between two labels side by side


class CancelMark(pg.InfLineLabel):
    """The × on an order's line: a click cancels the order."""

    def __init__(self, line: pg.InfiniteLine, color: str, on_click: Callable[[], None]) -> None:
        super().__init__(line, "×", position=CANCEL_AT, anchors=[(0.5, 0.5), (0.5, 0.5)], color="#ffffff",
                         fill=pg.mkBrush(QColor(color).darker(160)), border=pg.mkPen(color))
        self.on_click = on_click
        self.setCursor(QCursor(Qt.PointingHandCursor))
        self.setToolTip("Cancel this order")

    def mouseClickEvent(self, ev) -> None:  # noqa: N802
        if ev.button() == Qt.LeftButton:
            ev.accept()
            self.on_click()

    def hoverEvent(self, ev) -> None:  # noqa: N802 - the × takes the click, not the line under it
        if not ev.isExit():
            ev.acceptClicks(Qt.LeftButton)


class PriceLine(pg.InfiniteLine):
    """One horizontal line with its label; `key` names what it shows (an order's id, `avg:<destination>:…`)."""

    def __init__(self, key: str, price: float, text: str, color: str, *, dashed: bool = False,
                 movable: bool = False, cancel: Callable[[], None] | None = None,
                 moved: Callable[["PriceLine", float], None] | None = None) -> None:
        pen = pg.mkPen(color, width=1.4, style=Qt.DashLine if dashed else Qt.SolidLine)
        super().__init__(pos=price, angle=0, pen=pen, movable=movable,
                         hoverPen=pg.mkPen(QColor(color).lighter(140), width=2.4))
        self.key, self.color, self.dashed = key, color, dashed
        self.setZValue(25)
        self.label = pg.InfLineLabel(self, text, position=LABEL_AT, anchors=[(1, 0.5), (1, 0.5)], color=color,
                                     fill=pg.mkBrush(*LABEL_FILL), border=pg.mkPen(color))
        self.cancel_mark = CancelMark(self, color, cancel) if cancel is not None else None
        self.on_moved = moved
        if movable:
            self.setCursor(QCursor(Qt.SizeVerCursor))
            self.sigPositionChangeFinished.connect(self._finished)

    def text(self) -> str:
        return self.label.toPlainText()

    def show_as(self, price: float, text: str) -> None:
        """Where the line is and what it says now (not while the trader drags it)."""
        if not self.moving:
            self.setValue(price)
        self.label.setText(text)

    def _finished(self, _line) -> None:
        if self.on_moved is not None:
            self.on_moved(self, float(self.value()))


def stack_labels(lines: list[PriceLine], scene_y: Callable[[float], float], width_px: float) -> None:
    """Give each line a lane: the first whose last label is at least a label's height above it on screen. Lane 0 is
    the usual place; each further lane sits one label (and ×) further left."""
    if not lines or width_px <= 0:
        return
    labels = [line.label.boundingRect() for line in lines]
    marks = [line.cancel_mark.boundingRect().width() if line.cancel_mark else 0.0 for line in lines]
    # one lane further left: a label's width, the stretch to its ×, the × and a gap
    step = (CANCEL_AT - LABEL_AT) + (max(r.width() for r in labels) + max(marks) / 2 + LANE_GAP_PX) / width_px
    lanes: list[float] = []  # each lane's lowest label so far (scene y grows downwards)
    for line, rect in sorted(zip(lines, labels), key=lambda pair: scene_y(pair[0].value())):
        y = scene_y(line.value())
        lane = next((k for k, last in enumerate(lanes) if y - last >= rect.height()), len(lanes))
        if LABEL_AT - lane * step < step:  # no room further left: the usual place, overlapping
            lane = 0
        if lane == len(lanes):
            lanes.append(y)
        lanes[lane] = y
        line.label.setPosition(LABEL_AT - lane * step)
        if line.cancel_mark is not None:
            line.cancel_mark.setPosition(CANCEL_AT - lane * step)
