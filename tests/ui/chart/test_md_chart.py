"""Chart docks offscreen: a screenshot of real bars, live updates, follow/pan, pickers, markers, read-out, axis."""

import asyncio
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QWheelEvent
from PySide6.QtWidgets import QApplication

from station.bus import Bus
from station.domain.alert import Alert
from station.domain.enums import Side
from station.domain.events import AlertReceived, OrderFilled
from station.domain.fills import Fill
from station.domain.marketdata import Bar
from station.marketdata.databento.files import DbnFile
from station.marketdata.hub import BarHub
from station.marketdata.service import sample_path
from station.marketdata.trades import TradeBatch
from station.ui.bridge import UiBridge
from station.bench.chart import synthetic_bars
from support.wait import wait_until
from station.ui.chart.dock import ChartDock
from station.ui.chart.items import DOWN, UP
from station.ui.chart.series import ChartSeries
from station.ui.chart.view import ChartView

UTC = timezone.utc


@pytest.fixture(autouse=True)
def dark_theme(qapp):
    from station.ui.theme import apply_theme

    apply_theme(qapp)


@pytest.fixture(scope="module")
def sample_hub():
    hub = BarHub(Bus(), timeframes=("1m",))
    for batch in DbnFile(sample_path()).batches():
        hub.ingest(batch)
    return hub


def repainted(view: ChartView) -> None:
    """Until the candles have painted again (Qt hands scene changes and paints over on posted events)."""
    before = view.candles.paints
    wait_until(lambda: QApplication.processEvents() or view.candles.paints > before, what="a repaint of the candles")


def shown_view(qtbot, bars, width=900, height=500) -> ChartView:
    """A chart on screen (offscreen) showing `bars`, painted once."""
    view = ChartView()
    qtbot.addWidget(view)
    view.resize(width, height)
    view.show()
    view.set_bars(bars)
    repainted(view)
    return view


def color_share(image, color: str, tolerance: int = 12) -> float:
    """The share of sampled pixels close to `color`."""
    target = QColor(color)
    hits = total = 0
    for x in range(0, image.width(), 3):
        for y in range(0, image.height(), 3):
            pixel = image.pixelColor(x, y)
            total += 1
            hits += all(abs(a - b) <= tolerance for a, b in zip(pixel.getRgb()[:3], target.getRgb()[:3]))
    return hits / total


def test_a_professional_looking_chart_of_the_sample(qtbot, sample_hub, tmp_path):
    view = ChartView()
    qtbot.addWidget(view)
    view.resize(1100, 620)
    view.show()
    view.set_overlays([("ema", 20), ("sma", 50)])
    view.set_bars(sample_hub.series[("ES", "1m")].columns())
    view.show_latest(240)
    repainted(view)
    last = len(view.series) - 60
    view.hover(view.price.getViewBox().mapViewToScene(QPointF(last, float(view.series.column("close")[last]))))
    repainted(view)
    image = view.grab().toImage()
    view.grab().save(str(tmp_path / "chart.png"))
    dark = [image.pixelColor(x, y).lightness() < 50 for x in range(0, 1100, 7) for y in range(0, 620, 7)]
    assert sum(dark) / len(dark) > 0.8  # the dark theme
    assert color_share(image, UP) > 0.004 and color_share(image, DOWN) > 0.004  # candles of both colours
    text = view.readout.text()
    bar = [float(view.series.column(k)[last]) for k in ("open", "high", "low", "close")]
    assert "ES" in text and "ET" in text and all(f"{v:,.2f}" in text for v in bar)
    labels = view.time_axis.tickStrings(view.time_axis.tickValues(*view.price.getViewBox().viewRange()[0], 1000)[0][1],
                                        1, 60)
    assert labels and all(len(label) == 5 and label[2] == ":" for label in labels)  # 13:30, 14:00, … in ET


