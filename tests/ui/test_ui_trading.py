"""The trading docks offscreen: manual clicks make the right orders, kill switch, strategies editing, screenshots."""

from decimal import Decimal

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDialog, QLabel

from support.launch import run_qt
from support.oms import journal, make_alert
from support.wait import until
from station.app import Options, Station
from station.ui.launch import dock_context, main_window

CONFIG = {
    "destinations": {"paper": {"type": "paper"}},
    "strategies": {"Momentum": {"tickers": {"ES": {"point_value": 50, "destinations": {"paper": {}}},
                                            "NQ": {"ports": [5001], "destinations": {"paper": {"qty": 2}}}}},
                   "Swing": {"tickers": {"ES": {"destinations": {"paper": {}}}}}},
}


@pytest.fixture(autouse=True)
def dark_theme(qapp):
    from station.ui.theme import apply_theme

    apply_theme(qapp)


def scenario_station(data_dir, secrets):
    station = Station(Options(data_dir=data_dir, port=0), secrets)
    station.config.import_document(CONFIG)
    return station


def orders(station):
    return [dict(r) for r in station.store.query("SELECT * FROM orders ORDER BY seq")]


def test_manual_panel_clicks_make_the_right_orders(qtbot, data_dir, secrets, tmp_path):
    from station.domain.events import TickReceived
    from station.domain.marketdata import Tick
    from station.domain.timeutil import utc_now
    from station.ui.bridge import UiBridge
    from station.ui.manual_panel import ManualTradingDock

    async def scenario():
        station = scenario_station(data_dir, secrets)
        await station.start()
        bridge = UiBridge(station.bus)
        panel = ManualTradingDock(bridge, station.config.load, QSettings(str(tmp_path / "ui.ini"), QSettings.IniFormat))
        panel.confirm.setChecked(False)
        panel.show()
        station.bus.publish(TickReceived(Tick("ES", utc_now(), 5000.0)))
        panel.strategy.setCurrentText("Momentum")
        panel.ticker.setCurrentText("ES")
        panel.qty.setValue(3)
        book = station.oms.book
        panel.buttons["buy"].click()
        await until(lambda: book.position("paper", "ES", "Momentum") == 3)
        await until(lambda: "1 order placed" in panel.result.text())
        panel.buttons["sell"].click()   # sell 3 -> flat
        await until(lambda: book.position("paper", "ES", "Momentum") == 0)
        panel.qty.setValue(2)
        panel.buttons["sell"].click()
        await until(lambda: book.position("paper", "ES", "Momentum") == -2)
        panel.buttons["reverse"].click()
        await until(lambda: book.position("paper", "ES", "Momentum") == 2)
        panel.buttons["close"].click()
        await until(lambda: book.position("paper", "ES", "Momentum") == 0)
        panel.buttons["close"].click()  # nothing left to close: said, no order
        await until(lambda: "no open position" in panel.result.text())
        panel.strategy.setCurrentText("Swing")
        panel.buttons["buy"].click()
        await until(lambda: book.position("paper", "ES", "Swing") == 2)
        await station.oms.recorder.flush()
        made = [(o["strategy"], o["side"], o["qty"], o["cause"][0]) for o in orders(station)]
        await station.stop()
        bridge.close()
        return made, panel

    made, panel = run_qt(scenario)
    assert made == [("Momentum", "buy", "3", "m"), ("Momentum", "sell", "3", "m"), ("Momentum", "sell", "2", "m"),
                    ("Momentum", "buy", "4", "m"), ("Momentum", "sell", "2", "m"), ("Swing", "buy", "2", "m")]
    assert {s.key().toString() for s in panel.shortcuts} >= {"Ctrl+Alt+B", "Ctrl+Alt+S", "Ctrl+Alt+K"}


