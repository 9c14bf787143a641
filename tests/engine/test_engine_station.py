"""The engine inside a demo Station, all real parts: the bundled sample replayed → bar hub → strategies (warmed
up on the hub's bars) → journal → oms → paper → positions and PnL; manual 0DTE presses; a restart mid-replay;
daily loss limits closing and flattening through the oms."""

import asyncio
import datetime as dt
import re
from decimal import Decimal as D

import aiohttp
import pytest

from support.launch import free_port
from support.wait import until

from station.app import Options, Station
from station.domain.commands import CloseZeroDte, RecordSignal, SetReplaySpeed, StartStrategy, StopStrategy
from station.domain.enums import OptionRight
from station.domain.events import ConfigChanged, FillReported, ManualActionCompleted, TickReceived
from station.domain.marketdata import Tick
from station.domain.timeutil import EASTERN, utc_now
from station.engine.options import atm_strike, option_contract
from station.oms.risk.limits import pnl_today

pytestmark = pytest.mark.slow

DAY = dt.date(2025, 5, 15)  # the sample's cash session
LINES = {"line1": {"type": "ema", "period": 9}, "line2": {"type": "sma", "period": 21}}
ES = {"ES": {"point_value": 50, "destinations": {"paper": {"qty": 1}}}}
STRATEGIES = {
    "Cross": {"engine": {"kind": "crossover", "timeframe": "1m", **LINES}, "tickers": ES},
    "Trend": {"engine": {"kind": "supertrend", "timeframe": "512t", "atr_period": 10, "multiplier": 2.0,
                         "confirm_bars": 2}, "tickers": ES},
}
ZERO = {"Zero": {"engine": {"kind": "zero_dte", "timeframe": "1m", "signal_symbol": "ES", "basis": -40, **LINES},
                 "tickers": {"SPXW": {"point_value": 100, "destinations": {"paper": {"qty": 1}}}}}}


def et_ns(hour: int, minute: int) -> int:
    return int(dt.datetime.combine(DAY, dt.time(hour, minute), EASTERN).timestamp()) * 1_000_000_000


async def demo(data_dir, secrets, strategies: dict) -> Station:
    """A `--demo` Station with these strategies, its replay held still at 09:25 ET (the end of the night's preroll)."""
    station = Station(Options(data_dir=data_dir, port=free_port(), demo=True), secrets)
    station.config.import_document({"destinations": {"paper": {"type": "paper"}}, "strategies": strategies,
                                    "settings": {"marketdata": {"replay_speed": 0.001}}})
    # ×0.001 without skipping quiet stretches holds the replay (nearly) still until a test speeds it up
    station.marketdata.replay.max_gap_s = 1e9
    await station.start()
    await at(station, 9, 25)
    return station


async def at(station: Station, hour: int, minute: int) -> None:
    replay = station.marketdata.replay
    await until(lambda: (replay.position_ns or 0) >= et_ns(hour, minute), 60)


async def run_to(station: Station, hour: int, minute: int, speed: float = 3000) -> None:
    """Replay at `speed` up to `hour:minute` ET, then hold still."""
    station.bus.publish(SetReplaySpeed(speed))
    await at(station, hour, minute)
    station.bus.publish(SetReplaySpeed(0.001))


async def run_out(station: Station) -> None:
    """Replay the rest as fast as possible; wait until every order is final."""
    station.bus.publish(SetReplaySpeed(0))
    await asyncio.wait_for(station.marketdata.replay.finished.wait(), 60)
    await until(lambda: not station.oms.book.open_orders(), 10)
    await station.bus.drain()
    await station.oms.recorder.flush()


async def start(station: Station, *names: str) -> None:
    for name in names:
        station.bus.publish(StartStrategy(name))
    groups = station.engine.groups
    await until(lambda: all(n in groups and groups[n].state == "running" for n in names), 30)


def journal(station: Station) -> list[str]:
    return [r["trade_id"] for r in station.store.query(
        "SELECT trade_id FROM alerts WHERE source = 'strategy' ORDER BY alert_id")]


def orders(station: Station, **where) -> list[dict]:
    found = [dict(r) for r in station.store.query(
        "SELECT o.*, a.trade_id FROM orders o LEFT JOIN alerts a USING (alert_id) ORDER BY o.seq")]
    return [r for r in found if all(r[k] == v for k, v in where.items())]


def engine_positions(station: Station) -> dict[str, int]:
    return {name: station.engine.groups[name].instances[0].position for name in STRATEGIES}


def book_positions(station: Station) -> dict[str, D]:
    return {name: station.oms.book.position("paper", "ES", name) for name in STRATEGIES}