def test_live_updates_redraw_only_the_newest_block(qtbot):
    view = shown_view(qtbot, synthetic_bars(5000))
    built = view.candles.blocks_built
    last = view.series
    start = datetime.fromtimestamp(int(last.column("start")[-1]) // 10**9, UTC)
    close = float(last.column("close")[-1])
    view.apply([Bar("BTC", "1m", start, close, close + 5, close - 1, close + 2, 10, False)])
    view.refresh()
    repainted(view)
    assert view.candles.blocks_built - built == 1
    assert view.series.column("high")[-1] == close + 5
    right = view.price.getViewBox().viewRange()[0][1]
    view.apply([Bar("BTC", "1m", start + timedelta(minutes=1), close, close, close, close, 1, False)])
    view.refresh()
    assert len(view.series) == 5001 and view.price.getViewBox().viewRange()[0][1] == pytest.approx(right + 1)


def wheel(view, delta: int) -> None:
    """A real mouse wheel turn over the price plot's left part."""
    point = view.price.getViewBox().sceneBoundingRect().center().toPoint()
    point.setX(80)
    event = QWheelEvent(QPointF(point), QPointF(view.mapToGlobal(point)), QPoint(0, 0), QPoint(0, delta),
                        Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), event)


def test_auto_scroll_stops_when_the_user_zooms_away_and_comes_back(qtbot):
    view = shown_view(qtbot, synthetic_bars(3000))
    assert view.follow
    wheel(view, 360)  # zoom in around the left: the newest bar leaves the view
    repainted(view)
    assert not view.follow
    before = view.price.getViewBox().viewRange()[0]
    start = datetime.fromtimestamp(int(view.series.column("start")[-1]) // 10**9, UTC) + timedelta(minutes=1)
    view.apply([Bar("BTC", "1m", start, 1, 1, 1, 1, 1, False)])
    view.refresh()
    assert view.price.getViewBox().viewRange()[0] == pytest.approx(before)  # it stays where the user put it
    view.go_live()
    lo, hi = view.price.getViewBox().viewRange()[0]
    assert view.follow and lo < len(view.series) - 1 < hi


def test_a_million_bars_draw_from_a_coarse_level(qtbot):
    view = shown_view(qtbot, synthetic_bars(1_000_000), width=1000)
    view._set_x(0, 1_000_000)
    repainted(view)
    coarse = [key for key in view.candles._cache if key[0] >= 12]  # ~4 px per candle: thousands of bars each
    assert 1 <= len(coarse) <= 2 and view.candles.paints


def test_series_levels_merge_exactly():
    bars = synthetic_bars(10_001)
    series = ChartSeries()
    series.load(bars)
    for level in (1, 3, 6):
        merged, group = series.level(level), 1 << level
        starts = np.arange(0, 10_001, group)
        assert np.allclose(merged.high, np.maximum.reduceat(np.asarray(bars.high), starts))
        assert np.allclose(merged.low, np.minimum.reduceat(np.asarray(bars.low), starts))
        assert np.allclose(merged.volume, np.add.reduceat(np.asarray(bars.volume), starts))
        assert np.array_equal(merged.open, np.asarray(bars.open)[starts])
    last = bars.bar(-1)
    series.apply(Bar(last.symbol, last.timeframe, last.start, last.open, 1e9, last.low, last.close, last.volume, False))
    assert series.level(6).high[-1] == 1e9 and series.bounds(0, 10_001)[1] == 1e9


@pytest.fixture
def wired(qtbot):
    bus = Bus()
    hub = BarHub(bus)
    asyncio.run(hub.start())  # subscribes to the bar requests
    bridge = UiBridge(bus, hz=1000)
    t0 = int(datetime(2025, 5, 15, 14, 30, tzinfo=UTC).timestamp()) * 10**9
    ts = t0 + np.arange(600, dtype=np.int64) * 10**9  # ten minutes of one trade a second
    hub.ingest(TradeBatch.single("ES", ts, 5900 + 0.25 * (np.arange(600) % 13), np.ones(600)))
    dock = ChartDock(bridge, "ES", "1m", name="test")
    qtbot.addWidget(dock)
    dock.resize(1000, 600)
    dock.show()
    bridge.flush()
    yield bus, hub, bridge, dock, t0
    bridge.close()


def test_the_dock_asks_for_bars_and_follows_live_updates(wired, qtbot, tmp_path):
    bus, hub, bridge, dock, t0 = wired
    assert len(dock.view.series) == 10 and dock.view.series.symbol == "ES"
    hub.ingest(TradeBatch.single("ES", np.array([t0 + 600 * 10**9]), np.array([5910.0]), np.array([3.0])))
    bridge.flush()
    assert len(dock.view.series) == 11 and dock.view.series.column("close")[-1] == 5910.0
    dock.timeframe_box.setCurrentText("5m")
    dock._picked()
    bridge.flush()
    assert ("ES", "5m") in hub.series and len(dock.view.series) == 3
    dock.timeframe_box.setCurrentText("1h")
    dock._picked()
    bridge.flush()
    assert ("ES", "5m") not in hub.series and ("ES", "1h") in hub.series  # the 5m series was let go
    assert not dock.show_symbol("ES", "fortnight") and "not a timeframe" in dock.message.text()
    dock.grab().save(str(tmp_path / "dock.png"))


def drawn_x(view: ChartView) -> list[float]:
    return [float(x) for x in view.marker_item.data["x"]]


def test_alerts_and_fills_become_markers_on_the_bar_of_their_time(wired):
    bus, hub, bridge, dock, t0 = wired
    at = datetime.fromtimestamp(t0 // 10**9 + 125, UTC)
    bus.publish(AlertReceived(Alert("ES", Side.BUY, at, Decimal(1), Decimal("5901.25"))))
    bus.publish(AlertReceived(Alert("NQ", Side.BUY, at)))  # another symbol: not on this chart
    bus.publish(OrderFilled(None, Fill("f1", "a1-x-paper", "paper", "ES", Side.SELL, Decimal(1), Decimal("5902"),
                                        at + timedelta(minutes=7))))
    bus.publish(OrderFilled(None, Fill("f2", "a2-x-paper", "paper", "CME_MINI:ES1!", Side.BUY, Decimal(1),
                                        Decimal("5903"), at + timedelta(days=3))))  # after the newest bar ends
    bridge.flush()
    assert [(dock.view.series.index_at(m.time_ns), m.price, m.side, m.kind) for m in dock.view.markers] == [
        (2, 5901.25, "buy", "alert"), (9, 5902.0, "sell", "fill"), (9, 5903.0, "buy", "fill")]
    assert drawn_x(dock.view) == [2.0, 9.0]  # the fill three days on is not on this chart's bars


class ReplayQueries:
    """What a chart reads: the market clock of a replay and the journal's alerts and fills."""

    def __init__(self, clock, alerts=(), fills=()):
        from types import SimpleNamespace

        self.market = SimpleNamespace(market_time=clock.at)
        self.alerts = SimpleNamespace(latest_alerts=lambda limit: [(a, None) for a in alerts])
        self.orders = SimpleNamespace(latest_fills=lambda limit: list(fills))


def test_markers_sit_in_bar_time_on_a_replay_chart_and_a_new_chart_shows_them(qtbot):
    """A replay's bars are hours or days behind the wall clock: an alert goes on the bar the replay was forming."""
    from station.marketdata.clock import MarketClock
    from station.ui.chart.markers import ChartMarkers

    bus = Bus()
    hub = BarHub(bus)
    asyncio.run(hub.start())
    bridge = UiBridge(bus, hz=1000)
    t0 = int(datetime(2025, 5, 15, 14, 30, tzinfo=UTC).timestamp()) * 10**9
    hub.ingest(TradeBatch.single("ES", t0 + np.arange(300, dtype=np.int64) * 10**9, np.full(300, 5900.0), np.ones(300)))
    clock, wall = MarketClock(), datetime.now(UTC)
    clock.note(t0 + 299 * 10**9, wall - timedelta(seconds=5))  # the replay stood at 14:34:59 five seconds ago
    early = Alert("ES", Side.BUY, wall - timedelta(hours=2), Decimal(1), Decimal("5900"))  # before this run's replay
    queries = ReplayQueries(clock, alerts=[early])
    dock = ChartDock(bridge, "ES", "1m", name="replay", markers=ChartMarkers(queries))
    qtbot.addWidget(dock)
    dock.show()
    bridge.flush()
    bus.publish(AlertReceived(Alert("ES", Side.SELL, wall, Decimal(1), Decimal("5900"))))
    bridge.flush()
    assert drawn_x(dock.view) == [4.0]  # 14:34, not stacked after the newest bar; the early one unknown: not drawn
    clock.note(t0 + 420 * 10**9, wall + timedelta(seconds=1))
    hub.ingest(TradeBatch.single("ES", t0 + np.arange(300, 420, dtype=np.int64) * 10**9, np.full(120, 5901.0),
                                 np.ones(120)))
    bridge.flush()
    assert len(dock.view.series) == 7 and drawn_x(dock.view) == [4.0]  # new bars: the marker stays on its bar
    queries.alerts.latest_alerts = lambda limit: [(early, None), (Alert("ES", Side.SELL, wall, Decimal(1)), None)]
    again = ChartDock(bridge, "ES", "1m", name="second", markers=ChartMarkers(queries))  # a chart opened later
    qtbot.addWidget(again)
    bridge.flush()
    assert drawn_x(again.view) == [4.0]
    bridge.close()


def test_the_history_dialog_shows_the_cost_first_then_progress_and_cancel(qtbot):
    from station.domain.commands import CancelHistory, EstimateHistory, LoadHistory
    from station.domain.events import HistoryEstimated, HistoryFinished, HistoryProgressed
    from station.ui.chart.history_dialog import HistoryDialog

    bus = Bus()
    bridge = UiBridge(bus, hz=1000)
    sent = []
    for kind in (EstimateHistory, LoadHistory, CancelHistory):
        bus.subscribe(kind, sent.append)
    dialog = HistoryDialog(bridge, "ES", confirm_above_usd=1.0)
    qtbot.addWidget(dialog.dialog)
    dialog.show()
    assert dialog.symbols.text() == "ES.c.0" and dialog.stype.currentText() == "continuous"
    assert not dialog.load_button.isEnabled()  # nothing is bought before its price is shown
    dialog.estimate_button.click()
    request = sent[-1].request
    assert isinstance(sent[-1], EstimateHistory) and request.symbols == ("ES.c.0",) and request.end > request.start
    dialog.on_event(HistoryEstimated(request.request_id, 12.5, 250_000_000, False))
    assert "$12.50 for 250.0 MB" in dialog.estimate_label.text()
    assert dialog.confirm.isVisibleTo(dialog.dialog) and not dialog.load_button.isEnabled()  # above $1: confirm
    dialog.confirm.setChecked(True)
    dialog.load_button.click()
    assert isinstance(sent[-1], LoadHistory) and sent[-1].max_cost_usd == 12.5
    dialog.on_event(HistoryProgressed(request.request_id, 2, 5, 3_000_000))
    assert dialog.progress.value() == 2 and dialog.progress.maximum() == 5
    dialog.cancel_button.click()
    assert isinstance(sent[-1], CancelHistory) and sent[-1].request_id == request.request_id
    dialog.on_event(HistoryFinished(request.request_id, False, "cancelled; what arrived stays in the cache"))
    assert "cancelled" in dialog.status.text() and dialog.estimate_button.isEnabled()
    bridge.close()


def test_charts_open_from_the_view_menu_and_come_back_after_a_restart(qtbot, data_dir, secrets):
    from support.launch import free_port
    from station.app import Options, Station
    from station.ui.launch import main_window

    station = Station(Options(data_dir=data_dir, port=free_port()), secrets)
    window = main_window(station)
    qtbot.addWidget(window)
    window.show()
    assert "ChartDock" in window.docks and window.dock_widget("ChartDock").symbol == "ES"
    assert window.charts.new_chart_action in window.view_menu.actions()
    window.charts.new_chart("NQ", "5m")
    window.dock_widget("ChartDock-2").overlay_buttons["SMA 50"].setChecked(True)
    window.close()

    again = main_window(station)
    qtbot.addWidget(again)
    again.show()
    qtbot.waitUntil(lambda: "ChartDock-2" in again.docks, timeout=3000)
    chart = again.dock_widget("ChartDock-2")
    assert (chart.symbol, chart.timeframe) == ("NQ", "5m") and "SMA 50" in chart.overlays()
    assert again.docks["ChartDock-2"] in again.tabifiedDockWidgets(again.docks["ChartDock"])  # where it was
    again.close()
    station.store.close()


def test_moving_averages_match_pandas_after_live_updates():
    import pandas as pd

    from station.ui.chart.overlays import MovingAverage

    bars = synthetic_bars(500)
    series = ChartSeries()
    series.load(bars)
    sma, ema = MovingAverage(series, "sma", 20), MovingAverage(series, "ema", 20)
    for average in (sma, ema):
        average.update(0)
    last = bars.bar(-1)
    for i in range(1, 4):  # the forming bar changes, then a new bar opens
        series.apply(Bar("BTC", "1m", last.start, last.open, last.high, last.low, last.close + i, last.volume, False))
        series.apply(Bar("BTC", "1m", last.start + timedelta(minutes=i), 1.0, 1.0, 1.0, 20000.0 + i, 1.0, False))
        first = series.take_changes()
        for average in (sma, ema):
            average.update(first)
    close = pd.Series(series.column("close"))
    assert np.allclose(sma(), close.rolling(20).mean().to_numpy(), equal_nan=True)
    from station.engine.indicators import EMA  # the strategies' own: seeded with the SMA, as TradingView's ta.ema

    engine = EMA(20)
    assert np.allclose(ema(), [np.nan if v is None else v for v in map(engine.update, close)], equal_nan=True)


def es_bars(n=200, timeframe="1m", starts=None):
    from station.domain.marketdata import BarColumns

    rng = np.random.default_rng(3)
    start = starts if starts is not None else (
        int(datetime(2025, 5, 15, 13, 30, tzinfo=UTC).timestamp()) * 10**9 + np.arange(n, dtype=np.int64) * 60 * 10**9)
    close = 5900 + 0.25 * np.round(np.cumsum(rng.normal(0, 4, n)))
    open_ = np.concatenate(([close[0]], close[:-1]))
    return BarColumns("ES", timeframe, start, open_, np.maximum(open_, close) + 0.5, np.minimum(open_, close) - 0.5,
                      close, np.full(n, 10.0))


def test_the_last_price_and_the_crosshair_price_are_badges_on_the_axis_rounded_to_the_tick(qtbot):
    from station.ui.chart.view import price_text

    view = shown_view(qtbot, es_bars())
    view.set_tick(0.25)
    view.refresh()
    view._after_change()
    plot_right = view.price.getViewBox().sceneBoundingRect().right()
    badge = view.last_badge.sceneBoundingRect()
    close = float(view.series.column("close")[-1])
    assert view.last_badge.text() == price_text(close, 0.25) and badge.left() >= plot_right - 1  # beside the candles
    y_scene = view.price.getViewBox().mapViewToScene(QPointF(0, close)).y()
    assert badge.top() <= y_scene <= badge.bottom()  # at the price's height
    view.hover(view.price.getViewBox().mapViewToScene(QPointF(100, close + 0.11)))
    shown = view.cross_badge.text().replace(",", "")
    assert float(shown) % 0.25 == 0 and view.crosshair_h.value() % 0.25 == 0  # on the tick, not 5,901.36
    assert view.cross_badge.sceneBoundingRect().left() >= plot_right - 1
    assert view.readout.geometry().bottom() <= view.price.getViewBox().sceneBoundingRect().top() + 2  # own band


def test_the_crosshair_and_read_out_follow_leaving_and_a_timeframe_switch(qtbot):
    from PySide6.QtCore import QEvent

    view = shown_view(qtbot, es_bars())
    at_bar = lambda i: view.price.getViewBox().mapViewToScene(  # noqa: E731
        QPointF(i, float(view.series.column("close")[i])))
    when = lambda: view.readout.text().split(" ET")[0][-5:]  # noqa: E731  (the bar's time in the read-out)
    view.hover(at_bar(150))
    assert view.crosshair_v.isVisible() and when() == "12:00"  # bar 150: 09:30 ET + 150 min
    QApplication.sendEvent(view, QEvent(QEvent.Leave))
    assert not view.crosshair_v.isVisible() and not view.cross_badge.isVisible()
    assert when() == "12:49"  # the newest bar again, not the one the mouse left
    view.hover(at_bar(150))
    five = es_bars(40, "5m", int(datetime(2025, 5, 15, 13, 30, tzinfo=UTC).timestamp()) * 10**9
                   + np.arange(40, dtype=np.int64) * 300 * 10**9)
    view.set_bars(five)  # the timeframe changed under the mouse
    assert "5m" in view.readout.text() and when() == "12:45" and not view.crosshair_v.isVisible()


def test_tick_bar_time_labels_keep_a_label_apart(qtbot):
    """512t bars: hundreds a minute at the open, a few an hour at night; labels never print over each other."""
    from station.ui.chart.axis import MIN_LABEL_PX

    night = int(datetime(2025, 5, 15, 4, 0, tzinfo=UTC).timestamp()) * 10**9 + np.arange(60, dtype=np.int64) * 600 * 10**9
    open_ = int(datetime(2025, 5, 15, 13, 30, tzinfo=UTC).timestamp()) * 10**9 + np.arange(300, dtype=np.int64) * 4 * 10**9
    view = shown_view(qtbot, es_bars(360, "512t", np.concatenate((night, open_))), width=1200)
    view.show_latest(360)
    repainted(view)
    lo, hi = view.price.getViewBox().viewRange()[0]
    width = view.time_axis.geometry().width()
    ticks = view.time_axis.tickValues(lo, hi, width)[0][1]
    pixels = np.diff(np.array(ticks)) * width / (hi - lo)
    assert len(ticks) >= 3 and pixels.min() >= MIN_LABEL_PX - 1


def test_a_strategys_own_lines_are_drawn_from_the_lines_menu_and_remembered(qtbot):
    from station.ui.chart.lines import LinesBar

    bar = LinesBar(strategy_lines=lambda symbol: [("ES cross", ("EMA 9", "SMA 21"))] if symbol == "ES" else [])
    qtbot.addWidget(bar)
    bar.symbol = "ES"
    bar.menu.aboutToShow.emit()
    entry = next(a for a in bar.menu.actions() if a.text().startswith("Lines of ES cross"))
    entry.trigger()
    assert bar.shown() == ("EMA 20", "EMA 9", "SMA 21") and bar.specs()[1:] == [("ema", 9), ("sma", 21)]
    bar.menu.aboutToShow.emit()
    next(a for a in bar.menu.actions() if a.text() == "Remove EMA 20").trigger()
    assert bar.lines() == ("SMA 50", "EMA 9", "SMA 21")
    again = LinesBar(bar.lines(), bar.shown())  # as the chart's settings bring them back
    qtbot.addWidget(again)
    assert again.shown() == ("EMA 9", "SMA 21") and again.lines() == ("SMA 50", "EMA 9", "SMA 21")
