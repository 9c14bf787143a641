"""Chart drawing with cached paths: candles, volume and indicator lines, in blocks of bars per detail level.

Each item draws blocks of `BLOCK` candles (at the detail level the zoom calls for)
as a few `QPainterPath`s built once with numpy (`arrayToQPath`) and cached; a frame
paints a handful of cached paths whatever the number of bars. A live update throws
away only the blocks at and after the changed bar, so a forming candle costs one
small block rebuild, not a redraw of the chart.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QLineF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainterPath, QPen

from station.ui.chart.series import ChartSeries

BLOCK = 256
CACHE_BLOCKS = 256
UP = "#26a69a"
DOWN = "#ef5350"

# A block is drawn as a few parts: (rectangles | segments | path, pen, brush). Qt's raster engine
# draws lists of QRectF/QLineF far faster than one path with hundreds of sub-paths.
Part = tuple[object, QPen | None, QBrush | None]


def rects(left: np.ndarray, bottom: np.ndarray, width: float, height: np.ndarray) -> list[QRectF]:
    """Rectangles (data coordinates)."""
    return list(map(QRectF, left.tolist(), bottom.tolist(), [width] * len(left), height.tolist()))


def segments(x: np.ndarray, y0: np.ndarray, y1: np.ndarray) -> list[QLineF]:
    """Vertical segments (data coordinates)."""
    xs = x.tolist()
    return list(map(QLineF, xs, y0.tolist(), xs, y1.tolist()))


class BlockedItem(pg.GraphicsObject):
    """Draws the visible blocks of its series at the level the zoom needs; subclasses build a block."""

    min_pixels = 1.0  # the narrowest a bar may be drawn at level 0 before merging bars

    def __init__(self, series: ChartSeries) -> None:
        super().__init__()
        self.series = series
        self._cache: OrderedDict[tuple[int, int], list[Part]] = OrderedDict()
        self._rect = QRectF()
        self.blocks_built = 0
        self.paints = 0

    def set_series(self, series: ChartSeries) -> None:
        self.series = series
        self.reset()

    def reset(self) -> None:
        """Forget every cached block (new data)."""
        self._cache.clear()
        self.refresh_bounds()

    def invalidate_from(self, index: int) -> None:
        """Forget blocks holding bar `index` or later (a live update)."""
        for level, block in [key for key in self._cache if (key[1] + 1) * (BLOCK << key[0]) > index]:
            del self._cache[(level, block)]
        self.refresh_bounds()

    def refresh_bounds(self) -> None:
        self.prepareGeometryChange()
        n = len(self.series)
        low, high = self.y_span(0, n) if n else (0.0, 1.0)
        if not np.isfinite(low) or not np.isfinite(high):
            low, high = 0.0, 1.0
        self._rect = QRectF(-1.0, low, n + 1.0, max(high - low, 1e-9))
        self.update()

    def y_span(self, lo: int, hi: int) -> tuple[float, float]:
        low, high, _ = self.series.bounds(lo, hi)
        return low, high

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._rect

    def paint(self, painter, option, widget=None) -> None:
        n = len(self.series)
        view = self.viewRect()
        if not n or view is None:
            return
        lo, hi = max(0, int(np.floor(view.left()))), min(n, int(np.ceil(view.right())) + 1)
        if hi <= lo:
            return
        bars_per_pixel = max(self.pixelWidth(), 1e-12)
        level = max(0, int(np.ceil(np.log2(max(bars_per_pixel * self.min_pixels, 1.0)))))
        self.paints += 1
        painter.setRenderHint(painter.RenderHint.Antialiasing, False)
        first, last = (lo >> level) // BLOCK, ((hi - 1) >> level) // BLOCK
        for block in range(first, last + 1):
            for shapes, pen, brush in self._block(level, block):
                painter.setPen(pen if pen is not None else Qt.NoPen)
                painter.setBrush(brush if brush is not None else Qt.NoBrush)
                if isinstance(shapes, QPainterPath):
                    painter.drawPath(shapes)
                elif shapes and isinstance(shapes[0], QRectF):
                    painter.drawRects(shapes)
                elif shapes:
                    painter.drawLines(shapes)

    def _block(self, level: int, block: int) -> list[Part]:
        key = (level, block)
        parts = self._cache.get(key)
        if parts is None:
            bars = self.series.level(level)
            lo, hi = block * BLOCK, min(len(bars.start), (block + 1) * BLOCK)
            group = 1 << level
            x = np.arange(lo, hi) * group + (group - 1) / 2.0
            parts = self._cache[key] = self.build(level, lo, hi, x, group)
            self.blocks_built += 1
            if len(self._cache) > CACHE_BLOCKS:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return parts

    def build(self, level: int, lo: int, hi: int, x: np.ndarray, group: int) -> list[Part]:
        raise NotImplementedError


def _pens(up: str, down: str, fade: float = 0.0, background: str = "#131722") -> tuple[QPen, QPen, QBrush, QBrush]:
    """Pens and brushes; `fade` mixes the colour into the background (opaque fills are much cheaper to draw)."""
    base = QColor(background)
    colors = []
    for name in (up, down):
        color = QColor(name)
        colors.append(QColor(*(round(c * (1 - fade) + b * fade) for c, b in
                               zip(color.getRgb()[:3], base.getRgb()[:3]))))
    pens = [pg.mkPen(c, width=1) for c in colors]  # cosmetic: one pixel whatever the zoom
    return pens[0], pens[1], QBrush(colors[0]), QBrush(colors[1])


class CandleItem(BlockedItem):
    """Candlesticks: wick from low to high, body from open to close, teal up and red down."""

    min_pixels = 4.0

    def __init__(self, series: ChartSeries) -> None:
        super().__init__(series)
        self.up_pen, self.down_pen, self.up_brush, self.down_brush = _pens(UP, DOWN)

    def build(self, level, lo, hi, x, group) -> list[Part]:
        bars = self.series.level(level)
        o, h, low, c = bars.open[lo:hi], bars.high[lo:hi], bars.low[lo:hi], bars.close[lo:hi]
        half = 0.36 * group
        bottom, top = np.minimum(o, c), np.maximum(o, c)
        parts: list[Part] = []
        for mask, pen, brush in ((c >= o, self.up_pen, self.up_brush), (c < o, self.down_pen, self.down_brush)):
            flat = mask & (top == bottom)  # a doji has no body to fill: a short horizontal line instead
            lines = segments(x[mask], low[mask], h[mask])
            lines += list(map(QLineF, (x[flat] - half).tolist(), top[flat].tolist(), (x[flat] + half).tolist(),
                              top[flat].tolist()))
            parts.append((lines, pen, None))
            body = mask & ~flat
            parts.append((rects(x[body] - half, bottom[body], 2 * half, (top - bottom)[body]), None, brush))
        return parts


class VolumeItem(BlockedItem):
    """Volume bars from zero, in the candle's colour, faded; merged like the candles above them."""

    min_pixels = CandleItem.min_pixels

    def __init__(self, series: ChartSeries) -> None:
        super().__init__(series)
        _, _, self.up_brush, self.down_brush = _pens(UP, DOWN, fade=0.55)

    def y_span(self, lo: int, hi: int) -> tuple[float, float]:
        return 0.0, self.series.bounds(lo, hi)[2]

    def build(self, level, lo, hi, x, group) -> list[Part]:
        bars = self.series.level(level)
        o, c, v = bars.open[lo:hi], bars.close[lo:hi], bars.volume[lo:hi]
        half = 0.4 * group
        return [(rects(x[m] - half, np.zeros(int(m.sum())), 2 * half, v[m]), None, brush)
                for m, brush in ((c >= o, self.up_brush), (c < o, self.down_brush))]


class LineItem(BlockedItem):
    """An indicator line over the bars (one value per bar; NaN where undefined)."""

    min_pixels = 2.0

    def __init__(self, series: ChartSeries, values, color: str, name: str) -> None:
        super().__init__(series)
        self.values = values  # a callable returning the current value array
        self.name = name
        self.pen = pg.mkPen(color, width=1)  # a one-pixel cosmetic line is the cheapest to rasterise

    def y_span(self, lo: int, hi: int) -> tuple[float, float]:
        return self.series.bounds(lo, hi)[:2]  # an average stays within the bars' range

    def build(self, level, lo, hi, x, group) -> list[Part]:
        values = self.values()
        n = len(values)
        if not n:
            return []
        # the value at each group's last bar, plus the next block's first point so blocks join up
        ends = np.unique(np.minimum(np.arange(lo, hi + 1) * group + group - 1, n - 1))
        return [(pg.functions.arrayToQPath(ends.astype(np.float64), values[ends], connect="finite"), self.pen, None)]
