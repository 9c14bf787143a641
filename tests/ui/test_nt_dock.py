"""The NinjaTrader dock offscreen, fed by a real TCP port broker and bus events."""

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from support.launch import free_port, run_qt
from support.wait import until
from station.app import Options, Station
from station.brokers.ninjatrader.loopback import LoopbackNinjaTrader
from station.brokers.ninjatrader.tcp import Backoff, TcpPortBroker
from station.domain.alert import Alert
from station.domain.enums import ConnectionState, OrderStatus, Side
from station.domain.events import ConnectionChanged, OrderReported, OrderUpdated
from station.domain.orders import Order, OrderRequest
from station.ui.launch import main_window
from station.ui import ninjatrader_addon
from station.ui.ninjatrader_dock import NinjaTraderDock


@pytest.fixture(autouse=True)
def dark_theme(qapp):
    from station.ui.theme import apply_theme

    apply_theme(qapp)


def request(n: int, port: int) -> OrderRequest:
    alert = Alert(ticker="AAPL", action=Side.BUY, received_at=datetime.now(timezone.utc), qty=Decimal(10),
                  price=Decimal("150.25"), alert_id=n)
    return OrderRequest(client_order_id=f"a{n}-MomentumStrategy-port_{port}", destination=f"port:{port}",
                        ticker="AAPL", side=Side.BUY, qty=Decimal(10), strategy="MomentumStrategy",
                        alert_id=n, alert=alert)


def test_dock_shows_each_port_state_waiting_lines_and_last_delivery(qtbot, data_dir, secrets, tmp_path):
    up, down = free_port(), free_port()

    async def scenario():
        core = Station(Options(data_dir=data_dir, port=free_port()), secrets)
        await core.config.import_document_async({
            "destinations": {"nt-sim": {"type": "ninjatrader-ati", "account": "Sim101",
                                        "incoming": str(tmp_path / "in"), "outgoing": str(tmp_path / "out")}},
            "strategies": {"MomentumStrategy": {"accounts": {}, "tickers": {
                "AAPL": {"ports": [up]}, "TSLA": {"ports": [up, down]},
                "MES": {"ports": [], "destinations": {"nt-sim": {"qty": 1}}}}}}})
        listener = LoopbackNinjaTrader(up)
        await listener.start()
        broker = TcpPortBroker(up, core.bus, backoff=Backoff(0.02, maximum=0.2))
        other = TcpPortBroker(down, core.bus, backoff=Backoff(0.02, maximum=0.2))
        core.components += [broker, other]
        await core.start()
        window = main_window(core)
        window.resize(1100, 700)
        window.show()
        dock = window.dock_widget("NinjaTraderDock")
        window.docks["NinjaTraderDock"].raise_()
        await until(lambda: broker.state is ConnectionState.CONNECTED, what="the listening port connected")
        for n in (1, 2):  # as the oms does: created (new), then handed over
            core.bus.publish(OrderUpdated(Order(request(n, up))))
            await broker.submit(request(n, up))
        for n in (3, 4, 5):  # the down port's orders wait in the oms
            core.bus.publish(OrderUpdated(Order(request(n, down))))
        await listener.wait_for(2)
        await until(lambda: dock.rows[f"port:{up}"].sent == 2 and len(dock.rows[f"port:{down}"].waiting) == 3
                    and "connection refused" in dock.rows[f"port:{down}"].detail,
                    what="the bridge's batches in the dock")
        path = tmp_path / "ninjatrader-dock.png"
        window.docks["NinjaTraderDock"].grab().save(str(path))
        rows = {r.name: r for r in dock.model.records()}
        summary = dock.summary.text()
        window.close()
        await core.stop()
        await listener.stop()
        return rows, summary, path

    rows, summary, path = run_qt(scenario)
    assert list(rows) == [f"port:{p}" for p in sorted((up, down))] + ["nt-sim"]
    first, second = rows[f"port:{up}"], rows[f"port:{down}"]
    assert first.state is ConnectionState.CONNECTED and first.sent == 2 and not first.waiting
    assert first.last_delivery is not None and first.used_by == "MomentumStrategy: AAPL, TSLA"
    assert second.state is ConnectionState.ERROR and len(second.waiting) == 3  # down: red, as in the status bar
    assert "connection refused" in second.detail
    assert rows["nt-sim"].kind == "ATI files" and rows["nt-sim"].used_by == "MomentumStrategy: MES"
    assert summary.startswith("1 of 3 connected · 3 lines waiting · last delivery ")
    assert path.stat().st_size > 3000


def test_dock_rows_follow_events_without_a_window(qtbot):
    dock = NinjaTraderDock()
    qtbot.addWidget(dock)
    assert "No NinjaTrader ports" in dock.summary.text()
    dock.on_connections([ConnectionChanged("port:5001", "broker", ConnectionState.CONNECTING),
                         ConnectionChanged("ib", "broker", ConnectionState.CONNECTED)])
    assert [r.name for r in dock.model.records()] == ["port:5001"]  # other brokers are not NinjaTrader's
    order = Order(request(1, 5001))
    dock.on_orders([OrderUpdated(order)])
    assert len(dock.rows["port:5001"].waiting) == 1
    dock.on_orders([OrderUpdated(order.transition(OrderStatus.REJECTED))])
    assert not dock.rows["port:5001"].waiting and dock.rows["port:5001"].sent == 0
    # the dispatcher says an order handed over, the port says it written: one line sent
    dock.on_reports([OrderReported("port:5001", "a2", OrderStatus.SUBMITTED),
                     OrderReported("port:5001", "a2", OrderStatus.SUBMITTED)])
    assert dock.rows["port:5001"].sent == 1


