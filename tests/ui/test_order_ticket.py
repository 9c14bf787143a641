"""The Manual Trading ticket with a real Station: each order type reaches paper as asked, prices step by the tick,
a bracket template's exits arrive held with their entry, the question states the whole order, templates persist."""

from decimal import Decimal as D

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QDialog, QLabel

from support.launch import run_qt
from support.wait import until
from station.app import Options, Station
from station.domain.enums import OrderType, TimeInForce

CONFIG = {
    "destinations": {"paper": {"type": "paper"}, "paper2": {"type": "paper"}},
    "strategies": {"Momentum": {"tickers": {"ES": {"destinations": {"paper": {}, "paper2": {}}}}}},
}


@pytest.fixture(autouse=True)
def dark_theme(qapp):
    from station.ui.theme import apply_theme

    apply_theme(qapp)


def ticket(station, settings):
    from station.ui.bridge import UiBridge
    from station.ui.manual_panel import ManualTradingDock

    bridge = UiBridge(station.bus)
    panel = ManualTradingDock(bridge, station.config.load, settings, prices=station.oms.book.marks)
    panel.resize(330, 560)
    panel.show()
    panel.strategy.setCurrentText("Momentum")
    panel.ticker.setCurrentText("ES")
    return bridge, panel


def tick(station, price):
    from station.domain.events import TickReceived
    from station.domain.marketdata import Tick
    from station.domain.timeutil import utc_now

    station.bus.publish(TickReceived(Tick("ES", utc_now(), float(price))))


async def place(panel, station, side, kind, *, limit=None, stop=None):
    before = set(station.oms.book.orders)
    panel.fields.set_kind(kind)
    if limit is not None:
        panel.fields.limit.set_price(D(limit))
    if stop is not None:
        panel.fields.stop.set_price(D(stop))
    panel.result.setText("")
    panel.buttons[side].click()
    await until(lambda: set(station.oms.book.orders) - before, what=f"the {kind} order recorded")
    await until(lambda: "placed" in panel.result.text(), what="answered")
    made = sorted(set(station.oms.book.orders) - before)
    await until(lambda: all(station.oms.book.orders[c].status.value not in ("new", "submitted") for c in made),
                what="at paper")
    return [station.oms.book.orders[c] for c in made]


def test_each_order_type_reaches_paper_as_asked_with_prices_on_the_tick(qtbot, data_dir, secrets, tmp_path):
    settings = QSettings(str(tmp_path / "ui.ini"), QSettings.IniFormat)

    async def scenario():
        station = Station(Options(data_dir=data_dir, port=0), secrets)
        station.config.import_document(CONFIG)
        await station.start()
        tick(station, "5000")
        bridge, panel = ticket(station, settings)
        panel.confirm.setChecked(False)
        await until(lambda: panel.fields.last.text() == "5,000.00", what="the last price shown")
        seen = {"prefilled": (panel.fields.limit.price(), panel.fields.stop.price())}
        panel.fields.limit.stepBy(3)
        seen["stepped"] = panel.fields.limit.price()
        panel.fields.limit.lineEdit().setText("5,001.30")
        panel.fields.limit.interpretText()
        panel.fields.limit.snap()
        seen["snapped"] = panel.fields.limit.price()
        panel.fields.destination.setCurrentIndex(panel.fields.destination.findData("paper"))
        panel.fields.set_time_in_force(TimeInForce.GTC)
        panel.qty.setValue(2)
        orders = {}
        orders["market"] = await place(panel, station, "buy", OrderType.MARKET)
        orders["limit"] = await place(panel, station, "buy", OrderType.LIMIT, limit="4990.25")
        orders["stop"] = await place(panel, station, "sell", OrderType.STOP, stop="4980.5")
        orders["stop_limit"] = await place(panel, station, "buy", OrderType.STOP_LIMIT, stop="5010", limit="5010.25")
        await until(lambda: station.oms.book.position("paper", "ES", "Momentum") == 2, what="the market buy filled")
        working = {o.client_order_id: o.status.value for o in station.oms.book.open_orders()}
        await station.stop()
        bridge.close()
        return seen, orders, working

    seen, orders, working = run_qt(scenario)
    assert seen == {"prefilled": (D("5000"), D("5000")), "stepped": D("5000.75"), "snapped": D("5001.25")}
    shape = {name: [(o.request.destination, o.request.side.value, o.request.qty, o.request.order_type.value,
                     o.request.limit_price, o.request.stop_price, o.request.tif.value) for o in made]
             for name, made in orders.items()}
    assert shape == {
        "market": [("paper", "buy", D(2), "market", None, None, "gtc")],
        "limit": [("paper", "buy", D(2), "limit", D("4990.25"), None, "gtc")],
        "stop": [("paper", "sell", D(2), "stop", None, D("4980.50"), "gtc")],
        "stop_limit": [("paper", "buy", D(2), "stop_limit", D("5010.25"), D("5010.00"), "gtc")],
    }
    assert all(working.get(made[0].client_order_id) == "working" for made in
               (orders["limit"], orders["stop"], orders["stop_limit"]))


