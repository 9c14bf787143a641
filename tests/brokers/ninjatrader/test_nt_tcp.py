"""NinjaTrader TCP ports against a real loopback listener speaking the line protocol."""

import asyncio
import json
import socket
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from support.launch import free_port
from support.wait import until
from station.brokers.protocol import Broker, BrokerError
from station.brokers.ninjatrader import build
from station.brokers.registry import BrokerContext, port_destination
from station.brokers.ninjatrader.loopback import LoopbackNinjaTrader
from station.brokers.ninjatrader.parsing import port_line
from station.backoff import Backoff
from station.brokers.ninjatrader.tcp import TcpPortBroker
from station.bus import Bus
from station.domain.alert import Alert
from station.domain.enums import ConnectionState, OrderStatus, Side
from station.domain.events import ConnectionChanged, OrderReported
from station.domain.orders import OrderRequest
from station.domain.timeutil import utc_now

UTC = timezone.utc


class Recorder:
    """Collects what brokers publish."""

    def __init__(self, bus: Bus) -> None:
        self.reports: list[OrderReported] = []
        self.states: list[ConnectionChanged] = []
        bus.subscribe(OrderReported, self.reports.append)
        bus.subscribe(ConnectionChanged, self.states.append)

    def submitted(self, destination: str) -> list[str]:
        return [r.client_order_id for r in self.reports
                if r.destination == destination and r.status is OrderStatus.SUBMITTED]

    async def until(self, predicate, timeout: float = 5.0) -> None:
        await until(predicate, timeout, what=f"condition; reports: {self.reports[-5:]}")

    async def state(self, name: str, state: ConnectionState, timeout: float = 5.0) -> None:
        await self.until(lambda: any(e.name == name and e.state is state for e in self.states[-3:]), timeout)


def order(n: int, port: int, **alert_fields) -> OrderRequest:
    fields = dict(ticker="AAPL", action=Side.BUY, received_at=datetime(2024, 1, 4, 15, 30, tzinfo=UTC),
                  qty=Decimal(10), price=Decimal("150.25"), alert_id=n, position="short",
                  trade_id="Open_Long_ID_123", sent_at=datetime(2024, 1, 4, 15, 30, tzinfo=UTC))
    a = Alert(**{**fields, **alert_fields})
    return OrderRequest(client_order_id=f"a{n}-MomentumStrategy-port_{port}", destination=f"port:{port}",
                        ticker="AAPL", side=Side.BUY, qty=Decimal(10), strategy="MomentumStrategy",
                        alert_id=n, alert=a)


def fast_broker(port: int, bus: Bus, **kw) -> TcpPortBroker:
    return TcpPortBroker(port, bus, backoff=Backoff(initial=0.02, maximum=0.2), **kw)


async def connected(port: int) -> tuple[TcpPortBroker, Recorder]:
    """A started broker for `port` once it reports CONNECTED, and what it publishes."""
    bus = Bus()
    seen = Recorder(bus)
    broker = fast_broker(port, bus)
    await broker.start()
    await seen.state(broker.name, ConnectionState.CONNECTED)
    return broker, seen


@pytest.fixture
async def nt():
    """A started loopback NinjaTrader listener (stopped after the test)."""
    listeners: list[LoopbackNinjaTrader] = []

    async def make(port: int = 0) -> LoopbackNinjaTrader:
        listener = LoopbackNinjaTrader(port)
        await listener.start()
        listeners.append(listener)
        return listener

    yield make
    for listener in listeners:
        await listener.stop()


async def test_one_port_gets_the_exact_line_and_reports_submitted(nt):
    listener = await nt()
    broker, seen = await connected(listener.port)
    assert isinstance(broker, Broker) and broker.name == f"port:{listener.port}"
    request = order(17, listener.port)
    await broker.submit(request)
    await listener.wait_for(1)
    assert listener.raw == [
        b'{"id": "a17-MomentumStrategy-port_%d", "alert_id": 17, "strategy": "MomentumStrategy", '
        b'"ticker": "AAPL", "action": "buy", "qty": 10, "price": 150.25, "position": "short", '
        b'"target_position": null, "trade_id": "Open_Long_ID_123", "time": "2024-01-04T10:30:00-05:00", "order_type": null, "limit_price": null, "stop_price": null, '
        b'"tif": null, "stop_loss": null, "take_profit": null, "trailing_stop": null}\n'
        % listener.port]
    await seen.until(lambda: seen.submitted(broker.name) == [request.client_order_id])
    assert broker.last_delivery is not None
    await broker.stop()
    assert seen.states[-1].state is ConnectionState.DISCONNECTED and seen.states[-1].kind == "broker"