def _colour_of_light(status, name: str) -> str:
    return status.lights[name].text().split('color:', 1)[1].split('"', 1)[0]


def test_a_down_port_is_red_in_both_places_and_a_removed_one_leaves_no_light(qtbot, data_dir, secrets, tmp_path):
    """Issue 17: a removed port kept a grey light; a down port's light stayed grey while its dock said red."""
    from station.ui import theme

    kept, dropped = free_port(), free_port()

    async def scenario():
        core = Station(Options(data_dir=data_dir, port=free_port()), secrets)
        await core.config.import_document_async({"strategies": {"S": {"accounts": {}, "tickers": {
            "AAPL": {"ports": [kept]}, "TSLA": {"ports": [dropped]}}}}})
        await core.start()
        window = main_window(core)
        window.show()
        dock = window.dock_widget("NinjaTraderDock")
        status = window.status
        names = (f"port:{kept}", f"port:{dropped}")
        await until(lambda: all(n in status.lights and status.lights[n].state is ConnectionState.ERROR for n in names)
                    and all(dock.rows[n].state is ConnectionState.ERROR for n in names), what="both ports down")
        colours = {n: (_colour_of_light(status, n), dock.model.data(dock.model.index(
            [r.name for r in dock.model.records()].index(n), 1), Qt.ForegroundRole)) for n in names}
        await core.config.import_document_async({"strategies": {"S": {"accounts": {}, "tickers": {
            "AAPL": {"ports": [kept]}}}}})  # TSLA and its port are gone
        await until(lambda: f"port:{dropped}" not in status.lights and f"port:{dropped}" not in dock.rows,
                    what="the removed port's light and row gone")
        lights = sorted(status.lights)
        rows = [r.name for r in dock.model.records()]
        health = {e.name for e in core.latest_connections()}
        window.close()
        await core.stop()
        return colours, lights, rows, health

    from PySide6.QtCore import Qt

    colours, lights, rows, health = run_qt(scenario)
    for name, (light, cell) in colours.items():
        assert light == theme.RED, name
        assert cell.name().lower() == theme.RED.lower(), name
    assert f"port:{dropped}" not in lights and f"port:{kept}" in lights
    assert rows == [f"port:{kept}"] and f"port:{dropped}" not in health


def test_install_add_on_copies_it_into_ninjatrader_and_says_the_steps_left(qtbot, tmp_path):
    addons = tmp_path / "Documents" / "NinjaTrader 8" / "bin" / "Custom" / "AddOns"
    (addons / "StationReceiver").mkdir(parents=True)
    (addons / "StationReceiver" / "Obsolete.cs").write_text("// from an older Station")
    (addons / "SomeoneElses.cs").write_text("// not ours: left alone")

    async def scenario():
        dock = NinjaTraderDock()
        dock.addons_dir = addons
        dock.resize(900, 420)
        dock.show()
        assert dock.install_note.isHidden()
        dock.copy_action.trigger()
        await dock.installing
        path = tmp_path / "ninjatrader-dock-installed.png"
        dock.grab().save(str(path))
        note = dock.install_note.text()
        visible = dock.install_note.isVisible() and dock.install_button.isEnabled()
        dock.close()
        return note, visible, path

    note, visible, path = run_qt(scenario)
    source = sorted(p.name for p in ninjatrader_addon.addon_source().glob("*.cs"))
    installed = addons / "StationReceiver"
    assert sorted(p.name for p in installed.iterdir()) == source and len(source) > 10
    for name in source:
        assert (installed / name).read_bytes() == (ninjatrader_addon.addon_source() / name).read_bytes()
    assert (addons / "SomeoneElses.cs").exists()
    assert visible and str(installed) in note and "Obsolete.cs" in note
    assert "NinjaScript Editor" in note and "F5" in note and "New › Station Receiver" in note
    assert path.stat().st_size > 3000


def test_install_add_on_writes_an_nt8_import_archive(qtbot, tmp_path, monkeypatch):
    import zipfile

    from PySide6.QtWidgets import QFileDialog

    target = tmp_path / "out" / "StationReceiver"
    target.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "NinjaScript archive (*.zip)"))

    async def scenario():
        dock = NinjaTraderDock()
        dock.zip_action.trigger()
        await dock.installing
        note = dock.install_note.text()
        dock.close()
        return note

    note = run_qt(scenario)
    archive = target.with_suffix(".zip")
    names = zipfile.ZipFile(archive).namelist()
    source = sorted(p.name for p in ninjatrader_addon.addon_source().glob("*.cs"))
    assert names[0] == "Info.xml" and sorted(names[1:]) == [f"AddOns/StationReceiver/{n}" for n in source]
    assert "<NinjaTrader>" in zipfile.ZipFile(archive).read("Info.xml").decode()
    assert str(archive) in note and "Tools › Import › NinjaScript Add-On" in note


def test_an_install_that_cannot_write_says_why(qtbot, tmp_path):
    blocked = tmp_path / "AddOns"
    blocked.write_text("a file where the folder should be")

    async def scenario():
        dock = NinjaTraderDock()
        dock.addons_dir = blocked
        dock.copy_action.trigger()
        await dock.installing
        text = dock.install_note.text()
        dock.close()
        return text

    assert "not installed" in run_qt(scenario)
