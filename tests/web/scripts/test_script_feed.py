"""The script feed: CSV uploads over REST and Socket.IO, all-or-nothing, relayed to frontends."""

import asyncio

import aiohttp
import pytest
import socketio

from station.app import Options, Station
from station.domain.events import MarketDataReceived, ScriptDataReceived
from station.web.scripts.rows import CsvRowError, parse_market_data, parse_trades
from support.wait import until

TRADES = """timestamp,symbol,side,quantity,price,profit_loss,strategy
2024-01-04T15:30:00Z,AAPL,buy,10,150.25,,Momentum
2024-01-04T15:45:00Z,AAPL,SELL,10,151.00,7.5,Momentum
2024-01-04 16:00:00,ES,short,1,4750.25,-12.5,Scalper
"""
MARKET = """timestamp,symbol,open,high,low,close,volume,rsi,signal_strength
2024-01-04T15:30:00Z,AAPL,150.0,150.5,149.8,150.25,12000,55.2,0.7
2024-01-04T15:31:00Z,AAPL,150.25,150.9,150.1,150.8,9000,,
"""
TOKEN = "script-api-token-123"


def test_parse_good_csvs():
    trades = parse_trades(TRADES)
    assert [(t.symbol, t.side.value, str(t.quantity), str(t.price)) for t in trades] == [
        ("AAPL", "buy", "10", "150.25"), ("AAPL", "sell", "10", "151.00"), ("ES", "sell", "1", "4750.25")]
    assert trades[0].profit_loss is None and str(trades[2].profit_loss) == "-12.5"
    assert trades[2].timestamp.isoformat() == "2024-01-04T21:00:00+00:00"  # no zone: US/Eastern (CONTRACT.md)
    bars = parse_market_data(MARKET)
    assert bars[0].rsi == 55.2 and bars[1].rsi is None and bars[1].volume == 9000
    assert parse_trades("") == [] and parse_trades("timestamp,symbol,side,quantity,price\n") == []


@pytest.mark.parametrize("text, line, needle", [
    (TRADES + "2024-01-04T16:10:00Z,AAPL,hold,1,150,,x\n", 5, "side 'hold'"),
    (TRADES.replace("10,151.00", "ten,151.00"), 3, "quantity 'ten'"),
    (TRADES.replace("150.25,,", "-1,,"), 2, "price must be greater than 0"),
    (TRADES.replace("2024-01-04 16:00:00", "yesterday"), 4, "timestamp 'yesterday'"),
    (TRADES + "2024-01-04T16:10:00Z,AAPL,buy\n", 5, "has 3 fields"),
    ("timestamp,symbol,quantity,price\n", 1, "missing column(s) side"),
])
def test_a_malformed_trade_row_is_named_by_its_line(text, line, needle):
    with pytest.raises(CsvRowError) as caught:
        parse_trades(text)
    assert caught.value.problems[0][0] == line and needle in caught.value.problems[0][1]
    assert f"line {line}" in str(caught.value)


def test_market_data_checks_ranges():
    with pytest.raises(CsvRowError, match="line 3: high 150.5 / low 151"):
        parse_market_data(MARKET.replace("150.25,150.9,150.1", "150.25,150.5,151"))
    with pytest.raises(CsvRowError, match="rsi must be at most 100"):
        parse_market_data(MARKET.replace("55.2", "155.2"))
    with pytest.raises(CsvRowError, match="open 'nan'"):
        parse_market_data(MARKET.replace("150.0,", "nan,", 1))


@pytest.fixture
async def station(data_dir, secrets):
    secrets.set("api-token", TOKEN)
    core = Station(Options(data_dir=data_dir, port=0), secrets)
    await core.start()
    yield core
    await core.stop()


def counts(core) -> tuple[int, int]:
    return (core.store.query("SELECT COUNT(*) FROM script_trades")[0][0],
            core.store.query("SELECT COUNT(*) FROM script_bars")[0][0])


AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def test_rest_multipart_upload_is_stored_published_and_answered(station):
    seen, rows = [], []
    station.bus.subscribe(ScriptDataReceived, seen.append)
    station.bus.subscribe(MarketDataReceived, rows.append)  # the bar builders' input
    form = aiohttp.FormData()
    form.add_field("trades_csv", TRADES, filename="trades.csv", content_type="text/csv")
    form.add_field("market_data_csv", MARKET, filename="market.csv", content_type="text/csv")
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{station.receiver.url}/api/trading-data", data=form, headers=AUTH) as r:
            body = await r.json()
    assert r.status == 200, body
    assert body["status"] == "success" and body["trades_processed"] == 3 and body["market_data_processed"] == 2
    assert counts(station) == (3, 2)
    assert len(seen) == 1 and seen[0].upload.upload_id == body["upload_id"]
    assert [(r.symbol, r.close) for r in rows[0].rows] == [("AAPL", 150.25), ("AAPL", 150.8)]


