"""The chart itself: price (candles, averages, markers, last price, crosshair) over volume, on an ET time axis.

x is the bar index, so closed hours leave no gap. Only x pans and zooms (mouse drag
and wheel); y always fits the visible bars. The chart follows the newest bar until
the user moves away from it, and follows again once the newest bar is back in view.
Updates are applied in batches (`apply` then `refresh`), never one repaint per bar.
The read-out line has its own band above the plot; the last price and the crosshair's
price are badges on the price axis (`badges.py`), rounded to the symbol's tick.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel

from station.domain.marketdata import Bar, BarColumns
from station.ui import theme
from station.ui.chart.axis import ExchangeTimeAxis, to_eastern
from station.ui.chart.badges import AxisBadge
from station.ui.chart.grid import GridLines
from station.ui.chart.items import DOWN, UP, CandleItem, LineItem, VolumeItem
from station.ui.chart.markers import Marker
from station.ui.chart.overlays import MovingAverage
from station.ui.chart.series import ChartSeries

BACKGROUND = "#131722"
AXIS_WIDTH = 78
RIGHT_MARGIN_BARS = 4
DEFAULT_VISIBLE_BARS = 140
MAX_MARKERS = 2000
OVERLAY_COLORS = ("#f5c542", "#7e57c2", "#29b6f6", "#ff9800")
READOUT_HEIGHT = 22  # the band above the plot the read-out line sits in
CROSSHAIR_FILL = "#363a45"


def nice_ceiling(value: float) -> float:
    """`value` rounded up to 1, 2 or 5 × 10^k (the volume scale then changes only now and then)."""
    power = 10 ** np.floor(np.log10(value))
    return float(next(step * power for step in (1, 2, 5, 10) if step * power >= value))


def price_text(value: float, tick: float | None = None) -> str:
    """A price with as many decimals as its tick has (2 for ES's 0.25), else by its size."""
    if tick:
        decimals = next((d for d in range(0, 9) if abs(round(tick, d) - tick) < 1e-12), 8)
        return f"{value:,.{max(decimals, 2 if tick < 1 else 0)}f}"
    return f"{value:,.2f}" if abs(value) >= 10 else f"{value:,.4f}"


def round_to_tick(value: float, tick: float | None) -> float:
    return round(value / tick) * tick if tick else value


class ChartView(pg.GraphicsLayoutWidget):
    """Candles over volume with overlays, markers, a crosshair read-out and follow-the-newest scrolling."""

    followChanged = Signal(bool)  # noqa: N815

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setBackground(BACKGROUND)
        self.series = ChartSeries()
        self.follow = True
        self.overlays: list[tuple[MovingAverage, LineItem]] = []
        self.markers: list[Marker] = []
        self.tick: float | None = None  # the symbol's minimum price step, when known
        self._setting_range = False

        self.price = self.addPlot(row=0, col=0)
        self.volume = self.addPlot(row=1, col=0, axisItems={"bottom": ExchangeTimeAxis(lambda: self.series)})
        self.time_axis = self.volume.getAxis("bottom")
        self.ci.layout.setRowStretchFactor(0, 4)
        self.ci.layout.setRowStretchFactor(1, 1)
        self.ci.layout.setVerticalSpacing(0)
        self.ci.setContentsMargins(2, READOUT_HEIGHT, 2, 2)
        for plot in (self.price, self.volume):
            plot.hideAxis("left")
            plot.showAxis("right")
            plot.getAxis("right").setWidth(AXIS_WIDTH)
            plot.hideButtons()
            plot.setMenuEnabled(False)
            vb = plot.getViewBox()
            vb.setMouseEnabled(x=True, y=False)
            vb.disableAutoRange()
            for name in ("right", "bottom"):
                axis = plot.getAxis(name)
                axis.setPen(pg.mkPen("#2a2e39"))
                axis.setTextPen(pg.mkPen(theme.MUTED))
                axis.setStyle(tickFont=QFont(self.font().family(), 8))
        self.price.hideAxis("bottom")
        self.volume.setXLink(self.price)
        # The volume scale is read from the crosshair read-out; its axis only keeps the plots aligned.
        # Fewer axis labels also keep each frame cheap (pyqtgraph lays out every label in Python).
        self.volume.getAxis("right").setStyle(showValues=False, tickLength=0)
        self.price.getAxis("right").setStyle(maxTickLevel=1, maxTextLevel=1)

        self.price.addItem(GridLines(self.time_axis, self.price.getAxis("right")), ignoreBounds=True)
        self.volume.addItem(GridLines(self.time_axis), ignoreBounds=True)
        self.candles = CandleItem(self.series)
        self.volumes = VolumeItem(self.series)
        self.price.addItem(self.candles)
        self.volume.addItem(self.volumes)
        self.marker_item = pg.ScatterPlotItem(pxMode=True, hoverable=True, tip=lambda x, y, data: data or None)
        self.marker_item.setZValue(20)
        self.price.addItem(self.marker_item)
        self.last_line = pg.InfiniteLine(angle=0, movable=False, pen=pg.mkPen(UP, width=1, style=Qt.DotLine))
        self.last_line.setZValue(15)
        self.last_line.hide()
        self.price.addItem(self.last_line, ignoreBounds=True)
        self.last_badge = AxisBadge(self.price.getAxis("right"), self.price.getViewBox(), UP)
        self._crosshair()
        self.empty = pg.TextItem("", color=theme.MUTED, anchor=(0.5, 0.5))
        self.price.addItem(self.empty, ignoreBounds=True)

        self.readout = QLabel(self)
        self.readout.setTextFormat(Qt.RichText)
        self.readout.setAttribute(Qt.WA_TransparentForMouseEvents)
        self.readout.setStyleSheet("background: transparent; color: #d1d4dc; font-size: 12px; padding: 4px 8px;")
        self.readout.move(4, 2)

        self.price.getViewBox().sigXRangeChanged.connect(self._on_x_range)
        self.price.getViewBox().sigRangeChangedManually.connect(self._on_manual_range)
        self.volume.getViewBox().sigRangeChangedManually.connect(self._on_manual_range)
        self.set_empty("No data yet")

    # ---- data ---------------------------------------------------------------------------------

    def set_bars(self, bars: BarColumns) -> None:
        """Show `bars` (a history answer) and jump to the newest."""
        self.series.load(bars)
        self.time_axis.label_shift_ns = 12 * 3600 * 10**9 if bars.timeframe == "1d" else 0
        self.hide_crosshair()  # it pointed at a bar of what was shown before
        for item in (self.candles, self.volumes):
            item.reset()
        for average, line in self.overlays:
            average.update(0)
            line.reset()
        self.series.take_changes()
        self.set_empty("" if len(self.series) else f"Waiting for {bars.symbol} trades…")
        self.follow = True
        self.followChanged.emit(True)
        self._limits()
        self.show_latest(DEFAULT_VISIBLE_BARS)
        self._after_change()

    def apply(self, bars: list[Bar]) -> int:
        """Live bars (in order); returns how many changed the chart. Call `refresh` after a batch."""
        return sum(1 for bar in bars if self.series.apply(bar))

    def refresh(self) -> None:
        """Redraw what changed since the last refresh (tail blocks only)."""
        first = self.series.take_changes()
        if first >= len(self.series):
            return
        grew = self.candles.boundingRect().width() < len(self.series) + 1
        for item in (self.candles, self.volumes):
            item.invalidate_from(first)
        for average, line in self.overlays:
            average.update(first)
            line.invalidate_from(first)
        if self.empty.isVisible() and len(self.series):
            self.set_empty("")
        if grew:
            self._limits()
            if self.follow:
                self.show_latest()
                return
        self._fit_y()
        self._after_change()

    def show_latest(self, width: float | None = None) -> None:
        """Scroll so the newest bar is at the right edge (keeping the zoom)."""
        n = len(self.series)
        if width is None:
            lo, hi = self.price.getViewBox().viewRange()[0]
            width = hi - lo
        right = n - 1 + RIGHT_MARGIN_BARS
        self._set_x(right - width, right)

    def show_span(self, start_ns: int, end_ns: int) -> None:
        """Stop following and show the bars from `start_ns` to `end_ns` (a trade), with some bars around them."""
        if not len(self.series):
            return
        first, last = self.series.index_at(start_ns), self.series.index_at(end_ns)
        pad = max(10, (last - first) // 2)
        self.follow = False
        self.followChanged.emit(False)
        self._set_x(first - pad, last + pad)

    def go_live(self) -> None:
        self.follow = True
        self.followChanged.emit(True)
        self.show_latest()

    def set_overlays(self, specs: list[tuple[str, int]]) -> None:
        """Moving averages to draw, e.g. [("ema", 20), ("sma", 50)]."""
        for _, line in self.overlays:
            self.price.removeItem(line)
        self.overlays = []
        for number, (kind, length) in enumerate(specs):
            average = MovingAverage(self.series, kind, length)
            average.update(0)
            line = LineItem(self.series, average, OVERLAY_COLORS[number % len(OVERLAY_COLORS)], average.label)
            line.setZValue(10)
            self.price.addItem(line)
            self.overlays.append((average, line))

    def set_markers(self, markers: list[Marker]) -> None:
        """Every marker of the symbol shown (in market time), replacing those of what was shown before."""
        self.markers = list(markers)[-MAX_MARKERS:]
        self._draw_markers()

    def add_marker(self, marker: Marker) -> None:
        """An alert or a fill, drawn on the bar of its market time (not drawn outside the bars' time)."""
        self.markers.append(marker)
        del self.markers[:-MAX_MARKERS]
        self._draw_markers()

    def set_tick(self, tick: float | None) -> None:
        """The symbol's minimum price step: the crosshair's price rounds to it, prices show its decimals."""
        self.tick = tick

    def set_empty(self, text: str) -> None:
        self.empty.setText(text)
        self.empty.setVisible(bool(text))
        if text:
            lo, hi = self.price.getViewBox().viewRange()[0]
            y0, y1 = self.price.getViewBox().viewRange()[1]
            self.empty.setPos((lo + hi) / 2, (y0 + y1) / 2)

    # ---- ranges -------------------------------------------------------------------------------

    def _set_x(self, lo: float, hi: float) -> None:
        self._setting_range = True
        try:
            self.price.setXRange(lo, hi, padding=0)
        finally:
            self._setting_range = False
        self._fit_y()

    def _limits(self) -> None:
        n = max(len(self.series), 1)
        # a few bars sit at the right edge, as the newest bars always do, not alone at the left
        self.price.getViewBox().setLimits(xMin=-DEFAULT_VISIBLE_BARS, xMax=n + 200, minXRange=8,
                                         maxXRange=n + DEFAULT_VISIBLE_BARS + 200)

    def _on_x_range(self, *_):
        self._fit_y()

    def _on_manual_range(self, *_):
        n = len(self.series)
        right = self.price.getViewBox().viewRange()[0][1]
        following = right >= n - 1
        if following != self.follow:
            self.follow = following
            self.followChanged.emit(following)

    def _fit_y(self) -> None:
        lo, hi = self.price.getViewBox().viewRange()[0]
        low, high, volume = self.series.bounds(int(np.floor(lo)), int(np.ceil(hi)) + 1)
        if not np.isfinite(low):
            return
        pad = max((high - low) * 0.08, abs(high) * 1e-4, 1e-6)
        self.price.setYRange(low - pad, high + pad, padding=0)
        self.volume.setYRange(0, nice_ceiling(max(volume, 1.0) * 1.1), padding=0)

    # ---- decorations ----------------------------------------------------------------------------

    def _after_change(self) -> None:
        n = len(self.series)
        if not n:
            self.last_line.hide()
            self._readout(None)
            return
        close, open_ = self.series.column("close")[-1], self.series.column("open")[-1]
        color = UP if close >= open_ else DOWN
        self.last_line.setPen(pg.mkPen(color, width=1, style=Qt.DotLine))
        self.last_line.show()
        self.last_line.setValue(float(close))
        self.last_badge.set_fill(color)
        self.last_badge.show_price(float(close), price_text(float(close), self.tick))
        self._draw_markers()
        crosshair = int(self.crosshair_v.value()) if self.crosshair_v.isVisible() else None
        self._readout(crosshair if crosshair is not None and crosshair < n else n - 1)

    def _draw_markers(self) -> None:
        if not self.markers or not len(self.series):
            self.marker_item.clear()
            return
        spots = []
        closes = self.series.column("close")
        for marker in self.markers:
            i = self.series.index_within(marker.time_ns)
            if i is None:  # before the first bar, or after the newest one ends: not on this chart
                continue
            buy = marker.side == "buy"
            y = marker.price if marker.price is not None else float(closes[i])
            if marker.kind == "fill":
                spots.append({"pos": (i, y), "symbol": "d", "size": 11, "brush": pg.mkBrush(UP if buy else DOWN),
                              "pen": pg.mkPen("#ffffff", width=1), "data": marker.text})
            else:
                spots.append({"pos": (i, y), "symbol": "t1" if buy else "t", "size": 12, "pen": pg.mkPen(None),
                              "brush": pg.mkBrush("#42a5f5" if buy else "#ffa726"), "data": marker.text})
        self.marker_item.setData(spots)

    def _crosshair(self) -> None:
        pen = pg.mkPen("#9598a1", width=1, style=Qt.DashLine)
        self.crosshair_v = pg.InfiniteLine(angle=90, movable=False, pen=pen)
        self.crosshair_h = pg.InfiniteLine(angle=0, movable=False, pen=pen)
        self.cross_badge = AxisBadge(self.price.getAxis("right"), self.price.getViewBox(), CROSSHAIR_FILL, z=20)
        self.volume_v = pg.InfiniteLine(angle=90, movable=False, pen=pen)
        for line, plot in ((self.crosshair_v, self.price), (self.crosshair_h, self.price), (self.volume_v, self.volume)):
            line.setZValue(30)
            line.hide()
            plot.addItem(line, ignoreBounds=True)
        self._mouse = pg.SignalProxy(self.scene().sigMouseMoved, rateLimit=60, slot=self._on_mouse)

    def _on_mouse(self, event) -> None:
        position = event[0]
        inside = self.price.sceneBoundingRect().contains(position) or self.volume.sceneBoundingRect().contains(position)
        n = len(self.series)
        if not inside or not n:
            self.hide_crosshair()
            return
        for line in (self.crosshair_v, self.volume_v):
            line.show()
        point = self.price.getViewBox().mapSceneToView(position)
        i = int(min(max(round(point.x()), 0), n - 1))
        self.crosshair_v.setValue(i)
        self.volume_v.setValue(i)
        on_price = self.price.sceneBoundingRect().contains(position)
        y = round_to_tick(point.y(), self.tick)
        self.crosshair_h.setVisible(on_price)
        self.crosshair_h.setValue(y)
        self.cross_badge.show_price(y if on_price else None, price_text(y, self.tick))
        self._readout(i)

    def hide_crosshair(self) -> None:
        """No crosshair (the mouse left, or what is shown changed); the read-out shows the newest bar."""
        for line in (self.crosshair_v, self.crosshair_h, self.volume_v):
            line.hide()
        self.cross_badge.show_price(None)
        n = len(self.series)
        self._readout(n - 1 if n else None)

    def leaveEvent(self, event) -> None:  # noqa: N802
        super().leaveEvent(event)
        self.hide_crosshair()

    def hover(self, scene_pos: QPointF) -> None:
        """Move the crosshair as the mouse would (tests, screenshots)."""
        self._on_mouse((scene_pos,))

    def _readout(self, i: int | None) -> None:
        head = f"<b>{self.series.symbol}</b> · {self.series.timeframe}" if self.series.symbol else ""
        if i is None:
            self.readout.setText(head)
            self.readout.adjustSize()
            return
        column = self.series.column
        o, h, low, c, v = (float(column(k)[i]) for k in ("open", "high", "low", "close", "volume"))
        previous = float(column("close")[i - 1]) if i > 0 else o
        change = c - previous
        color = UP if change >= 0 else DOWN
        when = to_eastern(int(column("start")[i]))
        value = lambda label, x: f"<span style='color:{theme.MUTED}'>{label}</span> {price_text(x, self.tick)}"  # noqa: E731
        self.readout.setText(
            f"{head} &nbsp; <span style='color:{theme.MUTED}'>{when:%a %Y-%m-%d %H:%M} ET</span> &nbsp; "
            f"{value('O', o)} {value('H', h)} {value('L', low)} {value('C', c)} "
            f"<span style='color:{color}'>{'+' if change >= 0 else '-'}{price_text(abs(change), self.tick)} "
            f"({change / previous * 100 if previous else 0:+.2f}%)</span>"
            f" &nbsp; <span style='color:{theme.MUTED}'>Vol</span> {v:,.0f}")
        self.readout.adjustSize()
