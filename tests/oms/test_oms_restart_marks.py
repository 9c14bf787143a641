"""Positions carried over a restart keep their value: a replay's older prices never mark a position priced later.

The demo replays its sample from 09:25 on every start while paper positions survive; a
position must not be valued at the prices of a morning replayed again (a phantom loss).
"""

import datetime as dt
from decimal import Decimal as D

from support.wait import until
from station.app import Options, Station
from station.domain.commands import ManualOrder
from station.domain.enums import Side
from station.oms.marks import Marks

T = dt.datetime(2025, 5, 15, 14, 0, tzinfo=dt.timezone.utc)


def test_a_replayed_older_price_does_not_mark_a_position_priced_later():
    marks = Marks()
    marks.set_feed("ES", D("5900"), T)
    later = T + dt.timedelta(minutes=40)
    marks.set_feed("ES", D("5950"), later)
    assert marks.price_since("ES", later) == D("5950")
    marks.set_feed("ES", D("5880"), T)  # the replay starts again: its clock goes back
    assert marks.feed_price("ES") == D("5880")  # paper fills at the market as replayed
    assert marks.price_since("ES", later) == D("5950")  # a position priced at `later` keeps its newest mark
    assert marks.price_since("ES", T) == D("5880")  # one priced at the replay's time follows it
    marks.set_feed("ES", D("5960"), later + dt.timedelta(seconds=1))  # the replay passes it: marks again
    assert marks.price_since("ES", later) == D("5960")
    again = Marks()
    again.restore(marks.newest())
    assert again.price_since("ES", later) == D("5960") and again.feed_price("ES") is None


def demo(data_dir, secrets, replay_speed) -> Station:
    """The demo's Station with its replay at `replay_speed` (read when the market data is built)."""
    setup = Station(Options(data_dir=data_dir, port=0), secrets)
    setup.config.import_document({"settings": {"marketdata": {"replay_speed": replay_speed}}})
    setup.store.close()
    return Station(Options(data_dir=data_dir, port=0, demo=True), secrets)


async def test_the_demo_restarts_holding_positions_at_the_value_they_had(data_dir, secrets):
    first = demo(data_dir, secrets, 0)  # the whole sample at once
    await first.start()
    await until(lambda: first.marketdata.replay.finished.is_set(), 60, what="the sample replayed")
    first.bus.publish(ManualOrder("c-es", "Demo", "ES", Side.BUY, D(1)))
    first.bus.publish(ManualOrder("c-nq", "Demo", "NQ", Side.SELL, D(3)))
    book = first.oms.book
    await until(lambda: book.position("paper", "ES", "Demo") == 1 and book.position("paper", "NQ", "Demo") == -1)  # the demo trades 1 a click
    before = {m.position.ticker: (m.mark, m.unrealized_pnl) for m in book.marked_positions()}
    closing = {t: first.oms.marks.feed_price(t) for t in ("ES", "NQ")}
    await first.stop()

    again = demo(data_dir, secrets, 1)  # 09:25 again, slowly
    await again.start()
    try:
        marks = again.oms.marks
        await until(lambda: marks.feed_price("ES") is not None and marks.feed_price("NQ") is not None,
                    what="the replay's morning prices")
        assert marks.feed_time("ES") < first.oms.marks.feed_time("ES")  # the replay went back in time
        assert marks.feed_price("ES") != closing["ES"]
        after = {m.position.ticker: (m.mark, m.unrealized_pnl) for m in again.oms.book.marked_positions()}
        assert after == before  # no phantom loss: the same marks and open PnL as at the quit
        # a position opened now is priced at the replayed market and follows it
        again.bus.publish(ManualOrder("c-es-2", "Demo", "ES", Side.BUY, D(1)))
        await until(lambda: again.oms.book.position("paper", "ES", "Demo") == 2)
        assert again.oms.book.priced_at[("paper", "ES", "Demo")] == marks.feed_time("ES")
    finally:
        await again.stop()