async def test_rest_json_and_plain_multipart_fields(station):
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{station.receiver.url}/api/trading-data", headers=AUTH,
                                json={"trades_csv": TRADES}) as r:
            assert r.status == 200 and (await r.json())["trades_processed"] == 3, await r.text()
        form = aiohttp.FormData({"market_data_csv": MARKET})  # a plain (non-file) multipart field
        async with session.post(f"{station.receiver.url}/api/trading-data", headers=AUTH, data=form) as r:
            assert r.status == 200 and (await r.json())["market_data_processed"] == 2
    assert counts(station) == (3, 2)


async def test_rest_needs_the_api_token(station):
    async with aiohttp.ClientSession() as session:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            async with session.post(f"{station.receiver.url}/api/trading-data", headers=headers,
                                    json={"trades_csv": TRADES}) as r:
                assert r.status == 401 and (await r.json())["status"] == "error"
    assert counts(station) == (0, 0)


@pytest.mark.parametrize("payload, status, needle", [
    ({"trades_csv": TRADES, "market_data_csv": MARKET.replace("9000", "-5")}, 400, "line 3"),
    ({"trades_csv": TRADES + "x,y\n"}, 400, "line 5"),
    ({"other": 1}, 400, "trades_csv"),
    ({"trades_csv": 5}, 400, "CSV text"),
])
async def test_a_bad_upload_applies_nothing(station, payload, status, needle):
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{station.receiver.url}/api/trading-data", headers=AUTH, json=payload) as r:
            body = await r.json()
    assert r.status == status and body["status"] == "error" and needle in body["message"], body
    assert counts(station) == (0, 0)


async def test_small_batches_sent_back_to_back_are_all_taken(station):
    async with aiohttp.ClientSession() as session:
        for n in range(20):  # a script sending each row as it comes, and a caller checking its refusals one by one
            payload = {"trades_csv": TRADES} if n % 2 else {"trades_csv": TRADES + "x,y\n"}
            async with session.post(f"{station.receiver.url}/api/trading-data", headers=AUTH, json=payload) as r:
                assert r.status == (200 if n % 2 else 400), (n, await r.text())
    assert counts(station) == (30, 0)


