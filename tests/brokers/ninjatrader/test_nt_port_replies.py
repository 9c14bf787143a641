"""What a NinjaTrader port's receiver answers, read back by Station's port broker over a real loopback socket:
acks, order states, fills (each once, stable ids, also when re-sent after a reconnect), bracket exits, positions;
a receiver that answers reports fills, one that never answers leaves its orders submitted."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from support.wait import until
from station.backoff import Backoff
from station.brokers.ninjatrader.loopback import LoopbackNinjaTrader
from station.brokers.ninjatrader.replies import AckReply, BadReply, OrderReply, PositionReply, exit_of, parse_reply
from station.brokers.ninjatrader.tcp import TcpPortBroker
from station.bus import Bus
from station.domain.instructions import Offset
from station.domain.orders import OrderRequest
from station.domain.alert import Alert
from station.domain.enums import ConnectionState, OrderRole, OrderStatus, OrderType, Side
from station.domain.events import DestinationBuilt, FillReported, OrderReported, PositionReported
from station.domain.orders import OrderRequest
from station.domain.timeutil import utc_now

D = Decimal
UTC = timezone.utc


# ---- the replies, pure ------------------------------------------------------------------------------


def test_the_three_replies_parse_as_the_contract_spells_them():
    assert parse_reply(b'{"type": "ack", "id": "a1"}\n') == AckReply("a1")
    assert parse_reply('{"type": "order", "id": "a1", "status": "partially_filled", "filled_qty": 1, '
                       '"avg_price": 5000.25, "reason": null}') == OrderReply("a1", OrderStatus.PARTIALLY_FILLED, D(1),
                                                                              D("5000.25"), None)
    assert parse_reply('{"type": "order", "id": null, "status": "rejected", "filled_qty": 0, "avg_price": null, '
                       '"reason": "line is not valid JSON"}') == OrderReply(None, OrderStatus.REJECTED, D(0), None,
                                                                           "line is not valid JSON")
    assert parse_reply('{"type": "position", "account": "Sim101", "instrument": "ES 12-26", "qty": -2, '
                       '"avg_price": 4999.5}') == PositionReply("Sim101", "ES 12-26", D(-2), D("4999.5"))
    assert parse_reply('{"type": "position", "account": "Sim101", "instrument": "ES 12-26", "qty": 0, '
                       '"avg_price": null}').avg_price is None


@pytest.mark.parametrize("raw, why", [
    ("not json", "not JSON"),
    ("[1]", "not a JSON object"),
    ('{"type": "hello"}', "type 'hello'"),
    ('{"type": "ack"}', "id None"),
    ('{"type": "order", "id": "a", "status": "done", "filled_qty": 0}', "status 'done'"),
    ('{"type": "order", "id": "a", "status": "filled", "filled_qty": true, "avg_price": 1}', "filled_qty True"),
    ('{"type": "order", "id": "a", "status": "filled", "filled_qty": 1, "avg_price": -1}', "is not a fill"),
    ('{"type": "position", "account": "S", "instrument": "ES", "qty": "1"}', "qty '1'"),
])
def test_what_is_no_reply_is_refused_saying_why(raw, why):
    with pytest.raises(BadReply, match=why.replace("(", r"\(")):
        parse_reply(raw)


def test_a_brackets_exits_are_named_after_their_entry():
    assert exit_of("a17-Mom-port_7001-sl") == ("a17-Mom-port_7001", "stop_loss")
    assert exit_of("a17-Mom-port_7001-tp-2") == ("a17-Mom-port_7001", "take_profit")
    assert exit_of("a17-Mom-port_7001-trail") == ("a17-Mom-port_7001", "trailing_stop")
    assert exit_of("a17-Mom-port_7001") is None and exit_of("-sl") is None


# ---- over a socket -----------------------------------------------------------------------------------


class ScriptedReceiver:
    """A receiver that answers each line with what `answer(line)` returns, and can speak unasked."""

    def __init__(self, answer=lambda line: [{"type": "ack", "id": line["id"]}]) -> None:
        self.answer = answer
        self.lines: list[dict] = []
        self.writer: asyncio.StreamWriter | None = None
        self.server: asyncio.AbstractServer | None = None
        self.port = 0

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        self.server.close()
        await self.server.wait_closed()
        if self.writer is not None:
            self.writer.close()

    def say(self, *replies) -> None:
        self.writer.write(b"".join((r if isinstance(r, bytes) else json.dumps(r).encode()) + b"\n" for r in replies))

    async def _serve(self, reader, writer) -> None:
        self.writer = writer
        while raw := await reader.readline():
            line = json.loads(raw)
            self.lines.append(line)
            self.say(*self.answer(line))


class Seen:
    def __init__(self, bus: Bus) -> None:
        self.events: list = []
        for kind in (OrderReported, FillReported, PositionReported, DestinationBuilt):
            bus.subscribe(kind, self.events.append)

    def of(self, kind) -> list:
        return [e for e in self.events if isinstance(e, kind)]

    def fills(self) -> list[tuple]:
        return [(f.fill.fill_id, f.fill.client_order_id, f.fill.side, f.fill.qty, f.fill.price, f.fill.strategy,
                 f.fill.ticker) for f in self.of(FillReported)]

    def statuses(self, coid: str) -> list[OrderStatus]:
        return [r.status for r in self.of(OrderReported) if r.client_order_id == coid]


def request(n: int, port: int, *, side: Side = Side.BUY, qty: int = 2, ticker: str = "ES") -> OrderRequest:
    alert = Alert(ticker=ticker, action=side, received_at=datetime(2024, 1, 4, 15, 30, tzinfo=UTC), qty=D(qty),
                  price=D("5000.25"), alert_id=n)
    return OrderRequest(client_order_id=f"a{n}-Mom-port_{port}", destination=f"port:{port}", ticker=ticker, side=side,
                        qty=D(qty), strategy="Mom", alert_id=n, alert=alert)


async def started(port: int, data_dir=None) -> tuple[TcpPortBroker, Seen]:
    bus = Bus()
    seen = Seen(bus)
    broker = TcpPortBroker(port, bus, backoff=Backoff(0.02, 0.2), data_dir=data_dir)
    await broker.start()
    await until(lambda: broker.state is ConnectionState.CONNECTED, what="connected")
    return broker, seen


async def test_an_answering_receiver_fills_and_positions_and_says_it_reports_fills(data_dir):
    receiver = LoopbackNinjaTrader(answers=True, fill_price=D("5000.25"))
    port = await receiver.start()
    broker, seen = await started(port, data_dir)
    assert broker.capabilities.reports_fills is False  # not known yet: it has not answered
    await broker.submit(request(1, port))
    await until(lambda: seen.of(PositionReported), what="the position")
    coid = request(1, port).client_order_id
    assert seen.fills() == [(f"port:{port}:{coid}:2", coid, Side.BUY, D(2), D("5000.25"), "Mom", "ES")]
    assert seen.statuses(coid) == [OrderStatus.SUBMITTED, OrderStatus.WORKING]  # filled comes with the fill
    assert [(p.destination, p.ticker, p.qty, p.avg_price) for p in seen.of(PositionReported)] == [
        (f"port:{port}", "ES", D(2), D("5000.25"))]
    [built] = seen.of(DestinationBuilt)
    assert built.name == f"port:{port}" and built.capabilities.reports_fills and built.capabilities.native_brackets
    assert broker.capabilities is built.capabilities and "receiver answers (Sim101)" in broker.detail
    reports = await broker.reports(utc_now() - timedelta(minutes=1))
    assert [(o.client_order_id, o.status) for o in reports.orders] == [(coid, OrderStatus.FILLED)]
    assert [f.fill_id for f in reports.fills] == [f"port:{port}:{coid}:2"]
    assert [(p.ticker, p.qty) for p in reports.positions] == [("ES", D(2))]
    await broker.stop()

    again = TcpPortBroker(port, Bus(), data_dir=data_dir)  # a restart remembers that this receiver answers
    assert again.capabilities.reports_fills and again.journal.acknowledging
    await receiver.stop()


async def test_partial_fills_and_replies_re_sent_after_a_reconnect_count_once(data_dir):
    receiver = ScriptedReceiver()
    port = await receiver.start()
    broker, seen = await started(port)
    coid = request(1, port).client_order_id
    await broker.submit(request(1, port, qty=3))
    await until(lambda: receiver.lines, what="the line")
    receiver.say({"type": "order", "id": coid, "status": "working", "filled_qty": 0, "avg_price": None, "reason": None},
                 {"type": "order", "id": coid, "status": "partially_filled", "filled_qty": 1, "avg_price": 5000,
                  "reason": None},
                 {"type": "order", "id": coid, "status": "filled", "filled_qty": 3, "avg_price": 5001, "reason": None})
    await until(lambda: len(seen.of(FillReported)) == 2, what="two fills")
    assert [(fid.rsplit(":", 1)[1], qty, price) for fid, _, _, qty, price, _, _ in seen.fills()] == [
        ("1", D(1), D(5000)), ("3", D(2), D("5001.5"))]  # 1 @ 5000 then 2 @ 5001.5 make 3 @ 5001

    heard = []
    broker.reply_listener = heard.append
    receiver.writer.transport.abort()  # the link drops; on the new connection the receiver says it all again
    await until(lambda: broker.state is ConnectionState.CONNECTED and receiver.writer.transport.is_closing() is False,
                what="reconnected")
    receiver.say({"type": "order", "id": coid, "status": "filled", "filled_qty": 3, "avg_price": 5001, "reason": None},
                 {"type": "order", "id": coid, "status": "partially_filled", "filled_qty": 1, "avg_price": 5000,
                  "reason": None},  # an older word arriving late changes nothing
                 {"type": "ack", "id": "marker"})
    await until(lambda: AckReply("marker") in heard, what="the replies read")
    assert len(seen.of(FillReported)) == 2
    assert seen.statuses(coid) == [OrderStatus.SUBMITTED, OrderStatus.WORKING]
    await broker.stop()
    await receiver.stop()


async def test_bracket_exits_fill_in_the_entrys_strategy_on_the_other_side_and_bad_lines_are_skipped(caplog):
    receiver = ScriptedReceiver()
    port = await receiver.start()
    broker, seen = await started(port)
    entry = request(1, port, qty=1)
    await broker.submit(entry)
    await until(lambda: receiver.lines, what="the line")
    coid = entry.client_order_id
    receiver.say(b"garbage that is no reply", {"type": "position", "account": "Sim101", "instrument": "ES 12-26",
                                               "qty": 1, "avg_price": 5000},
                 {"type": "order", "id": f"{coid}-tp", "status": "filled", "filled_qty": 1, "avg_price": 5010,
                  "reason": None},
                 {"type": "order", "id": f"{coid}-sl", "status": "cancelled", "filled_qty": 0, "avg_price": None,
                  "reason": None},
                 {"type": "order", "id": "someone-elses", "status": "filled", "filled_qty": 1, "avg_price": 1,
                  "reason": None},
                 {"type": "order", "id": None, "status": "rejected", "filled_qty": 0, "avg_price": None,
                  "reason": "line is not valid JSON"},
                 {"type": "position", "account": "Sim101", "instrument": "ES 12-26", "qty": 0, "avg_price": None})
    await until(lambda: len(seen.of(PositionReported)) == 2, what="both positions")
    assert seen.fills() == [(f"port:{port}:{coid}-tp:1", f"{coid}-tp", Side.SELL, D(1), D(5010), "Mom", "ES")]
    assert seen.statuses(f"{coid}-sl") == [OrderStatus.CANCELLED]
    assert [(p.ticker, p.qty, p.avg_price) for p in seen.of(PositionReported)] == [("ES", 1, D(5000)), ("ES", 0, None)]
    assert broker.state is ConnectionState.CONNECTED  # nothing of it disturbed the link
    assert "no reply" in caplog.text and "could not read: line is not valid JSON" in caplog.text
    await broker.stop()
    await receiver.stop()


async def test_a_receiver_that_never_answers_leaves_orders_submitted():
    receiver = LoopbackNinjaTrader()
    port = await receiver.start()
    broker, seen = await started(port)
    await broker.submit(request(1, port))
    await receiver.wait_for(1)
    await until(lambda: seen.of(OrderReported), what="submitted")
    assert seen.statuses(request(1, port).client_order_id) == [OrderStatus.SUBMITTED]
    assert not broker.capabilities.reports_fills and seen.of(DestinationBuilt) == []
    assert seen.of(FillReported) == [] and seen.of(PositionReported) == []
    await broker.stop()
    await receiver.stop()


async def test_a_bracket_goes_with_its_entrys_line_and_the_receivers_exits_are_the_oms_exits():
    receiver = ScriptedReceiver()
    port = await receiver.start()
    broker, seen = await started(port)
    assert broker.capabilities.native_brackets is False  # not before it answers
    entry = request(1, port, qty=1)
    coid = entry.client_order_id
    prices = {"stop_loss": {"order_type": OrderType.STOP, "stop_price": D(4990)},
              "take_profit": {"order_type": OrderType.LIMIT, "limit_price": D(5010)},
              "trailing_stop": {"order_type": OrderType.TRAILING_STOP, "offset": Offset("points", D(10))}}
    exits = tuple(OrderRequest(client_order_id=f"{coid}-{name}", destination=f"port:{port}", ticker="ES",
                               side=Side.SELL, qty=D(1), strategy="Mom", role=OrderRole(role), parent_id=coid,
                               oco_group=f"{coid}-oco", **prices[role])
                  for name, role in (("sl", "stop_loss"), ("tp", "take_profit"), ("ts", "trailing_stop")))
    await broker.submit_bracket(entry, exits)
    await until(lambda: receiver.lines, what="one line")
    assert [line["id"] for line in receiver.lines] == [coid], "the exits travel in the entry's line"
    receiver.say({"type": "order", "id": f"{coid}-trail", "status": "filled", "filled_qty": 1, "avg_price": 4990,
                  "reason": None},
                 {"type": "order", "id": f"{coid}-tp", "status": "cancelled", "filled_qty": 0, "avg_price": None,
                  "reason": None})
    await until(lambda: seen.of(FillReported) and seen.statuses(f"{coid}-tp"), what="the exits' replies")
    assert seen.fills() == [(f"port:{port}:{coid}-ts:1", f"{coid}-ts", Side.SELL, D(1), D(4990), "Mom", "ES")]
    assert broker.capabilities.native_brackets and "trailing_stop" in broker.capabilities.order_types
    await broker.stop()
    await receiver.stop()