async def test_two_ports_each_get_the_line(nt):
    first, second = await nt(), await nt()
    bus = Bus()
    seen = Recorder(bus)
    brokers = [fast_broker(p, bus) for p in (first.port, second.port)]
    for broker in brokers:
        await broker.start()
    for broker in brokers:
        await seen.state(broker.name, ConnectionState.CONNECTED)
        await broker.submit(order(5, broker.port))
    lines = [(await first.wait_for(1))[0], (await second.wait_for(1))[0]]
    assert [line["id"] for line in lines] == [f"a5-MomentumStrategy-port_{first.port}",
                                              f"a5-MomentumStrategy-port_{second.port}"]
    assert {k: v for k, v in lines[0].items() if k != "id"} == {k: v for k, v in lines[1].items() if k != "id"}
    for broker in brokers:
        await broker.stop()


async def test_port_down_for_a_while_then_back_delivers_in_order_none_lost(nt):
    listener = await nt()
    broker, seen = await connected(listener.port)
    for n in range(1, 6):
        await broker.submit(order(n, listener.port))
    await listener.wait_for(5)

    await listener.stop()
    await seen.state(broker.name, ConnectionState.ERROR, timeout=1.0)  # noticed at once, and red: it is down
    for n in range(6, 106):  # handed over while down (a race the oms can lose): they wait here
        await broker.submit(order(n, listener.port))
    tried = broker._backoff.attempts
    await seen.until(lambda: broker._backoff.attempts >= tried + 3)  # several refused reconnects
    assert broker.state is ConnectionState.ERROR and "retrying" in broker.detail
    assert broker.waiting == 105  # the hundred, and the five this silent receiver gets again (its window)

    await listener.start()
    await listener.wait_for(105, timeout=5)
    assert listener.ids == [f"a{n}-MomentumStrategy-port_{listener.port}" for n in range(1, 106)]
    assert listener.duplicates == listener.ids[:5], "written again after the connection ended, dropped by id"
    assert listener.errors == []
    await seen.until(lambda: len(seen.submitted(broker.name)) == 105)
    assert seen.submitted(broker.name) == listener.ids  # each reported once, re-sends are not reports
    await broker.stop()


async def test_connection_reset_mid_stream_loses_nothing_and_keeps_order(nt):
    listener = await nt()
    listener.break_after = 7  # the strategy dies (reset) after every 7 lines it reads
    broker, seen = await connected(listener.port)
    for n in range(1, 31):
        await broker.submit(order(n, listener.port))
        if n % 4 == 0:
            await asyncio.sleep(0.01)  # the traffic's shape (bursts of four), not a wait for anything
    await listener.wait_for(30, timeout=10)
    assert listener.ids == [f"a{n}-MomentumStrategy-port_{listener.port}" for n in range(1, 31)]
    assert listener.accepted >= 4  # it really broke and came back
    assert set(listener.duplicates) <= set(listener.ids)  # re-sent lines are dropped by id
    assert len(seen.submitted(broker.name)) == 30  # reported once each, re-sends are not reports
    await broker.stop()


async def test_lines_waiting_at_stop_are_kept_for_the_next_start(data_dir, nt):
    port = free_port()
    bus = Bus()
    seen = Recorder(bus)
    broker = fast_broker(port, bus, data_dir=data_dir)
    await broker.start()
    for n in (1, 2, 3):
        await broker.submit(order(n, port))
    await broker.stop()
    kept = data_dir / "ninjatrader" / f"port-{port}.outbox.jsonl"
    assert kept.read_bytes() == b"".join(port_line(order(n, port)) for n in (1, 2, 3))

    again = fast_broker(port, bus, data_dir=data_dir)  # a restart
    await again.start()
    await again.submit(order(2, port))  # the oms hands over what it still has as new: no second copy
    await again.submit(order(4, port))
    listener = await nt(port)
    await listener.wait_for(4)
    assert [line["alert_id"] for line in listener.lines] == [1, 2, 3, 4] and len(listener.raw) == 4
    await seen.until(lambda: not kept.exists())  # all written: nothing waits
    await again.stop()
    # a receiver that never acknowledged: the lines of its window wait for the next start (dropped there by id)
    assert kept.read_bytes() == b"".join(port_line(order(n, port)) for n in (1, 2, 3, 4))