async def test_rest_refuses_non_json_garbage(station):
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{station.receiver.url}/api/trading-data", headers=AUTH, data=b"\xff\xfe[") as r:
            assert r.status == 400


async def test_socketio_script_to_frontend_as_the_dashboards_did(station):
    frontend, script = socketio.AsyncClient(), socketio.AsyncClient()
    updates, acks, statuses, script_statuses = [], [], [], []
    frontend.on("trading_update", updates.append)
    frontend.on("status", statuses.append)
    script.on("data_received", acks.append)
    script.on("status", script_statuses.append)
    await frontend.connect(station.receiver.url, transports=["websocket"])
    await script.connect(station.receiver.url)  # polling then upgrade, as the default client does
    await frontend.emit("join_frontend")
    await script.emit("join_script")
    await until(lambda: statuses and script_statuses, what="both rooms joined")
    await script.emit("send_trading_data", {"trades_csv": TRADES, "market_data_csv": MARKET,
                                            "timestamp": "2024-01-04T15:46:00Z"})
    await script.emit("send_trading_data", {"trades_csv": TRADES.replace("150.25,,", "abc,,")})
    await until(lambda: len(acks) == 2 and updates, what="two acknowledgements and an update")
    await frontend.disconnect()
    await script.disconnect()
    assert {"msg": "Joined frontend room"} in statuses
    assert acks[0]["status"] == "success" and acks[0]["trades_processed"] == 3, acks
    assert acks[1]["status"] == "error" and "line 2" in acks[1]["message"]
    assert len(updates) == 1
    update = updates[0]
    assert update["trades_count"] == 3 and update["market_data_count"] == 2
    assert update["trades"][1] == {"timestamp": "2024-01-04T15:45:00+00:00", "symbol": "AAPL", "side": "sell",
                                   "quantity": 10, "price": 151, "profit_loss": 7.5, "strategy": "Momentum"}
    assert counts(station) == (3, 2)


async def test_socketio_from_another_host_needs_the_token(station):
    feed = next(c for c in station.components if c.name == "script-feed")

    class Remote:
        remote = "10.1.2.3"
        headers: dict = {}

    with pytest.raises(socketio.exceptions.ConnectionRefusedError):
        await feed._connect("sid-x", {"aiohttp.request": Remote()}, None)
    await feed._connect("sid-y", {"aiohttp.request": Remote()}, {"token": TOKEN})
    assert "sid-y" in feed._sessions


async def test_stop_is_prompt_with_a_connected_socketio_client(station):
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(station.receiver.url, transports=["websocket"])
    started = asyncio.get_running_loop().time()
    await station.stop()
    assert asyncio.get_running_loop().time() - started < 2  # CONTRACT: a stop exits within 2 s
    await client.disconnect()
    station.stop = _noop  # the fixture's stop has been done here


async def _noop():
    return None


def test_script_feed_dock_shows_rows_and_pnl(qtbot, qapp, data_dir, secrets, tmp_path):
    from support.launch import run_qt
    from support.wait import until
    from station.ui.launch import main_window
    from station.ui.theme import apply_theme

    secrets.set("api-token", TOKEN)
    apply_theme(qapp)

    async def scenario():
        core = Station(Options(data_dir=data_dir, port=0), secrets)
        await core.start()
        window = main_window(core)
        window.show()
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{core.receiver.url}/api/trading-data", headers=AUTH,
                                    json={"trades_csv": TRADES, "market_data_csv": MARKET}) as r:
                assert r.status == 200
        dock = window.docks["ScriptFeedDock"]
        widget = dock.widget()
        await until(lambda: widget.trades.rowCount() == 3 and widget.bars.rowCount() == 2, what="the upload shown")
        dock.raise_()
        await until(lambda: widget.isVisible(), what="the Script Feed tab in front")
        widget.grab().save(str(tmp_path / "script_feed.png"))
        found = (widget.trades.rowCount(), widget.bars.rowCount(), widget.trades.record(0).symbol,
                 widget.summary.text())
        window.close()
        await core.stop()
        return found

    trades, bars, newest, summary = run_qt(scenario)
    assert (trades, bars, newest) == (3, 2, "ES")  # newest first
    assert "P/L total" in summary and "-5.00" in summary
    assert (tmp_path / "script_feed.png").stat().st_size > 2000


def big_market_data(rows: int) -> str:
    lines = ["timestamp,symbol,open,high,low,close,volume"]
    lines += [f"{1704382200 + i},ES,4750.25,4751.00,4749.75,4750.50,{i % 50 + 1}" for i in range(rows)]
    return "\n".join(lines) + "\n"


async def test_uploads_are_bounded_per_client_and_the_webhook_answers_meanwhile(station, secrets):
    import aiohttp

    passphrase = station.webhook.passphrase.reveal()
    text = big_market_data(21_000)  # ~1 MB of CSV, parsed off the loop
    assert 1_000_000 < len(text) < 1_048_576
    async with aiohttp.ClientSession() as session:
        async def upload():
            async with session.post(f"{station.receiver.url}/api/trading-data", headers=AUTH,
                                    json={"market_data_csv": text}) as answer:
                return answer.status

        async def alert(n):
            body = {"passphrase": passphrase, "ticker": "AAPL", "action": "buy", "qty": 1, "trade_id": f"t{n}"}
            async with session.post(f"{station.receiver.url}/webhook", json=body) as answer:
                return answer.status

        uploads = [asyncio.ensure_future(upload()) for _ in range(8)]
        alerts = await asyncio.gather(*(alert(n) for n in range(5)))
        statuses = await asyncio.gather(*uploads)
    assert alerts == [200] * 5
    # per client: 4 MiB a minute, so the fifth MiB is refused, and so is each after it
    assert statuses.count(200) == 4 and statuses.count(429) == 4


async def test_an_upload_larger_than_the_bound_is_refused_and_applies_nothing(station):
    import aiohttp

    from station.web.scripts.feed import MAX_UPLOAD

    text = "x" * (MAX_UPLOAD + 10)
    async with aiohttp.ClientSession() as session:
        form = aiohttp.FormData()
        form.add_field("market_data_csv", text, filename="big.csv")
        async with session.post(f"{station.receiver.url}/api/trading-data", headers=AUTH, data=form) as answer:
            assert answer.status == 413 and (await answer.json())["status"] == "error"
    assert counts(station) == (0, 0)
