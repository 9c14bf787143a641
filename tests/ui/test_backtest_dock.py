"""The Backtest dock as a real widget in the real window over a running Station: a run in its own process with
progress, its summary, curves and trades (a selected trade moves the chart to it), Cancel, a sweep's sortable rows
and heat map, and "Apply to strategy" after a confirmation showing old and new values. Grabbed to PNG at 1366×768
and 1920×1080 (STATION_SHOTS=DIR keeps them)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from support.backtest import random_walk
from support.launch import free_port, run_qt
from support.wait import until
from station.app import Options, Station
from station.domain.commands import ShowTrade
from station.ui.launch import main_window

pytestmark = pytest.mark.slow
SHOTS = os.environ.get("STATION_SHOTS")
ENGINE = {"kind": "crossover", "timeframe": "1m", "line1": {"type": "ema", "period": 3},
          "line2": {"type": "sma", "period": 8}}
CONFIG = {"destinations": {"paper": {"type": "paper"}},
          "strategies": {"Cross": {"engine": ENGINE, "tickers": {"ES": {"destinations": {"paper": {"qty": 1}}}}}}}


@pytest.fixture(autouse=True)
def dark_theme(qapp):
    from station.ui.theme import apply_theme

    apply_theme(qapp)


def shot(window, tmp_path, name, size):
    """The window at `size`, and the Backtest dock floated at that size (as a trader reading results would)."""
    window.resize(*size)
    folder = Path(SHOTS) if SHOTS else tmp_path
    path = folder / f"{name}-{size[0]}x{size[1]}.png"
    window.grab().save(str(path))
    assert path.stat().st_size > 10_000
    dock = window.docks["BacktestDock"]
    dock.setFloating(True)
    dock.resize(*size)
    dock.grab().save(str(folder / f"{name}-dock-{size[0]}x{size[1]}.png"))
    dock.setFloating(False)
    return path


def data_span(path) -> tuple[int, int]:
    from station.marketdata.databento.files import DbnFile

    ts = DbnFile(path).store.to_ndarray()["ts_event"]
    return int(ts[0]), int(ts[-1])


def set_param(dock, key, column, text):
    for row in range(dock.params.rowCount()):
        if dock.params.item(row, 0).text() == key:
            dock.params.item(row, column).setText(text)
            return
    raise AssertionError(f"no parameter {key}")


def test_backtest_dock_runs_shows_sweeps_and_applies(qtbot, data_dir, secrets, tmp_path, monkeypatch):
    # a file of the contract, as Databento's downloads hold it: the strategy on ES trades it as ES
    data = random_walk(tmp_path / "esm5.dbn", "ESM5", 12_000, seconds_apart=1.0, seed=5)
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda parent, title, text: asked.append(text) or QMessageBox.Yes)

    async def scenario():
        core = Station(Options(data_dir=data_dir, port=free_port()), secrets)
        core.config.import_document(CONFIG)
        await core.start()
        window = main_window(core)
        window.show()
        dock = window.dock_widget("BacktestDock")
        window.docks["BacktestDock"].raise_()
        shown = []
        core.bus.subscribe(ShowTrade, shown.append)
        try:
            assert dock.strategy_box.currentText() == "Cross"
            dock.set_data(str(data))
            dock.commission.setValue(2.0)
            dock.slippage.setValue(1)
            dock.split.setValue(0.7)
            dock.run_button.click()
            assert not dock.run_button.isEnabled() and dock.cancel_button.isEnabled()
            await until(lambda: dock.job is None, 90, what="the backtest to finish")
            assert dock.progress.value() == 1000
            assert dock.status.text().endswith("Traded ES from ESM5."), dock.status.text()
            trips = dock.trades.rowCount()
            assert trips > 5 and dock.summary.values["trades"].text() == str(trips)
            assert "In sample" in dock.summary.split.text()
            assert len(dock.curves.equity_line.getData()[0]) == trips + 1
            dock.tabs.setCurrentIndex(1)
            shot(window, tmp_path, "backtest-equity", (1366, 768))
            dock.tabs.setCurrentIndex(2)
            dock.trades.selectRow(0)
            await until(lambda: shown, what="ShowTrade")
            trade = shown[-1]
            assert trade.symbol == "ES" and trade.exit_ns >= trade.entry_ns
            first, last = data_span(data)
            assert first <= trade.entry_ns <= trade.exit_ns <= last + 60 * 10**9  # the file's own times
            assert dock.trades.item(0, 0).text().startswith("2025-05-15 ")
            chart = window.dock_widget("ChartDock")
            await until(lambda: getattr(chart, "symbol", "ES") == "ES" and (
                not hasattr(chart, "view") or len(chart.view.markers) >= 2), what="the chart's markers")
            assert trade.data == str(data) and trade.contract == "ESM5"
            if hasattr(chart, "view"):  # the trade is drawn on the file's bars, not on an empty chart
                await until(lambda: chart.view.series.index_within(trade.entry_ns) is not None
                            and chart.view.series.index_within(trade.exit_ns) is not None, what="the trade's bars")
                starts = chart.view.series.column("start")
                assert starts[0] <= first and len(starts) > 100
            shot(window, tmp_path, "backtest-trades", (1920, 1080))

            set_param(dock, "line2.period", 1, "12")  # a long run to cancel: a slower sweep of 4
            set_param(dock, "line1.period", 2, "2,3,4,5")
            dock.run_button.click()
            dock.cancel_button.click()
            await until(lambda: dock.job is None, 60, what="the cancel")
            assert dock.status.text() in ("Cancelled.",) or dock.sweep.rows

            set_param(dock, "line1.period", 2, "2,3")
            set_param(dock, "line2.period", 2, "5,8")
            set_param(dock, "line2.period", 1, "8")
            dock.workers.setValue(2)
            dock.run_button.click()
            await until(lambda: dock.job is None, 120, what="the sweep")
            assert dock.sweep.table.rowCount() == 4, dock.status.text()
            pnl = [dock.sweep.table.item(r, 2).value for r in range(4)]
            assert pnl == sorted(pnl, reverse=True)  # sorted by net PnL, best first
            assert dock.sweep.image.image is not None and dock.sweep.image.image.shape == (2, 2)
            dock.sweep.table.sortItems(0)  # any column sorts
            dock.sweep.table.selectRow(0)
            chosen = dock.sweep.selected()
            shot(window, tmp_path, "backtest-sweep", (1920, 1080))
            shot(window, tmp_path, "backtest-sweep", (1366, 768))
            dock.apply_button.click()
            assert asked and "line1.period: 3 →" in asked[-1] and "Cross" in asked[-1]
            await until(lambda: core.config.strategy_document("Cross")["engine"]["line1"]["period"]
                        == chosen["line1.period"], what="the strategy changed")
            assert core.config.strategy_document("Cross")["engine"]["line2"]["period"] == chosen["line2.period"]
        finally:
            window.close()
            await core.stop()

    run_qt(scenario, timeout=300)


def test_a_file_that_cannot_feed_the_backtest_is_refused_before_it_starts(qtbot, data_dir, secrets, tmp_path):
    bars = Path(__file__).parents[1] / "data" / "dbn" / "test_data.ohlcv-1m.v3.dbn.zst"  # ESH1's 1m bars
    other = random_walk(tmp_path / "nq.dbn", "NQ", 50, seed=2)

    async def scenario():
        core = Station(Options(data_dir=data_dir, port=free_port()), secrets)
        core.config.import_document({**CONFIG, "strategies": {"Cross": {
            "engine": {**ENGINE, "timeframe": "5t"}, "tickers": {"ESH1": {"destinations": {"paper": {}}}}}}})
        await core.start()
        window = main_window(core)
        dock = window.dock_widget("BacktestDock")
        said = []
        try:
            for path in (bars, other):
                dock.set_data(str(path))
                dock.run_button.click()
                said.append((dock.job, dock.status.text(), dock.run_button.isEnabled()))
        finally:
            await core.stop()
            window.close_without_asking()
        return said

    said = run_qt(scenario)
    assert said[0] == (None, f"{bars} holds ohlcv-1m bars: 5t bars need trades (a trades or mbp-1 file)", True)
    assert said[1] == (None, f"{other} has no trades of ESH1 (it has NQ)", True)