def test_confirmations_can_be_refused_and_switched_off_each_kind_on_its_own(qtbot, data_dir, secrets, tmp_path,
                                                                            monkeypatch):
    from station.ui.bridge import UiBridge
    from station.ui.confirm import asks, confirmations_menu
    from station.ui.manual_panel import CONFIRM_KEY, ManualTradingDock

    station = scenario_station(data_dir, secrets)
    settings = QSettings(str(tmp_path / "ui.ini"), QSettings.IniFormat)
    bridge = UiBridge(station.bus)
    panel = ManualTradingDock(bridge, station.config.load, settings)
    qtbot.addWidget(panel)
    sent = []
    bridge.publish = sent.append
    answers = iter([QDialog.Rejected, QDialog.Accepted, QDialog.Rejected])
    asked = []

    def fake_exec(dialog):
        asked.append(dialog.findChild(QLabel, "message").text())
        if len(asked) == 2:  # "Don't ask again" on the second question, about a Buy
            dialog.findChild(type(panel.confirm), "dontAsk").setChecked(True)
        return next(answers)

    monkeypatch.setattr(QDialog, "exec", fake_exec)
    assert panel.confirm.isChecked()
    panel.buttons["buy"].click()
    assert sent == []
    panel.buttons["buy"].click()
    assert len(sent) == 1 and sent[0].side.value == "buy" and sent[0].qty == Decimal(1)
    assert not panel.confirm.isChecked() and settings.value(CONFIRM_KEY, type=bool) is False
    panel.buttons["sell"].click()  # orders are not asked about any more
    assert len(asked) == 2 and type(sent[-1]).__name__ == "ManualOrder"
    panel.buttons["flatten"].click()  # Flatten All still is: refused, nothing sent
    assert len(asked) == 3 and "Flatten All" in asked[-1] and type(sent[-1]).__name__ == "ManualOrder"
    assert asks(settings, "flatten") and asks(settings, "kill") and asks(settings, "quit")
    menu = confirmations_menu(panel, settings)  # Settings > Confirmations switches orders back on
    orders = next(a for a in menu.actions() if a.data() == "order")
    assert not orders.isChecked()
    orders.trigger()
    assert asks(settings, "order")
    bridge.close()
    station.store.close()


def test_kill_switch_button_halts_everything_until_rearmed_and_says_so(qtbot, data_dir, secrets, tmp_path):
    from station.ui.bridge import UiBridge
    from station.ui.confirm import KINDS, set_asks
    from station.ui.manual_panel import ManualTradingDock

    async def scenario():
        station = scenario_station(data_dir, secrets)
        await station.start()
        bridge = UiBridge(station.bus)
        settings = QSettings(str(tmp_path / "ui.ini"), QSettings.IniFormat)
        for kind in KINDS:
            set_asks(settings, kind, False)
        panel = ManualTradingDock(bridge, station.config.load, settings)
        said = {}
        await journal(station, make_alert("ES", "buy", qty="1", price="5000"))
        await until(lambda: station.oms.book.net_position("ES") == 2)
        panel.buttons["kill"].click()
        await until(lambda: panel.kill_engaged and station.oms.book.net_position("ES") == 0)
        said["engaged"] = panel.result.text()
        disabled = not panel.buttons["buy"].isEnabled()
        alert = await journal(station, make_alert("ES", "buy", qty="1", price="5000"))
        await until(lambda: station.store.query("SELECT status FROM alerts WHERE alert_id = ?",
                                                   (alert.alert_id,))[0]["status"] == "rejected")
        panel.buttons["kill"].click()
        await until(lambda: not panel.kill_engaged)
        said["re-armed"] = panel.result.text()
        rearmed = panel.buttons["buy"].isEnabled() and not station.oms.book.kill_switch_engaged
        await journal(station, make_alert("ES", "buy", qty="1", price="5000"))
        await until(lambda: station.oms.book.net_position("ES") == 2)
        panel.buttons["flatten"].click()
        said["flatten sent"] = panel.result.text()
        await until(lambda: "done" in panel.result.text(), what="Flatten All answered")
        said["flattened"] = panel.result.text()
        flat = station.oms.book.net_position("ES") == 0
        panel.buttons["flatten"].click()  # nothing left
        await until(lambda: "no position" in panel.result.text(), what="the second Flatten All answered")
        said["nothing"] = panel.result.text()
        await station.stop()
        bridge.close()
        return disabled, rearmed, flat, said

    disabled, rearmed, flat, said = run_qt(scenario)
    assert disabled and rearmed and flat
    assert said == {"engaged": "Trading halted (manual).", "re-armed": "Kill switch re-armed: trading resumes.",
                    "flatten sent": "Flatten All: sent…", "flattened": "Flatten All: done, 2 closing orders placed",
                    "nothing": "Flatten All: done, no position was open"}