def test_a_template_bracket_arrives_held_and_the_question_states_it(qtbot, data_dir, secrets, tmp_path, monkeypatch):
    from station.ui.bracket_templates import load_templates

    settings = QSettings(str(tmp_path / "ui.ini"), QSettings.IniFormat)
    asked = []

    def answer(dialog):
        asked.append(dialog.findChild(QLabel, "message").text())
        return QDialog.Accepted

    monkeypatch.setattr(QDialog, "exec", answer)

    async def scenario():
        station = Station(Options(data_dir=data_dir, port=0), secrets)
        station.config.import_document(CONFIG)
        await station.start()
        tick(station, "5014")
        bridge, panel = ticket(station, settings)
        dialog = panel.edit_templates()
        dialog.new()
        dialog.name.setText("Scalp")
        dialog.stop.setValue(8)
        dialog.target.setValue(16)
        saved = dialog.save()
        dialog.new()
        dialog.name.setText("Runner")
        dialog.stop.setValue(10)
        dialog.trailing.setValue(6)
        refused = (dialog.save(), dialog.problem.text())
        dialog.grab().save("/tmp/orders-ui/templates_dialog.png")
        dialog.stop.setValue(0)
        dialog.save()
        dialog.names.setCurrentRow([t.name for t in dialog.templates].index("Runner"))
        dialog.delete()
        templates = [t.name for t in load_templates(settings)]
        dialog.close()
        panel.fields.template.setCurrentIndex(panel.fields.template.findText("Scalp"))
        panel.fields.set_time_in_force(TimeInForce.GTC)
        panel.fields.destination.setCurrentIndex(panel.fields.destination.findData("paper"))
        panel.qty.setValue(2)
        made = await place(panel, station, "buy", OrderType.LIMIT, limit="5012.25")
        status = panel.result.text()
        panel.resize(330, 360)
        panel.grab().save("/tmp/orders-ui/ticket.png")
        await station.stop()
        bridge.close()
        return saved, refused, templates, made, status

    saved, refused, templates, made, status = run_qt(scenario)
    assert saved and refused == (False, "a trailing stop replaces the stop: give one of them")
    assert templates == ["Scalp"]
    assert asked == ["<b>Buy 2 ES limit 5,012.25 GTC — Scalp: stop 8 ticks (5,010.25), target 16 ticks (5,016.25)"
                     " at paper</b> (Momentum)?"]
    entry, sl, tp = made
    assert (entry.request.order_type, entry.status.value) == (OrderType.LIMIT, "working")
    assert [(x.request.role.value, x.status.value, x.request.side.value, x.request.qty, x.request.parent_id)
            for x in (sl, tp)] == [("stop_loss", "held", "sell", D(2), entry.client_order_id),
                                   ("take_profit", "held", "sell", D(2), entry.client_order_id)]
    assert (sl.request.stop_price, tp.request.limit_price) == (D("5010.25"), D("5016.25"))
    assert "placed" in status
