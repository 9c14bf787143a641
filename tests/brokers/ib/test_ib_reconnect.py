"""Surviving TWS: start before it is up, drops mid-order, the daily restart, hung sockets, lost links."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import pytest

from support.broker_harness import AskedOrders, Driven
from support.fake_tws import FakeTWS
from support.ib import TODAY, Recorder, fake, limit, make_broker, request, settings, wait_until  # noqa: F401
from station.brokers.protocol import BrokerError
from station.brokers.ib.broker import LOST_IN_FLIGHT, IBBroker
from station.brokers.ib.config import IBSettings
from station.bus import Bus
from station.domain.enums import ConnectionState
from station.domain.events import ConnectionChanged

CONNECTED = ConnectionState.CONNECTED


def sends(broker: IBBroker, rec: Recorder) -> list[tuple[int, str]]:
    """Every order the broker is asked to send, with how many reports had been recorded then."""
    sent: list[tuple[int, str]] = []
    submit = broker.submit

    async def recorded(request):
        sent.append((len(rec.events), request.client_order_id))
        await submit(request)

    broker.submit = recorded
    return sent


async def test_start_returns_at_once_and_connects_when_tws_comes_up(make_broker):
    fake = FakeTWS(today=TODAY)
    port = await fake.start()
    await fake.stop()  # TWS is not running yet
    started = time.perf_counter()
    broker, rec, bus = await make_broker(port, connect=False)
    assert time.perf_counter() - started < 0.05
    await wait_until(lambda: broker.state is ConnectionState.DISCONNECTED and "retrying" in broker.link.detail,
                     what="first attempt refused")
    assert "not listening at 127.0.0.1" in broker.link.detail
    with pytest.raises(BrokerError, match="not connected"):
        await broker.submit(request())
    await fake.start(port)
    await wait_until(lambda: broker.state is CONNECTED, what="connected")
    assert rec.states()[0] == "connecting" and rec.states()[-1] == "connected"
    assert "account DU123456" in broker.link.detail
    await broker.stop()
    assert broker.state is ConnectionState.DISCONNECTED and rec.states()[-1] == "disconnected"
    await fake.stop()


async def test_fills_during_a_drop_are_in_the_reports_after_the_reconnect(fake, make_broker):
    broker, rec, bus = await make_broker(fake.port)
    fake.fill_mode = "manual"
    order = limit("AAPL", "189", qty="10")
    await broker.submit(order)
    await wait_until(lambda: rec.statuses(order.client_order_id) == ["working"], what="working")
    fake.fill(order.client_order_id, 4, 188.9)
    await wait_until(lambda: len(rec.fills(order.client_order_id)) == 1, what="first fill")
    fake.drop_clients()  # the network drops mid-order ...
    await wait_until(lambda: broker.state is not CONNECTED, what="drop noticed")
    fake.fill(order.client_order_id, 6, 189.0)  # ... and the rest fills at IB meanwhile
    await wait_until(lambda: len(rec.reconciliations) == 2, what="reconnected and reconciled")
    reports = rec.reconciliations[-1].reports
    assert [(f.qty, f.price) for f in reports.fills] == [(Decimal(6), Decimal("189"))]
    assert [(o.client_order_id, o.status.value) for o in reports.orders] == [(order.client_order_id, "filled")]
    assert [(p.ticker, p.qty) for p in reports.positions] == [("AAPL", Decimal(10))]
    fills = rec.fills(order.client_order_id)
    assert [f.qty for f in fills] == [Decimal(4), Decimal(6)] and len({f.fill_id for f in fills}) == 2
    assert rec.statuses(order.client_order_id) == ["working", "partially_filled", "filled"]
    fake.drop_clients()  # another reconnect reports nothing twice
    await wait_until(lambda: len(rec.reconciliations) == 3, what="reconnected and reconciled again")
    assert rec.reconciliations[-1].reports.fills == () and len(rec.fills(order.client_order_id)) == 2
    assert rec.statuses(order.client_order_id)[-1] == "filled"


async def test_orders_asked_for_while_down_go_once_after_the_daily_restart_and_ids_never_repeat(fake, monkeypatch,
                                                                                                data_dir):
    bus = Bus()
    bus.bind(asyncio.get_running_loop())
    book = AskedOrders(bus)
    rec = Recorder(bus)
    broker = IBBroker("ib", settings(fake.port), bus, today=lambda: TODAY)
    sent = sends(broker, rec)
    driven = Driven(monkeypatch, data_dir)
    await driven(broker, bus, orders=book)
    try:
        first = request("AAPL")
        book.ask(bus, first)
        await wait_until(lambda: "filled" in rec.statuses(first.client_order_id), what="first filled")
        await fake.stop()  # TWS's daily restart begins
        await wait_until(lambda: broker.state is not CONNECTED, what="down")
        queued = [request("AAPL"), request("TSLA", qty="3"), limit("AAPL", "150")]
        for order in queued:
            book.ask(bus, order)
        fake.next_order_id = 1  # TWS came back having forgotten its id sequence
        await fake.start(fake.port)
        await wait_until(lambda: len(fake.placed()) == 4, what="queued orders sent")
        await wait_until(lambda: "working" in rec.statuses(queued[2].client_order_id), what="limit working")
        assert [coid for _, coid in sent] == [first.client_order_id] + [o.client_order_id for o in queued]
        assert len(rec.reconciliations) == 2  # the start, and after the restart ...
        assert all(at >= rec.reconciled_at[1] for at, _ in sent[1:])  # ... before anything new went out
        ids = [o.order_id for o in fake.placed()]
        assert len(set(ids)) == 4 and ids == sorted(ids)
        assert [o.order_ref for o in fake.placed()] == [first.client_order_id] + [o.client_order_id for o in queued]
        assert not [e for e in fake.errors_sent if e[1] == 103]
        await fake.restart(0.1)  # another restart: nothing is resent
        await wait_until(lambda: len(rec.reconciliations) == 3, what="back and reconciled")
        assert len(fake.placed()) == 4 and not [e for e in fake.errors_sent if e[1] == 103]
        assert rec.statuses(queued[2].client_order_id) == ["submitted", "working"]  # the send, then IB: once each
    finally:
        await driven.stop_all()


async def test_reconnects_within_15_s_of_tws_being_back_with_the_default_backoff(fake, make_broker):
    broker, rec, bus = await make_broker(fake.port, reconnect_initial_s=IBSettings().reconnect_initial_s,
                                         reconnect_max_s=IBSettings().reconnect_max_s)
    await fake.stop()
    await wait_until(lambda: broker.state is not CONNECTED, what="down")
    await wait_until(lambda: any("(attempt 5)" in e.detail for e in rec.by_kind[ConnectionChanged]), timeout=10,
                     what="the back-off grown")  # each attempt is announced once
    back = time.monotonic()
    await fake.start(fake.port)
    await wait_until(lambda: broker.state is CONNECTED, timeout=15, what="reconnected")
    assert time.monotonic() - back < 15


async def test_an_order_lost_with_the_connection_is_rejected_visibly_not_resent(fake, make_broker):
    broker, rec, bus = await make_broker(fake.port)
    fake.lose_orders = True  # TWS takes the order and dies before it is booked
    order = request("AAPL")
    await broker.submit(order)
    fake.drop_clients()
    fake.lose_orders = False
    await wait_until(lambda: rec.statuses(order.client_order_id) == ["rejected"], what="rejected")
    assert rec.reports(order.client_order_id)[0].reason == LOST_IN_FLIGHT
    assert fake.placed() == []


async def test_position_closed_while_down_is_reported_flat(fake, make_broker):
    broker, rec, bus = await make_broker(fake.port)
    order = request("AAPL", qty="5")
    await broker.submit(order)
    await wait_until(lambda: rec.positions("AAPL") and rec.positions("AAPL")[-1].qty == 5, what="long 5")
    fake.drop_clients()
    await wait_until(lambda: broker.state is not CONNECTED, what="down")
    sec = fake.securities.match({"symbol": "AAPL", "secType": "STK"})[0]
    del fake.positions[sec.con_id]  # closed from the TWS window while we were away
    await wait_until(lambda: len(rec.reconciliations) == 2, what="back and reconciled")
    assert [(p.ticker, p.qty) for p in rec.reconciliations[-1].reports.positions] == [("AAPL", 0)]
    assert rec.positions("AAPL")[-1].qty == 0


async def test_tws_losing_ibs_servers_makes_the_link_stale_until_restored(fake, make_broker):
    broker, rec, bus = await make_broker(fake.port)
    fake.broadcast_error(1100, "Connectivity between IB and Trader Workstation has been lost.")
    await wait_until(lambda: broker.state is ConnectionState.STALE, what="stale")
    with pytest.raises(BrokerError, match="stale"):
        await broker.submit(request())
    fake.broadcast_error(1102, "Connectivity between IB and Trader Workstation has been restored - data maintained.")
    await wait_until(lambda: broker.state is CONNECTED, what="restored")
    assert "reconnected to IB's servers" in broker.link.detail
    await wait_until(lambda: len(rec.reconciliations) == 2, what="reconciled again before trading")


async def test_a_hung_tws_is_found_by_the_heartbeat_and_reconnected(fake, make_broker):
    broker, rec, bus = await make_broker(fake.port, heartbeat_s=0.2, heartbeat_timeout_s=0.3, connect_timeout_s=0.5)
    fake.frozen = True
    await wait_until(lambda: broker.state is not CONNECTED, timeout=5, what="hang noticed")
    fake.frozen = False
    fake.drop_clients()
    await wait_until(lambda: broker.state is CONNECTED, timeout=5, what="back")


async def test_client_id_in_use_and_unmanaged_account_are_errors_the_trader_sees(fake, make_broker):
    import ib_async

    other = ib_async.IB()
    await other.connectAsync("127.0.0.1", fake.port, clientId=7, timeout=3)
    broker, rec, bus = await make_broker(fake.port, connect=False, connect_timeout_s=0.3)
    await wait_until(lambda: broker.state is ConnectionState.ERROR, what="client id clash")
    assert "client id 7 is already in use" in broker.link.detail
    other.disconnect()
    await wait_until(lambda: broker.state is CONNECTED, what="connects once the id is free")
    wrong, _, _ = await make_broker(fake.port, connect=False, name="ib2", client_id=8, account="U999",
                                    connect_timeout_s=0.3)
    await wait_until(lambda: wrong.state is ConnectionState.ERROR, what="account error")
    assert "account U999 is not managed by this TWS login (it manages DU123456)" in wrong.link.detail