def test_strategies_dock_validates_inline_and_saves_valid_edits(qtbot, data_dir, secrets, monkeypatch):
    from station.ui.strategies_dock import StrategiesDock

    questions = []

    def answer(dialog):  # every question is answered "OK" (a name asked for keeps its suggestion)
        questions.append(dialog.findChild(type(dialog.findChild(QLabel)), "message").text()
                         if dialog.findChild(QLabel, "message") else dialog.labelText())
        return QDialog.Accepted

    monkeypatch.setattr(QDialog, "exec", answer)

    async def scenario():
        station = scenario_station(data_dir, secrets)
        await station.start()
        context = dock_context(station)
        dock = StrategiesDock(context)
        dock.show()
        find = lambda kind: next(i for i in dock._all_items() if tuple(i.data(0, Qt.UserRole)) == kind)  # noqa: E731
        port = find(("port", "Momentum", "NQ", 5001))
        revision = station.config.revision()
        port.setText(0, "70000")
        out_of_range = (port.text(3), station.config.revision() == revision, bool(dock.invalid_items()))
        port.setText(0, "5002")
        await dock.saving
        ports = station.config.load().strategy("Momentum").ticker("NQ").ports
        dock.tree.setCurrentItem(find(("ticker", "Momentum", "NQ")))
        dock.add_port(5003)
        await dock.saving
        item = find(("port", "Momentum", "NQ", 5003))
        item.setText(0, "5002")
        duplicate = item.text(3)
        dock.tree.setCurrentItem(find(("port", "Momentum", "NQ", 5003)))
        dock.remove_selected()
        await dock.saving
        route = find(("route", "Momentum", "ES", "paper"))
        route.setText(1, "x2")
        await dock.saving
        route = find(("route", "Momentum", "ES", "paper"))
        route.setText(1, "lots")
        bad_size = route.text(3)
        route.setText(1, "3")
        await dock.saving
        find(("strategy", "Swing")).setCheckState(0, Qt.Unchecked)
        await dock.saving
        find(("strategy", "Swing")).setText(0, "Swing2")
        await dock.saving
        dock.add_strategy()
        await dock.saving
        config = station.config.load()
        await station.stop()
        context.bridge.close()
        return out_of_range, ports, duplicate, bad_size, config

    out_of_range, ports, duplicate, bad_size, config = run_qt(scenario)
    assert out_of_range == ("port 70000 is out of range 1–65535", True, True)
    assert ports == (5002,) and duplicate == "port 5002 is listed twice"
    assert "give a quantity (2) or a multiplier (x1.5)" in bad_size
    momentum = config.strategy("Momentum")
    assert momentum.ticker("NQ").ports == (5002,)
    assert momentum.ticker("ES").destinations[0].qty == Decimal(3)
    assert config.strategy("Swing2") is not None and not config.strategy("Swing2").enabled
    assert config.strategy("Strategy 1") is not None
    assert questions[0] == "Remove NinjaTrader port <b>5003</b> from Momentum › NQ?"
    assert questions[1].startswith("Name of the new strategy")


def test_unknown_ati_folder_is_flagged(qtbot, data_dir, secrets, tmp_path):
    from station.ui.strategies_dock import StrategiesDock

    station = Station(Options(data_dir=data_dir, port=0), secrets)
    station.config.import_document({"destinations": {"nt": {"type": "ninjatrader-ati", "account": "Sim101",
                                                            "incoming": str(tmp_path), "outgoing": "/no/such/dir"}}})
    context = dock_context(station)
    dock = StrategiesDock(context)
    qtbot.addWidget(dock)
    item = next(i for i in dock._all_items() if tuple(i.data(0, Qt.UserRole)) == ("destination", "nt"))
    assert item.text(3) == "outgoing folder /no/such/dir does not exist"
    context.bridge.close()
    station.store.close()