async def test_demo_strategies_warm_up_on_the_hubs_bars_trade_at_paper_and_0dte_presses_reach_orders(data_dir, secrets):
    station = await demo(data_dir, secrets, {**STRATEGIES, **ZERO})
    recorded, fills = [], []
    station.bus.subscribe(RecordSignal, lambda c: recorded.append(c.alert.trade_id))
    station.bus.subscribe(FillReported, lambda e: fills.append((e.fill, station.oms.marks.price(e.fill.ticker))))
    token = secrets.get("api-token").reveal()
    try:
        await start(station, "Cross", "Trend")
        logs = data_dir / "logs" / "strategies"
        assert "Cross ES warmed up on 107 bars" in (logs / "Cross.log").read_text()  # 21 x 5 + 2, from the night
        assert int(re.search(r"Trend ES warmed up on (\d+) bars", (logs / "Trend.log").read_text())[1]) >= 20

        await run_to(station, 10, 5)
        await start(station, "Zero")
        # an option feed quotes the calls near the money; the puts have no quote
        atm = int(atm_strike(float(station.oms.marks.price("ES")) - 40, 5))
        calls = [option_contract("SPXW", "ES", DAY, D(k), OptionRight.CALL)["osi"] for k in range(atm - 50, atm + 55, 5)]

        def quote(price):
            for osi in calls:
                station.bus.publish(TickReceived(Tick(osi, utc_now(), price)))

        quote(10.0)
        async with aiohttp.ClientSession(base_url=station.receiver.url,
                                         headers={"Authorization": f"Bearer {token}"}) as api:
            async def press(action, click):
                async with api.post(f"/api/manual/{action}", json={"strategy": "Zero", "click_id": click}) as response:
                    assert response.status == 200, await response.text()

            async def order_of(signal_id):
                await until(lambda: [o for o in orders(station, trade_id=signal_id) if o["status"] != "new"], 10)
                return orders(station, trade_id=signal_id)[0]

            await press("0dte_call", "k1")
            bought = await order_of("Zero:SPXW:manual:k1:C")
            assert (bought["status"], bought["avg_price"]) == ("filled", "10.0") and bought["instrument"] in calls
            quote(12.5)
            station.bus.publish(CloseZeroDte("k2", "Zero"))     # the Engine dock's Close button
            sold = await order_of("Zero:SPXW:manual:k2:X")
            assert (sold["side"], sold["status"], sold["avg_price"], sold["instrument"]) == (
                "sell", "filled", "12.5", bought["instrument"])
            await press("0dte_put", "k3")
            put = await order_of("Zero:SPXW:manual:k3:P")
            assert put["status"] == "rejected" and put["instrument"].startswith("SPXW  250515P0")
            assert put["reason"] == f"no price for option {put['instrument']}: no quote for it and the order carries none"
        station.bus.publish(StopStrategy("Zero"))

        await run_out(station)
        signals = [sid for sid in recorded if not sid.startswith("Zero")]
        assert len(signals) >= 20 and len(recorded) == len(set(recorded))          # each signal recorded once
        assert journal(station) == recorded                                     # … and journaled once
        es_orders = [o for o in orders(station) if o["ticker"] == "ES"]
        assert [o["trade_id"] for o in es_orders] == signals                    # one paper order per signal
        assert {o["status"] for o in es_orders} == {"filled"}
        es_fills = [(f.price, mark) for f, mark in fills if f.ticker == "ES"]
        assert len(es_fills) == len(signals) and all(price == mark for price, mark in es_fills)  # at the feed's price
        assert {k: int(v) for k, v in book_positions(station).items()} == engine_positions(station)
        assert station.oms.book.position("paper", "SPXW", "Zero") == 0
        async with aiohttp.ClientSession(base_url=station.receiver.url,
                                         headers={"Authorization": f"Bearer {token}"}) as api:
            async with api.get("/api/pnl") as response:
                pnl = {p["strategy"]: p for p in (await response.json())["pnl"]}
            async with api.get("/api/positions") as response:
                held = {(p["strategy"], p["ticker"]): p["qty"] for p in (await response.json())["positions"]}
        assert set(pnl) == {"Cross", "Trend", "Zero"} and pnl["Zero"]["realized_pnl"] == 250   # (12.5 - 10) x 100
        assert {s: held[(s, "ES")] for s in STRATEGIES} == engine_positions(station)
    finally:
        await station.stop()