async def test_lines_an_answering_receiver_acknowledged_are_not_kept_at_stop(data_dir, nt):
    listener = LoopbackNinjaTrader(answers=True)
    port = await listener.start()
    bus = Bus()
    broker = fast_broker(port, bus, data_dir=data_dir)
    await broker.start()
    for n in (1, 2, 3):
        await broker.submit(order(n, port))
    await until(lambda: broker.journal.acknowledging and len(broker.journal) == 0, what="acks of three lines")
    await broker.stop()
    assert not (data_dir / "ninjatrader" / f"port-{port}.outbox.jsonl").exists()
    listener.freeze()  # it stops reading: what it is sent now is not acknowledged
    again = fast_broker(port, bus, data_dir=data_dir)
    await again.start()
    await again.submit(order(4, port))
    await until(lambda: again.journal.unread_ids == [order(4, port).client_order_id], what="line 4 written")
    await again.stop()
    kept = data_dir / "ninjatrader" / f"port-{port}.outbox.jsonl"
    assert kept.read_bytes() == port_line(order(4, port)), "only the line it did not acknowledge waits"
    await listener.stop()


async def test_cancel_withdraws_a_waiting_line_but_not_a_written_one(nt):
    port = free_port()
    bus = Bus()
    seen = Recorder(bus)
    broker = fast_broker(port, bus)
    await broker.start()
    await broker.submit(order(1, port))
    await broker.submit(order(2, port))
    await broker.cancel(order(1, port).client_order_id)
    assert seen.reports[-1].status is OrderStatus.CANCELLED
    listener = await nt(port)
    await listener.wait_for(1)
    await seen.until(lambda: broker.waiting == 0 and seen.submitted(broker.name) == [order(2, port).client_order_id])
    assert [line["alert_id"] for line in listener.lines] == [2]
    with pytest.raises(BrokerError, match="already written"):
        await broker.cancel(order(2, port).client_order_id)
    await broker.stop()


async def test_a_line_that_cannot_be_built_is_refused_clearly():
    broker = fast_broker(free_port(), Bus())
    with pytest.raises(BrokerError, match="cannot build"):
        await broker.submit(order(1, broker.port, price=Decimal("NaN")))
    assert broker.waiting == 0


def test_build_and_names(data_dir):
    destination = port_destination(5001)
    assert (destination.name, destination.type) == ("port:5001", "ninjatrader-port")
    broker = build(destination, BrokerContext(Bus(), data_dir))
    assert isinstance(broker, TcpPortBroker) and broker.port == 5001 and broker.host == "127.0.0.1"
    assert broker.name == "port:5001"
    assert broker.capabilities.reports_fills is False and broker.capabilities.drops_repeats is True
    assert broker.window_s == 600  # the default of the `ninjatrader.resend_window_s` setting
    with pytest.raises(ValueError):
        TcpPortBroker(70000, Bus())


def test_ports_bench_runs_and_loses_nothing(monkeypatch):
    from station.bench import ports

    monkeypatch.setattr(ports, "PACED", 20)
    monkeypatch.setattr(ports, "BURST", 200)
    monkeypatch.setattr(ports, "RATE", 1000)
    result = ports.run(None)
    assert result["lost"] == 0 and result["duplicates"] == 0
    assert result["p99_us"] > 0 and result["burst_lines_per_s"] > 0 and result["p99_vs_baseline"] > 0
    from station.bench import addon_receiver

    if addon_receiver.unavailable() is None:  # two way, against the add-on's core under Mono
        assert result["two_way_lost"] == 0
        assert 0 < result["two_way_written_to_ack_p50_us"] <= result["two_way_written_to_filled_p50_us"]
    else:
        assert result["two_way"].startswith("skipped: needs")


def test_ports_bench_skips_the_two_way_row_saying_why_without_mono(monkeypatch):
    from station.bench import addon_receiver, ports_two_way

    monkeypatch.setattr(addon_receiver.shutil, "which", lambda name: None)
    assert ports_two_way.measure(5, 100) == {"two_way": f"skipped: needs Mono ({addon_receiver.INSTALL_MONO})"}


async def test_reports_since_are_the_lines_written_since_and_a_line_cannot_be_changed():
    server = LoopbackNinjaTrader()
    port = await server.start()
    bus = Bus()
    broker = fast_broker(port, bus)
    await broker.start()
    try:
        before = utc_now()
        await broker.submit(order(1, port))
        await until(lambda: len(server.lines) == 1, what="written")
        middle = utc_now()
        await broker.submit(order(2, port))
        await until(lambda: len(server.lines) == 2, what="written")
        reports = await broker.reports(before)
        assert [(o.client_order_id, o.status) for o in reports.orders] == [
            (order(1, port).client_order_id, OrderStatus.SUBMITTED), (order(2, port).client_order_id, OrderStatus.SUBMITTED)]
        assert reports.fills == () and reports.positions == ()
        assert [o.client_order_id for o in (await broker.reports(middle)).orders] == [order(2, port).client_order_id]
        with pytest.raises(BrokerError, match="final once handed over"):
            await broker.replace(order(1, port))
    finally:
        await broker.stop()
        await server.stop()


