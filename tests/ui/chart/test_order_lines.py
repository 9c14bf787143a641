"""Order lines a tick apart on screen: their labels and × buttons stand side by side, none over another; lines far
apart keep the usual place."""

import pyqtgraph as pg
from PySide6.QtCore import QPointF

from station.ui.chart.order_lines import CANCEL_AT, LABEL_AT, STOP, TARGET, BUY, PriceLine, stack_labels


def test_labels_of_close_lines_stand_side_by_side(qtbot):
    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    plot.resize(900, 500)
    plot.show()
    qtbot.waitExposed(plot)
    box = plot.getViewBox()
    box.setRange(xRange=(0, 100), yRange=(4900, 5100), padding=0)  # 200 points on ~470 px: a tick is ~0.6 px
    specs = [(5000.0, "LMT Buy 2 @ 5,000.00", BUY), (4999.75, "STP -2 @ 4,999.75 held", STOP),
             (5000.25, "TGT -2 @ 5,000.25 held", TARGET), (5060.0, "LMT Buy 1 @ 5,060.00", BUY)]
    lines = [PriceLine(f"o{i}", price, text, color, movable=True, cancel=lambda: None)
             for i, (price, text, color) in enumerate(specs)]
    for line in lines:
        plot.addItem(line, ignoreBounds=True)

    def scene_y(price):
        return box.mapViewToScene(QPointF(0, price)).y()

    stack_labels(lines, scene_y, box.width())
    qtbot.wait(20)
    close = lines[:3]
    rects = [item.sceneBoundingRect() for line in close for item in (line.label, line.cancel_mark)]
    overlaps = [(a, b) for i, a in enumerate(rects) for b in rects[i + 1:] if a.intersects(b)]
    assert not overlaps
    assert all(r.right() <= box.sceneBoundingRect().right() and r.left() >= box.sceneBoundingRect().left()
               for r in rects)  # all inside the plot
    assert sorted(line.label.orthoPos for line in close)[-1] == LABEL_AT  # one keeps the usual place
    assert (lines[3].label.orthoPos, lines[3].cancel_mark.orthoPos) == (LABEL_AT, CANCEL_AT)  # far away: unmoved
    plot.grab().save("/tmp/shots/order_lines_stacked.png")

    box.setRange(yRange=(4999, 5001), padding=0)  # zoomed in: the lines are far apart on screen again
    stack_labels(lines, scene_y, box.width())
    assert {line.label.orthoPos for line in lines} == {LABEL_AT}
