"""What the window shows beside the tables: the kill-switch light, the sound on fills, the broker accounts,
and the ticket following the chart's symbol — each from events and queries, against a started Station."""

from decimal import Decimal

import pytest

from support.launch import run_with_window
from support.oms import journal, make_alert
from support.wait import until
from station.domain.commands import SetKillSwitch
from station.domain.events import AccountReported

CONFIG = {
    "destinations": {"paper": {"type": "paper"}},
    "strategies": {"Momentum": {"tickers": {"ES": {"destinations": {"paper": {}}}, "NQ": {"destinations": {"paper": {}}}}},
                   "Rates": {"tickers": {"ZN": {"destinations": {"paper": {}}}}}},
}


@pytest.fixture(autouse=True)
def dark_theme(qapp):
    from station.ui.theme import apply_theme

    apply_theme(qapp)


def with_window(data_dir, secrets, body):
    return run_with_window(secrets, data_dir, body, CONFIG)

def test_the_kill_switch_light_is_red_while_engaged_and_gone_once_rearmed(qtbot, data_dir, secrets):
    async def body(station, window):
        light = window.status.kill_switch
        off_at_start = not light.isVisible()
        station.bus.publish(SetKillSwitch(True, "daily loss"))
        await until(lambda: light.isVisible(), what="the light on")
        tip = light.toolTip()
        station.bus.publish(SetKillSwitch(False, "manual"))
        await until(lambda: not light.isVisible(), what="the light off")
        station.bus.publish(SetKillSwitch(True, "manual"))
        await until(lambda: station.oms.book.kill_switch_engaged)
        return off_at_start, tip

    off_at_start, tip = with_window(data_dir, secrets, body)
    assert off_at_start and "daily loss" in tip and "ET" in tip

    async def again(station, window):  # engaged when Station starts: the light is on at once
        return window.status.kill_switch.isVisibleTo(window)

    assert with_window(data_dir, secrets, again)


def test_a_fill_plays_a_sound_unless_switched_off(qtbot, data_dir, secrets):
    async def body(station, window):
        sound = window.fill_sound
        await journal(station, make_alert("ES", "buy", qty="1", price="5000"))
        await until(lambda: sound.played == 1, what="the sound of the fill")
        entry = next(a for a in window.menuBar().actions() if a.text() == "&Settings").menu()
        switch = next(a for a in entry.actions() if a.text() == "Sound on &fills")
        switch.trigger()  # off
        await journal(station, make_alert("ES", "sell", qty="1", price="5001"))
        await until(lambda: station.oms.book.net_position("ES") == 0)
        window.bridge.flush()
        return sound.played, sound.enabled

    assert with_window(data_dir, secrets, body) == (1, False)


def test_broker_accounts_show_balance_buying_power_and_the_days_pnl(qtbot, data_dir, secrets):
    async def body(station, window):
        station.bus.publish(AccountReported("ib", "DU123456", Decimal("100250.50"), Decimal("401002.00"),
                                            Decimal("-312.25")))
        dock = window.dock_widget("AccountsDock")
        await until(lambda: dock.model.rowCount() == 1, what="the account row")
        station.bus.publish(AccountReported("ib", "DU123456", Decimal("100300.00"), Decimal("401200.00"),
                                            Decimal("15.00")))
        await until(lambda: dock.model.record(0).day_pnl == Decimal("15.00"), what="updated in place")
        model = dock.model
        return [model.data(model.index(0, c)) for c in range(model.columnCount())], station.latest_accounts()

    row, known = with_window(data_dir, secrets, body)
    assert row[:6] == ["ib", "DU123456", "100,300.00", "401,200.00", "+15.00", "USD"]
    assert [(a.destination, a.balance) for a in known] == [("ib", Decimal("100300.00"))]  # what a new window reads


def test_the_ticket_follows_the_charts_symbol(qtbot, data_dir, secrets):
    async def body(station, window):
        ticket, chart = window.dock_widget("ManualTradingDock"), window.dock_widget("ChartDock")
        chart.show_symbol("NQ", "1m")
        followed = (ticket.strategy.currentText(), ticket.ticker.currentText())
        chart.show_symbol("ZN", "5m")  # listed by another strategy: the ticket switches to it
        switched = (ticket.strategy.currentText(), ticket.ticker.currentText())
        chart.show_symbol("CL", "1m")  # listed by none: the ticket stays
        stays = (ticket.strategy.currentText(), ticket.ticker.currentText())
        chart.show_symbol("ES", "1m")
        window.charts.new_chart("NQ", "5m")  # a second chart in view: NQ
        second = ticket.ticker.currentText()
        window.docks["ChartDock"].raise_()  # back to the first chart's tab: ES
        await until(lambda: ticket.ticker.currentText() == "ES", what="the ticket back on ES")
        return followed, switched, stays, second

    assert with_window(data_dir, secrets, body) == (("Momentum", "NQ"), ("Rates", "ZN"), ("Rates", "ZN"), "NQ")
