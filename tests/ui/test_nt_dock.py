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
from station.domain.events import ConnectionChanged, OrderUpdated
from station.domain.orders import Order, OrderRequest
from station.ui.launch import main_window
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
    assert second.state is ConnectionState.DISCONNECTED and len(second.waiting) == 3
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