async def test_lines_a_frozen_receiver_leaves_unacknowledged_survive_a_crash_of_station(data_dir):
    listener = LoopbackNinjaTrader(answers=True)
    port = await listener.start()
    broker = fast_broker(port, Bus(), data_dir=data_dir)
    await broker.start()
    await until(lambda: broker.state is ConnectionState.CONNECTED, what="connected")
    await broker.submit(order(1, port))
    await until(lambda: listener.lines and broker.journal.acknowledging and len(broker.journal) == 0, what="acked")
    listener.freeze()
    await broker.submit(order(2, port))
    await broker.submit(order(3, port))
    kept = data_dir / "ninjatrader" / f"port-{port}.unacknowledged.jsonl"
    await until(lambda: kept.exists(), what="the unacknowledged lines kept on disk")
    assert kept.read_bytes() == port_line(order(2, port)) + port_line(order(3, port))

    broker._task.cancel()  # Station dies: no stop, nothing more is written
    await asyncio.gather(broker._task, return_exceptions=True)
    await listener.drop_connections(abort=True)  # and NinjaTrader resets, what it had not read is gone
    listener.thaw()
    again = fast_broker(port, Bus(), data_dir=data_dir)
    await again.start()
    await listener.wait_for(3)
    assert [line["alert_id"] for line in listener.lines] == [1, 2, 3]
    await until(lambda: not kept.exists(), what="acknowledged now: the file goes")
    await again.stop()
    await listener.stop()


async def test_at_stop_a_receiver_that_never_acknowledges_keeps_the_lines_of_its_window_only(data_dir, nt):
    """CONTRACT.md: to a receiver that never acknowledges, the lines of the last resend_window_s are written again —
    not every line since it connected (a day's orders again after each restart of Station)."""
    listener = await nt()
    broker = fast_broker(listener.port, Bus(), data_dir=data_dir, resend_window_s=0.5)
    await broker.start()
    await broker.submit(order(1, listener.port))
    await listener.wait_for(1)
    await asyncio.sleep(1.0)  # line 1 is older than the window now
    await broker.submit(order(2, listener.port))
    await listener.wait_for(2)
    await broker.stop()
    kept = data_dir / "ninjatrader" / f"port-{listener.port}.outbox.jsonl"
    assert kept.read_bytes() == port_line(order(2, listener.port))

    again = fast_broker(listener.port, Bus(), data_dir=data_dir, resend_window_s=0.5)
    await again.start()
    await until(lambda: len(listener.raw) == 3, what="line 2 written again after the restart")
    await asyncio.sleep(0.3)  # anything more would have come by now
    assert [json.loads(raw)["alert_id"] for raw in listener.raw] == [1, 2, 2]
    await again.stop()


async def test_at_stop_lines_a_frozen_receiver_has_not_taken_are_kept_whatever_the_window(data_dir):
    """A receiver that never acknowledges and stopped reading, its buffer full: what is still queued at Station's stop
    may never reach it, so it is kept for the next start even when older than the window."""
    taken: list[socket.socket] = []
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small buffer fills at once
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.setblocking(False)
    port = server.getsockname()[1]

    async def accept() -> None:
        conn, _ = await asyncio.get_running_loop().sock_accept(server)
        taken.append(conn)  # and never read

    accepting = asyncio.create_task(accept())
    broker = fast_broker(port, Bus(), data_dir=data_dir, resend_window_s=0.2)
    await broker.start()
    try:
        await until(lambda: broker.state is ConnectionState.CONNECTED, what="connected")
        for n in range(2000):
            await broker.submit(order(n, port))
        await until(lambda: broker.waiting == 0, what="all handed to the socket")
        await asyncio.sleep(0.5)  # every line is older than the window now
        await broker.stop()
        kept = (data_dir / "ninjatrader" / f"port-{port}.outbox.jsonl").read_bytes().splitlines()
        assert kept and json.loads(kept[-1])["alert_id"] == 1999  # the last ones never reached it
    finally:
        await accepting
        for conn in taken:
            conn.close()
        server.close()
