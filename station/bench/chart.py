"""`station bench chart`: frame times over a million bars, and loop lag while live trades stream in.

1. A chart of 1,000,000 one-minute bars (1400×800, offscreen) is panned and zoomed
   across the whole range, from a 100-bar view to all million; each frame is
   `setXRange` + y fit + the repaint it causes (Qt's event processing until idle).
   Median and p99 frame time.
2. With that chart loaded and following, trades arrive at 1,000/s on a thread the
   way databento's client delivers them (`LiveInbox.on_record`, real `TradeMsg`s),
   go through the bar hub, the bus and the UI bridge (20 Hz) into the chart, while
   a probe measures how late the loop wakes up. p99 loop lag.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import threading
import time
from datetime import datetime, timezone

import numpy as np

from station.bench._machine import load_average

BARS = 1_000_000
FRAMES = 240
STREAM_S = 6.0
TRADES_PER_S = 1000
START = datetime(2023, 1, 2, tzinfo=timezone.utc)


def synthetic_bars(n: int = BARS, symbol: str = "BTC", seed: int = 5):
    """`n` one-minute bars of a random walk (columns), ending before `START` + n minutes."""
    from station.domain.marketdata import BarColumns

    rng = np.random.default_rng(seed)
    start = int(START.timestamp()) * 10**9 + np.arange(n, dtype=np.int64) * 60 * 10**9
    close = 20000 + np.cumsum(rng.normal(0, 8, n))
    open_ = np.concatenate(([close[0]], close[:-1]))
    spread = np.abs(rng.normal(0, 6, n))
    high, low = np.maximum(open_, close) + spread, np.minimum(open_, close) - spread
    volume = rng.gamma(2.0, 50.0, n)
    return BarColumns(symbol, "1m", start, open_, high, low, close, volume)


def _frames(view, app) -> tuple[list[float], list[float]]:
    """Pan and zoom across the whole range; each frame's wall time and CPU time (this thread) in ms."""
    n = len(view.series)
    widths = np.geomspace(100, n, FRAMES // 2)
    plan = [(w, (i / (len(widths) - 1)) * (n - w)) for i, w in enumerate(widths)]  # zoom out while panning right
    # and back (from the second frame: the first would ask for the range the chart already shows, and paint nothing)
    plan += [(w, n - w - (i / (len(widths) - 1)) * (n - w)) for i, w in enumerate(widths[::-1])][1:]
    wall, cpu = [], []
    for width, left in plan:
        painted = view.candles.paints
        started, started_cpu = time.perf_counter(), time.thread_time()
        view._set_x(left, left + width)
        app.processEvents()  # the repaint the range change asked for happens here
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - started_cpu) * 1000)
        assert view.candles.paints > painted, "the chart did not repaint"
    return wall, cpu


async def _stream(view_dock, hub, inbox_cls) -> dict:
    """Trades at TRADES_PER_S from a thread through the live hand-off; returns loop lag figures."""
    import databento_dbn as dbn

    loop = asyncio.get_running_loop()
    inbox = inbox_cls(loop, lambda d: d.trades is not None and hub.ingest(d.trades))
    inbox.on_record(dbn.SymbolMappingMsg(1, 7, 0, dbn.SType.RAW_SYMBOL, "BTC", dbn.SType.RAW_SYMBOL, "BTC", 0, 0))
    first_ns = int(view_dock.view.series.column("start")[-1]) + 60 * 10**9
    stop = threading.Event()
    sent = [0]

    def produce() -> None:
        price = float(view_dock.view.series.column("close")[-1])
        rng = np.random.default_rng(1)
        started = time.perf_counter()
        while not stop.is_set():
            due = int((time.perf_counter() - started) * TRADES_PER_S)
            while sent[0] < due:
                price += float(rng.choice((-0.5, 0.0, 0.5)))
                ts = first_ns + sent[0] * 20_000_000  # 50 trades per bar-second: bars close as trades pass
                inbox.on_record(dbn.TradeMsg(1, 7, ts, int(price * 1e9), 1, dbn.Action.TRADE, dbn.Side.ASK, 0, ts,
                                             0x80, 0, sent[0]))
                sent[0] += 1
            time.sleep(0.001)

    producer = threading.Thread(target=produce, name="bench-feed", daemon=True)
    lags = []
    producer.start()
    deadline = loop.time() + STREAM_S
    while loop.time() < deadline:
        before = loop.time()
        await asyncio.sleep(0.005)
        lags.append((loop.time() - before - 0.005) * 1000)
    stop.set()
    producer.join()
    await asyncio.sleep(0.2)
    return {"trades": sent[0], "lags": lags, "bars_on_chart": len(view_dock.view.series)}


def run(options) -> dict:
    """Frame times and loop lag, measured now (the machine is shared: figures vary run to run)."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # a benchmark needs no screen
    import qasync
    from PySide6.QtWidgets import QApplication

    from station.bus import Bus
    from station.marketdata.hub import BarHub
    from station.marketdata.databento.inbox import LiveInbox
    from station.ui.bridge import UiBridge
    from station.ui.chart.dock import ChartDock
    from station.ui.theme import apply_theme

    # the chart's EMA lines are computed with pandas, imported on first use: that one-time import (~0.3 s) is
    # not the load of 1M bars this bench times (before, an empty chart's lines happened to import it earlier)
    import pandas  # noqa: F401

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app)
    bars = synthetic_bars()

    async def main() -> dict:
        bus = Bus()
        bus.bind(asyncio.get_running_loop())
        hub = BarHub(bus, sessions={"BTC": "24x7"})
        await hub.start()
        bridge = UiBridge(bus)
        dock = ChartDock(bridge, "BTC", "1m")
        dock.resize(1400, 800)
        dock.show()
        await asyncio.sleep(0.2)  # the hub's (empty) answer arrives through the bridge
        loaded = time.perf_counter()
        dock.view.set_bars(bars)
        load_ms = (time.perf_counter() - loaded) * 1000
        app.processEvents()
        frames = _frames(dock.view, app)
        dock.view.go_live()
        stream = await _stream(dock, hub, LiveInbox)
        bridge.close()
        await hub.stop()
        dock.close()
        return {"frames": frames, "load_ms": load_ms, **stream}

    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        result = runner.run(main())
    (frames, frames_cpu), lags = result["frames"], sorted(result["lags"])
    return {
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "bars": BARS,
        "load_ms": round(result["load_ms"], 1),
        "frames": len(frames),
        "load_average": load_average(),
        "frame_ms_median": round(statistics.median(frames), 2),
        "frame_ms_p99": round(float(np.percentile(frames, 99)), 2),
        "frame_ms_max": round(max(frames), 2),
        "frame_cpu_ms_median": round(statistics.median(frames_cpu), 2),
        "frame_cpu_ms_p99": round(float(np.percentile(frames_cpu, 99)), 2),
        "frame_target_ms": 16,
        "stream_trades": result["trades"],
        "stream_trades_per_s": round(result["trades"] / STREAM_S),
        "loop_lag_ms_median": round(statistics.median(lags), 2),
        "loop_lag_ms_p99": round(float(np.percentile(lags, 99)), 2),
        "loop_lag_target_ms": 30,
        "bars_on_chart_after": result["bars_on_chart"],
    }