def test_trading_docks_show_live_orders_fills_positions_and_grab(qtbot, data_dir, secrets, tmp_path,
                                                                unanswered_questions):
    from station.domain.events import Notified, TickReceived
    from station.domain.marketdata import Tick
    from station.domain.timeutil import utc_now

    async def scenario():
        station = scenario_station(data_dir, secrets)
        await station.start()
        window = main_window(station)
        window.resize(1400, 860)
        window.show()
        station.bus.publish(TickReceived(Tick("ES", utc_now(), 5000.0)))
        await journal(station, make_alert("ES", "buy", qty="1", price="5000"))
        await until(lambda: station.oms.book.net_position("ES") == 2)
        station.bus.publish(TickReceived(Tick("ES", utc_now(), 5010.0)))
        station.bus.publish(Notified("Order rejected", "a9-S-paper: no price", "warning"))
        orders, fills = window.dock_widget("OrdersDock").model, window.dock_widget("FillsDock").model
        positions = window.dock_widget("PositionsDock")
        await until(lambda: [o.status.value for o in orders.records()] == ["filled", "filled"]
                       and len(fills.records()) == 2 and "Total +1,000.00" in positions.total.text(),
                       what="orders, fills and positions at the new mark")
        grabs = {}
        for name in ("OrdersDock", "FillsDock", "PositionsDock", "ManualTradingDock", "StrategiesDock"):
            window.docks[name].show()
            window.docks[name].raise_()
            await until(lambda: window.dock_widget(name).isVisible(), what=f"{name} in front")
            path = tmp_path / f"{name}.png"
            window.dock_widget(name).grab().save(str(path))
            grabs[name] = path.stat().st_size
        dialog = window.show_api_settings()
        await dialog.loading
        token_shown = dialog.token.text() == station.rest.token.current_value() != ""
        dialog.dialog.close()
        docks = {name: window.dock_widget(name) for name in window.docks}
        status = window.statusBar().currentMessage()
        window.close()  # Ctrl+Q with positions open asks first: refused, the window stays
        refused = window.isVisible() and unanswered_questions.pop()
        window.close_without_asking()  # as SIGTERM does
        closed = not window.isVisible()
        await station.stop()
        return docks, grabs, token_shown, status, refused, closed

    docks, grabs, token_shown, status, refused, closed = run_qt(scenario)
    assert "Quit with 2 positions open?" in refused and "+1 ES (Momentum at paper)" in refused and closed
    orders_model = docks["OrdersDock"].model
    assert [o.status.value for o in orders_model.records()] == ["filled", "filled"]
    assert len(docks["FillsDock"].model.records()) == 2
    positions = docks["PositionsDock"]
    marked = {m.position.strategy: m for m in positions.model.records()}
    # Swing sets no point value for ES: the futures table's 50, as Momentum's setting says
    assert marked["Momentum"].unrealized_pnl == Decimal(500) and marked["Swing"].unrealized_pnl == Decimal(500)
    assert "Total +1,000.00" in positions.total.text()
    assert all(size > 2000 for size in grabs.values()) and token_shown
    assert "Order rejected" in status or docks  # tray offscreen: the status bar shows it


def test_a_stop_signal_closes_the_window_without_asking_even_with_positions_open(qtbot, data_dir, secrets):
    """SIGTERM/SIGINT set Station's stop request: the window closes at once, no question nobody could answer."""
    import asyncio

    from station.ui.launch import window_session

    async def scenario():
        station = scenario_station(data_dir, secrets)
        await station.start()
        await journal(station, make_alert("ES", "buy", qty="1", price="5000"))
        await until(lambda: station.oms.book.net_position("ES") == 2)
        stop, earlier = asyncio.Event(), set(qapp_windows())
        session = asyncio.ensure_future(window_session(station, stop))
        ours = lambda: [w for w in qapp_windows() if w not in earlier and w.objectName() == "MainWindow"]  # noqa: E731
        await until(lambda: any(w.isVisible() for w in ours()), what="the window open")
        stop.set()  # what the signal handler does
        await asyncio.wait_for(session, 5)
        still_open = [w for w in ours() if w.isVisible()]
        await station.stop()
        return still_open

    assert run_qt(scenario) == []  # closed; and no modal question was asked (the conftest checks)


def qapp_windows():
    from PySide6.QtWidgets import QApplication

    return QApplication.topLevelWidgets()