async def test_a_restart_mid_replay_repeats_no_signal_and_trades_on_as_if_never_stopped(tmp_path, secrets):
    dirs = {name: tmp_path / name for name in ("once", "twice")}
    for folder in dirs.values():
        folder.mkdir()
    uninterrupted = await demo(dirs["once"], secrets, STRATEGIES)
    await start(uninterrupted, "Cross", "Trend")
    await run_out(uninterrupted)
    want, want_positions = journal(uninterrupted), book_positions(uninterrupted)
    await uninterrupted.stop()

    first = await demo(dirs["twice"], secrets, STRATEGIES)
    await start(first, "Cross", "Trend")
    await run_to(first, 12, 0)
    await first.stop()
    before = set(journal_of(dirs["twice"], secrets))
    assert 0 < len(before) < len(want)

    again = await demo(dirs["twice"], secrets, STRATEGIES)         # the replay starts over from the night
    recorded = []
    again.bus.subscribe(RecordSignal, lambda c: recorded.append(c.alert.trade_id))
    try:
        await until(lambda: all(g.state == "running" for g in again.engine.groups.values()), 30)  # resumed
        await run_out(again)
        assert recorded and not before & set(recorded)   # nothing signalled before the restart is signalled again
        assert sorted(journal(again)) == sorted(want)    # nor missed: the same signals as without the restart
        assert book_positions(again) == want_positions
        assert {k: int(v) for k, v in book_positions(again).items()} == engine_positions(again)
    finally:
        await again.stop()


def journal_of(data_dir, secrets) -> list[str]:
    from station.store import Store

    store = Store(data_dir)
    try:
        return [r["trade_id"] for r in store.query("SELECT trade_id FROM alerts WHERE source = 'strategy'")]
    finally:
        store.close()


async def replay_stepped(station: Station, steps: int) -> None:
    """Wait for the replay to take `steps` more steps (each moves its clock), at its current pace."""
    replay = station.marketdata.replay
    for _ in range(steps):
        position = replay.position_ns
        await until(lambda: replay.position_ns != position or replay.finished.is_set(), 10)


async def pause_when(station: Station, condition, speed: float = 600) -> None:
    """Replay at `speed` until `condition()` holds, then hold still (and check it still holds)."""
    for _ in range(20):
        station.bus.publish(SetReplaySpeed(speed))
        await until(condition, 60)
        station.bus.publish(SetReplaySpeed(0.001))
        await replay_stepped(station, 2)  # the trades the slower pace still lets through are in, and their bars
        await station.bus.drain()
        await until(lambda: not station.oms.book.open_orders(), 10)  # ... and their orders settled
        if condition():
            return
    raise AssertionError("the replay never held still in that state")


async def test_daily_loss_limits_close_then_flatten_and_halt_through_the_oms(data_dir, secrets):
    station = await demo(data_dir, secrets, STRATEGIES)
    book = station.oms.book
    done = []
    station.bus.subscribe(ManualActionCompleted, done.append)
    try:
        await start(station, "Cross", "Trend")
        # Cross loses: its own limit (set now, below the loss) closes its position and halts it
        await pause_when(station, lambda: book.position("paper", "ES", "Cross") != 0 and pnl_today(book, "Cross") < -50)
        limit = float(-pnl_today(book, "Cross")) / 2
        revision = await station.config.import_document_async(
            {"strategies": {"Cross": {**STRATEGIES["Cross"], "risk": {"daily_loss_limit": limit}}}})
        station.bus.publish(ConfigChanged(revision))
        await until(lambda: station.engine.groups["Cross"].state == "halted", 10)
        assert "daily loss limit" in station.engine.groups["Cross"].reason
        await until(lambda: book.position("paper", "ES", "Cross") == 0, 10)
        closing = [e for e in done if e.click_id.startswith("loss-Cross-")]
        assert len(closing) == 1 and closing[0].error is None and len(closing[0].client_order_ids) == 1
        assert station.engine.groups["Trend"].state == "running"

        # the whole day loses: the overall limit flattens everything and halts every strategy
        await pause_when(station, lambda: book.position("paper", "ES", "Trend") != 0 and pnl_today(book, None) < 0)
        await station.config.import_document_async({"settings": {"risk": {"daily_loss_limit": 0.01}}})
        station.bus.publish(ConfigChanged(station.config.revision()))
        await until(lambda: station.engine.groups["Trend"].state == "halted", 10)
        await until(lambda: book.position("paper", "ES", "Trend") == 0, 10)
        assert "overall daily loss limit" in station.engine.groups["Trend"].reason
        await station.oms.recorder.flush()
        flattening = [o for o in orders(station) if o["cause"].startswith("x")]  # FlattenAll's orders
        assert [(o["strategy"], o["status"]) for o in flattening] == [("Trend", "filled")]
    finally:
        await station.stop()
