"""The Engine dock, the pairs Watchlist and the strategy editor, as real widgets offscreen."""

import datetime as dt
import os

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QGroupBox, QLineEdit, QSpinBox

from support.launch import free_port, run_qt
from support.wait import until
from station.app import Options, Station
from station.domain.commands import BuyZeroDte, CloseZeroDte, StartStrategy, StopStrategy
from station.domain.events import PairUpdated
from station.ui.engine_editor import EngineEditor
from station.ui.launch import dock_context, main_window

UTC = dt.timezone.utc
LINES = {"line1": {"type": "ema", "period": 9}, "line2": {"type": "sma", "period": 21}}
CONFIG = {"strategies": {
    "MES cross": {"engine": {"kind": "crossover", "timeframe": "512t", **LINES}, "tickers": {"MES": {}}},
    "SPX 0DTE": {"engine": {"kind": "zero_dte", "signal_symbol": "MES", **LINES}, "tickers": {"SPXW": {}}},
    "Pairs": {"engine": {"kind": "pairs", "timeframe": "5m", "lookback": 30}, "tickers": {"NMFC-0.72*ROIC": {}}},
    "TV only": {"tickers": {"AAPL": {"ports": [5000]}}},
}}
SHOTS = os.environ.get("STATION_SHOTS")


@pytest.fixture(autouse=True)
def dark_theme(qapp):
    from station.ui.theme import apply_theme

    apply_theme(qapp)


def shot(widget, tmp_path, name):
    path = (tmp_path if not SHOTS else __import__("pathlib").Path(SHOTS)) / f"{name}.png"
    widget.grab().save(str(path))
    assert path.stat().st_size > 3000
    return path


def test_engine_dock_states_buttons_and_watchlist(qtbot, data_dir, secrets, tmp_path):
    async def scenario():
        core = Station(Options(data_dir=data_dir, port=free_port()), secrets)
        core.config.import_document(CONFIG)
        await core.start()
        await core.engine.ready()
        window = main_window(core)
        window.resize(1200, 700)
        window.show()
        dock = window.dock_widget("EngineDock")
        sent = []
        for kind in (StartStrategy, StopStrategy, BuyZeroDte, CloseZeroDte):
            core.bus.subscribe(kind, sent.append)
        names = [r.name for r in dock.model.records()]  # read from the engine as the dock opened
        assert names == ["MES cross", "SPX 0DTE", "Pairs"]  # the TradingView-only strategy is not the engine's
        dock.select("MES cross")
        assert dock.start_button.isEnabled() and not dock.call_button.isEnabled()
        dock.start_button.click()
        assert sent[-1] == StartStrategy("MES cross")
        await until(lambda: dock.rows["MES cross"].state == "running", what="MES cross running")
        dock.select("SPX 0DTE")
        assert dock.call_button.isEnabled()
        dock.call_button.click()
        dock.close_button.click()
        assert isinstance(sent[-2], BuyZeroDte) and sent[-2].strategy == "SPX 0DTE" and isinstance(sent[-1], CloseZeroDte)
        dock.stop_all.click()
        assert sent[-1] == StopStrategy("*")
        await until(lambda: dock.rows["MES cross"].state == "stopped", what="every strategy stopped")
        core.bus.publish(StartStrategy("MES cross"))
        await until(lambda: dock.rows["MES cross"].state == "running", what="MES cross running again")
        now = dt.datetime(2025, 3, 3, 15, 0, tzinfo=UTC)
        for i, (pair, z) in enumerate((("NMFC-0.72*ROIC", -0.4), ("KO-1.1*PEP", 2.6), ("XOM-0.9*CVX", 1.3))):
            core.bus.publish(PairUpdated("Pairs", pair, pair.split("-")[0], pair.split("*")[1], 0.72, 1.25 + i,
                                         1.1 + i, 0.31, z, "short" if z > 2 else "flat", now))
        watch = window.dock_widget("WatchlistDock")
        await until(lambda: watch.proxy.rowCount() == 3, what="three pairs")
        shown = [watch.proxy.index(r, 1).data() for r in range(watch.proxy.rowCount())]
        assert shown == ["KO-1.1*PEP", "XOM-0.9*CVX", "NMFC-0.72*ROIC"]  # by distance, largest first
        watch.table.sortByColumn(5, Qt.AscendingOrder)
        assert watch.proxy.index(0, 1).data() == "NMFC-0.72*ROIC"
        window.docks["EngineDock"].raise_()
        await until(lambda: dock.isVisible(), what="the Engine tab in front")
        shot(window, tmp_path, "engine-window")
        shot(dock, tmp_path, "engine-dock")
        window.docks["WatchlistDock"].raise_()  # tabbed with Engine in the default layout
        await until(lambda: watch.isVisible(), what="the Watchlist tab in front")
        shot(watch, tmp_path, "watchlist-dock")
        states = {r.name: r.state for r in dock.model.records()}
        window.close()
        await core.stop()
        return states

    states = run_qt(scenario)
    assert states == {"MES cross": "running", "SPX 0DTE": "stopped", "Pairs": "stopped"}


def test_editor_saves_through_the_config_and_shows_errors(qtbot, data_dir, secrets, tmp_path):
    async def scenario():
        core = Station(Options(data_dir=data_dir, port=free_port()), secrets)
        core.config.import_document(CONFIG)
        context = dock_context(core)
        editor = EngineEditor(context, "MES cross")
        editor.show()
        assert editor.w(QLineEdit, "timeframe").text() == "512t"
        assert editor.w(QLineEdit, "tickers").isReadOnly() and editor.w(QLineEdit, "tickers").text() == "MES"
        editor.w(QSpinBox, "line2Period").setValue(34)
        editor.w(QComboBox, "line1Type").setCurrentIndex(2)  # wilder
        shot(editor, tmp_path, "engine-editor")
        assert await editor.save()
        engine = core.config.load().strategy("MES cross").options["engine"]
        assert engine["line2"] == {"type": "sma", "period": 34} and engine["line1"]["type"] == "wilder"
        bad = EngineEditor(context, "MES cross")
        bad.w(QLineEdit, "timeframe").setText("7 minutes")
        assert not await bad.save()
        assert "not a timeframe" in bad.error.text()
        assert core.config.load().strategy("MES cross").options["engine"]["timeframe"] == "512t"
        new = EngineEditor(context, None)
        new.w(QLineEdit, "name").setText("ES trend")
        new.w(QLineEdit, "tickers").setText("ES, NQ")
        new.kind.setCurrentIndex(1)  # supertrend
        assert not new.w(QGroupBox, "linesBox").isVisibleTo(new) and new.w(QGroupBox, "supertrendBox").isVisibleTo(new)
        assert await new.save()
        created = core.config.load().strategy("ES trend")
        assert [t.ticker for t in created.tickers] == ["ES", "NQ"] and created.options["engine"]["kind"] == "supertrend"
        again = EngineEditor(context, None)
        again.w(QLineEdit, "name").setText("ES trend")
        assert not await again.save() and "exists already" in again.error.text()
        for dialog in (editor, bad, new, again):
            dialog.close()
        context.bridge.close()
        core.store.close()

    run_qt(scenario)
