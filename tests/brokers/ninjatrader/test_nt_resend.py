"""What a NinjaTrader port writes again after its connection ends (CONTRACT.md "NinjaTrader", issue 14).

The rule, pure (`SentJournal`), then on real loopback sockets: a receiver that freezes (stops
reading while connected) and then resets loses no line, whether it acknowledges or not, and
whether the OS says what the peer's kernel acknowledged (Linux) or not (Windows: forced here).
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from support.wait import until
from station.backoff import Backoff
from station.brokers.ninjatrader import tcp
from station.brokers.ninjatrader.loopback import LoopbackNinjaTrader
from station.brokers.ninjatrader.sent_lines import Line, SentJournal
from station.brokers.ninjatrader.tcp import TcpPortBroker
from station.bus import Bus
from station.domain.alert import Alert
from station.domain.enums import ConnectionState, Side
from station.domain.orders import OrderRequest

UTC = timezone.utc


def journal_with(count: int, *, start: float = 0.0, connection: int = 1, size: int = 10) -> SentJournal:
    """A journal with lines a0…a<count-1> written one second apart on one connection."""
    journal = SentJournal()
    for n in range(count):
        journal.written(Line(f"a{n}", b"x" * size), start + n, connection, size * (n + 1))
    return journal


def ids(lines: list[Line]) -> list[str]:
    return [line.client_order_id for line in lines]


# ---- the rule ----------------------------------------------------------------------------------


def test_an_acknowledging_receiver_gets_every_line_it_did_not_acknowledge_however_old():
    journal = journal_with(5)
    assert journal.acknowledged("a0") and journal.acknowledged("a2")  # a1 read and not taken: not acknowledged
    assert journal.unread_ids == ["a1", "a3", "a4"]
    journal.read_through(1, 50)  # a clean close proves nothing to a receiver that acknowledges
    assert ids(journal.to_resend(now=100_000.0, window_s=600)) == ["a1", "a3", "a4"]  # long past the window
    assert len(journal) == 0 and journal.to_resend(100_000.0, 600) == []


def test_a_silent_receiver_gets_its_window_and_at_least_everything_since_it_provably_read():
    journal = journal_with(5)  # written at t = 0 … 4
    journal.read_through(1, 30)  # a clean close with every byte acknowledged by its kernel: a0 … a2 read
    assert ids(journal.to_resend(now=4.5, window_s=2)) == ["a3", "a4"]

    frozen = journal_with(5)  # froze longer than the window: nothing is proven read, all of it goes again
    assert ids(frozen.to_resend(now=1000.0, window_s=2)) == ["a0", "a1", "a2", "a3", "a4"]

    read = journal_with(5)
    read.read_through(1, 50)  # all proven read: only the window's lines, as the contract says
    assert ids(read.to_resend(now=4.5, window_s=2)) == ["a3", "a4"]
    assert ids(journal_with(5).to_resend(now=4.5, window_s=0)) == ["a0", "a1", "a2", "a3", "a4"]


def test_an_order_reply_or_an_ack_proves_its_own_line_only():
    journal = journal_with(4)
    assert journal.heard_of("a2")  # an order reply may be re-sent on a new connection: that line only
    assert journal.unread_ids == ["a0", "a1", "a3"]
    assert journal.acknowledged("a1")  # not a0: the receiver may have read it and not taken it
    assert journal.unread_ids == ["a0", "a3"]
    assert not journal.acknowledged("a1") and not journal.heard_of("zz")
    journal.written(Line("a4", b"x" * 10), 5.0, 2, 10)
    assert journal.acknowledged("a4")
    assert journal.unread_ids == ["a0", "a3"]
    # once it acknowledges, acks alone decide: an order reply without one (the add-on could not record the id and
    # refused the line) leaves the line to be written again
    assert not journal.heard_of("a3") and journal.unread_ids == ["a0", "a3"]


def test_a_line_written_again_goes_out_once_in_its_first_place():
    journal = journal_with(2)
    again = journal.to_resend(10.0, 600)
    for n, line in enumerate(again + [Line("a2", b"x" * 10)]):  # the next connection: a0, a1 again, then a2
        journal.written(line, 11.0 + n, 2, 10 * (n + 1))
    assert ids(journal.to_resend(20.0, 600)) == ["a0", "a1", "a2"]


def test_what_is_kept_is_bounded_and_the_loss_is_said(caplog):
    journal = SentJournal(max_unread=3)
    with caplog.at_level(logging.WARNING, "station.ninjatrader"):
        for n in range(5):
            journal.written(Line(f"a{n}", b"x"), n, 1, n + 1)
    assert journal.unread_ids == ["a2", "a3", "a4"]
    assert "not proven read" in caplog.text and "(a0)" in caplog.text


# ---- on sockets: freeze, then reset -------------------------------------------------------------


def order(n: int, port: int) -> OrderRequest:
    alert = Alert(ticker="ES", action=Side.BUY, received_at=datetime(2024, 1, 4, 15, 30, tzinfo=UTC), qty=Decimal(1),
                  price=Decimal("5000.25"), alert_id=n)
    return OrderRequest(client_order_id=f"a{n}-Frozen-port_{port}", destination=f"port:{port}", ticker="ES",
                        side=Side.BUY, qty=Decimal(1), strategy="Frozen", alert_id=n, alert=alert)


async def freeze_then_reset(listener: LoopbackNinjaTrader, *, window_s: float, freeze_s: float,
                            before: int = 50, during: int = 150) -> tuple[TcpPortBroker, list[str]]:
    """Write `before` lines and wait until they are read, freeze the receiver, write `during` more over
    `freeze_s`, reset it; returns the broker and the ids read before the freeze."""
    port = await listener.start()
    broker = TcpPortBroker(port, Bus(), backoff=Backoff(0.02, 0.2), resend_window_s=window_s)
    await broker.start()
    await until(lambda: broker.state is ConnectionState.CONNECTED, what="connected")
    for n in range(before):
        await broker.submit(order(n, port))
    await listener.wait_for(before)
    if listener.answers:
        await until(lambda: len(broker.journal) == 0, what="the acks of what it read")
    read_before = list(listener.ids)
    listener.freeze()
    for n in range(before, before + during):
        await broker.submit(order(n, port))
        await asyncio.sleep(freeze_s / during)  # the traffic's shape: lines keep coming while it hangs
    await listener.drop_connections(abort=True)  # NinjaTrader is killed: a reset, whatever was unread
    listener.thaw()
    return broker, read_before


@pytest.mark.parametrize("os_says_what_was_acknowledged", [True, False], ids=["linux", "windows-rule"])
async def test_a_silent_receiver_that_freezes_then_resets_loses_no_line(os_says_what_was_acknowledged, monkeypatch):
    if not os_says_what_was_acknowledged:
        monkeypatch.setattr(tcp, "unconfirmed_bytes", lambda writer: None)  # as on Windows
    listener = LoopbackNinjaTrader()
    # a window far shorter than the freeze: "at least every line since the last one it provably read" must carry
    broker, _ = await freeze_then_reset(listener, window_s=0.2, freeze_s=1.5)
    try:
        await listener.wait_for(200, timeout=10)
        assert listener.ids == [order(n, listener.port).client_order_id for n in range(200)], "none lost, in order"
        assert set(listener.duplicates) <= set(listener.ids) and listener.errors == []
    finally:
        await broker.stop()
        await listener.stop()


@pytest.mark.parametrize("os_says_what_was_acknowledged", [True, False], ids=["linux", "windows-rule"])
async def test_an_acknowledging_receiver_that_freezes_then_resets_gets_exactly_what_it_did_not_acknowledge(
        os_says_what_was_acknowledged, monkeypatch):
    if not os_says_what_was_acknowledged:
        monkeypatch.setattr(tcp, "unconfirmed_bytes", lambda writer: None)
    listener = LoopbackNinjaTrader(answers=True)
    broker, read_before = await freeze_then_reset(listener, window_s=600, freeze_s=1.5)
    try:
        await listener.wait_for(200, timeout=10)
        assert listener.ids == [order(n, listener.port).client_order_id for n in range(200)]
        assert not set(listener.duplicates) & set(read_before), "what it acknowledged is not written again"
        assert len(listener.duplicates) <= 1  # at most the line it was reading as it froze, before its ack came
        assert listener.accepted == 2
    finally:
        await broker.stop()
        await listener.stop()



async def test_a_line_the_receiver_read_and_did_not_acknowledge_is_written_again_after_a_clean_close():
    """It acknowledges every line but one, which it refuses as the add-on does when it cannot record the line's id
    (an order reply, no ack), then closes the connection itself: that line, and only that one, comes again, though
    it acknowledged later lines and closed cleanly."""
    connections: list[list[str]] = []
    skipped = ""

    async def receiver(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        read: list[str] = []
        connections.append(read)
        while line := await reader.readline():
            cid = json.loads(line)["id"]
            read.append(cid)
            if cid != skipped or len(connections) > 1:
                writer.write(json.dumps({"type": "ack", "id": cid}).encode() + b"\n")
            else:
                writer.write(json.dumps({"type": "order", "id": cid, "status": "rejected", "filled_qty": 0,
                                         "avg_price": None, "reason": "could not record the line's id"}).encode()
                             + b"\n")
            await writer.drain()
            if len(connections) == 1 and len(read) == 3:
                break  # everything read: a clean close (FIN)
        writer.close()

    server = await asyncio.start_server(receiver, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    skipped = order(1, port).client_order_id
    broker = TcpPortBroker(port, Bus(), backoff=Backoff(0.02, 0.2))
    await broker.start()
    try:
        await until(lambda: broker.state is ConnectionState.CONNECTED, what="connected")
        for n in range(3):
            await broker.submit(order(n, port))
        await until(lambda: len(connections) == 2 and connections[1], what="the reconnect and what it brings")
        await asyncio.sleep(0.3)  # anything more would have come by now
        assert connections[0] == [order(n, port).client_order_id for n in range(3)]
        assert connections[1] == [skipped]
    finally:
        await broker.stop()
        server.close()
