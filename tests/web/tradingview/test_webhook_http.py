"""The webhook as TradingView sees it: real server on 127.0.0.1, real SQLite, real HTTP client.

Accepted alerts in every dialect, text/plain, spreads, strategies, the journal row (the oms's
inbox writes it), the bus, de-duplication (also concurrent and across a restart).
"""

import asyncio
import json
from datetime import datetime
from decimal import Decimal

import aiohttp
import pytest

from station.domain.alert import Alert
from station.domain.enums import Side
from station.domain.events import AlertDuplicated, AlertReceived
from station.domain.timeutil import utc_now
from support.webhook import DIALECT_1, DIALECT_2, DIALECT_3, PASSPHRASE, post, rows, running_station
from support.wait import until


@pytest.fixture
async def live(data_dir, secrets):
    """A started Station whose router leaves alerts queued: these tests look at the journal alone."""
    async with running_station(data_dir, secrets) as station:
        station.oms.router.on_alert = lambda alert: None
        yield station


def assert_queued(status, body, expected_id=None):
    assert status == 200 and body["status"] == "success" and body["message"] == "Alert queued", body
    assert isinstance(body["alert_id"], int)
    if expected_id is not None:
        assert body["alert_id"] == expected_id


async def test_dialect_1_is_queued_and_journaled_with_everything_analysis_needs(live):
    status, body, _ = await post(live, DIALECT_1)
    assert_queued(status, body, 1)
    [row] = rows(live)
    # the router may already have routed it (AAPL goes to port 5000) by the time we look
    assert row["alert_id"] == 1 and row["status"] in ("queued", "routed") and row["source"] == "webhook"
    assert (row["ticker"], row["action"], row["qty"], row["price"], row["dialect"]) == ("AAPL", "buy", "10", "150.25", 1)
    assert (row["trade_id"], row["position"], row["strategy"]) == ("Open_Long_ID_123", "short", None)
    assert row["sent_at"] == "2024-01-04T15:30:00.000000+00:00" and row["source_addr"] == "127.0.0.1"
    received, committed = datetime.fromisoformat(row["received_at"]), datetime.fromisoformat(row["committed_at"])
    assert received <= committed <= utc_now() and received.tzinfo is not None
    assert json.loads(row["raw"]) == DIALECT_1  # the body as sent, passphrase removed
    assert PASSPHRASE not in json.dumps(row)


async def test_dialect_2_with_numbers_as_strings(live):
    status, body, _ = await post(live, DIALECT_2)
    assert_queued(status, body)
    [row] = rows(live)
    assert (row["qty"], row["price"], row["dialect"]) == ("100", "400.2", 2)
    assert (row["position"], row["target_position"], row["trade_id"]) == ("flat", "long", "Enter Long")


async def test_dialect_3_with_an_upper_case_action(live):
    status, body, _ = await post(live, DIALECT_3)
    assert_queued(status, body)
    [row] = rows(live)
    assert (row["ticker"], row["action"], row["qty"], row["price"], row["dialect"]) == ("ES", "buy", "1", "4500.5", 3)
    assert row["sent_at"].startswith("2023-05-01T12:34:56")


async def test_a_spread_ticker_is_journaled_as_a_pair(live):
    status, body, _ = await post(live, {**DIALECT_2, "ticker": "NMFC-0.72*NASDAQ:ROIC"})
    assert_queued(status, body)
    [row] = rows(live)
    assert (row["ticker"], row["ticker1"], row["hedge"], row["ticker2"]) == ("NMFC-0.72*NASDAQ:ROIC", "NMFC", "0.72", "ROIC")


@pytest.mark.parametrize("content_type", ["text/plain", "text/plain; charset=utf-8", "application/json",
                                          "application/x-www-form-urlencoded", "application/octet-stream"])
async def test_the_body_is_json_whatever_the_content_type(live, content_type):
    status, body, _ = await post(live, DIALECT_1, headers={"Content-Type": content_type})
    assert_queued(status, body)


async def test_strategy_from_the_path_or_the_body(live):
    status, body, _ = await post(live, DIALECT_1, path="/webhook/MomentumStrategy")
    assert_queued(status, body)
    status, body, _ = await post(live, {**DIALECT_3, "strategy": "momentumstrategy"})
    assert_queued(status, body)
    status, body, _ = await post(live, DIALECT_2, path="/webhook/momentumSTRATEGY")
    assert_queued(status, body)
    assert [r["strategy"] for r in rows(live)] == ["MomentumStrategy"] * 3


async def test_an_alert_no_strategy_lists_is_still_queued(live):
    status, body, _ = await post(live, {**DIALECT_1, "ticker": "NOBODY"})
    assert_queued(status, body)
    status, body, _ = await post(live, {**DIALECT_1, "strategy": "NotConfigured"})
    assert_queued(status, body)
    assert [r["ticker"] for r in rows(live)] == ["NOBODY", "AAPL"]


async def test_alert_received_is_published_after_the_commit_with_its_id(live):
    seen = []

    def on_received(event: AlertReceived) -> None:
        row = live.store.query("SELECT status FROM alerts WHERE alert_id = ?", (event.alert.alert_id,))
        seen.append((event.alert, [r["status"] for r in row]))

    live.bus.subscribe(AlertReceived, on_received)
    _, body, _ = await post(live, DIALECT_1, path="/webhook/MomentumStrategy")
    await until(lambda: seen, what="AlertReceived")
    [(alert, committed)] = seen
    assert committed == ["queued"]  # durable before anyone hears of it
    assert alert.alert_id == body["alert_id"] and alert.strategy == "MomentumStrategy"
    assert (alert.ticker, alert.action, alert.qty, alert.price) == ("AAPL", Side.BUY, Decimal(10), Decimal("150.25"))


async def test_alerts_are_published_in_the_order_they_were_accepted(live):
    seen = []
    live.bus.subscribe(AlertReceived, lambda e: seen.append(e.alert.alert_id))
    async with aiohttp.ClientSession() as session:
        answers = await asyncio.gather(*(post(live, {**DIALECT_1, "trade_id": f"t{i}"}, session=session)
                                         for i in range(45)))
    await until(lambda: len(seen) >= 45, what="45 AlertReceived")
    assert sorted(a[1]["alert_id"] for a in answers) == list(range(1, 46))
    assert seen == list(range(1, 46))


async def test_a_duplicate_is_skipped_with_the_originals_id_and_no_row(live):
    duplicates = []
    live.bus.subscribe(AlertDuplicated, duplicates.append)
    _, first, _ = await post(live, DIALECT_1)
    status, again, _ = await post(live, dict(reversed(list(DIALECT_1.items()))))  # same content, other key order
    assert status == 200 and again == {"status": "skipped", "message": "Duplicate alert", "alert_id": first["alert_id"]}
    assert len(rows(live)) == 1
    assert [(d.original_alert_id, d.ticker) for d in duplicates] == [(first["alert_id"], "AAPL")]


async def test_the_passphrase_is_not_part_of_the_content_but_the_strategy_is(live):
    _, first, _ = await post(live, DIALECT_1)
    new = (await live.webhook.regenerate_passphrase()).reveal()
    status, again, _ = await post(live, DIALECT_1, passphrase=new)
    assert status == 200 and again["status"] == "skipped" and again["alert_id"] == first["alert_id"]
    _, other, _ = await post(live, DIALECT_1, path="/webhook/MomentumStrategy", passphrase=new)
    assert other["status"] == "success" and len(rows(live)) == 2


async def test_concurrent_identical_alerts_make_one_row(live):
    async with aiohttp.ClientSession() as session:
        answers = await asyncio.gather(*(post(live, DIALECT_2, session=session) for _ in range(25)))
    assert all(status == 200 for status, _, _ in answers)
    kinds = sorted(body["status"] for _, body, _ in answers)
    assert kinds == ["skipped"] * 24 + ["success"]
    assert {body["alert_id"] for _, body, _ in answers} == {1}
    assert len(rows(live)) == 1


async def test_after_the_window_the_same_alert_is_new(data_dir, secrets):
    async with running_station(data_dir, secrets, {"dedup_window_s": 0.3}) as station:
        _, first, _ = await post(station, DIALECT_3)
        await asyncio.sleep(0.35)  # the scenario: the 0.3 s window passes
        _, second, _ = await post(station, DIALECT_3)
        assert (first["alert_id"], second["alert_id"], second["status"]) == (1, 2, "success")


async def test_a_zero_window_turns_de_duplication_off(data_dir, secrets):
    async with running_station(data_dir, secrets, {"dedup_window_s": 0}) as station:
        answers = [await post(station, DIALECT_3) for _ in range(3)]
        assert [body["alert_id"] for _, body, _ in answers] == [1, 2, 3]


async def test_de_duplication_survives_a_restart(data_dir, secrets):
    async with running_station(data_dir, secrets) as station:
        _, first, _ = await post(station, DIALECT_1)
    async with running_station(data_dir, secrets) as station:
        status, again, _ = await post(station, DIALECT_1)
        assert status == 200 and again["status"] == "skipped" and again["alert_id"] == first["alert_id"]
        assert len(rows(station)) == 1


async def test_settings_changes_apply_live(live):
    changed = asyncio.Event()
    from station.domain.events import ConfigChanged

    live.bus.subscribe(ConfigChanged, lambda e: changed.set())
    await live.config.update_settings("webhook", {"rate_limits": ["1 per day"]})
    await asyncio.wait_for(changed.wait(), 3)
    assert (await post(live, DIALECT_1))[0] == 200
    assert (await post(live, DIALECT_3))[0] == 429


async def test_a_passphrase_changed_outside_is_picked_up(live):
    live.secrets.set("webhook-passphrase", "set from the command line")
    status, body, _ = await post(live, DIALECT_1, passphrase="set from the command line")
    assert_queued(status, body)
    assert (await post(live, DIALECT_3))[0] == 401  # the old one no longer works


async def test_only_post_is_served_and_answers_are_json(live):
    async with aiohttp.ClientSession() as session:
        for method in ("GET", "PUT", "DELETE"):
            async with session.request(method, f"{live.receiver.url}/webhook") as response:
                assert response.status == 405 and response.headers["Allow"] == "POST"
                assert (await response.json())["status"] == "error"
        async with session.post(f"{live.receiver.url}/webhook/", json={"passphrase": PASSPHRASE, **DIALECT_1}) as response:
            assert response.status == 200


async def test_the_journal_gives_the_router_what_it_needs_after_a_restart(live):
    await post(live, {**DIALECT_2, "ticker": "NMFC-0.72*NASDAQ:ROIC"}, path="/webhook/MomentumStrategy")
    await post(live, DIALECT_3)
    live.store.writer.call(lambda c: c.execute("UPDATE alerts SET status = 'routed' WHERE alert_id = 2"))
    [alert] = live.oms.inbox.queued()
    assert alert.alert_id == 1 and alert.strategy == "MomentumStrategy" and alert.dialect == 2
    assert (alert.action, alert.qty, alert.price) == (Side.BUY, Decimal(100), Decimal("400.2"))
    assert (alert.position, alert.target_position, alert.trade_id) == ("flat", "long", "Enter Long")
    assert (alert.spread.ticker1, alert.spread.hedge, alert.spread.ticker2) == ("NMFC", Decimal("0.72"), "ROIC")
    assert alert.received_at.tzinfo is not None and alert.extra["raw"]["mar_pos_size"] == "100"
    assert live.oms.inbox.journal.statuses([1, 2]) == {1: ("queued", None), 2: ("routed", None)}


async def test_a_row_at_fault_fails_alone_and_a_closed_journal_answers_503(live):
    inbox = live.oms.inbox
    now = utc_now()
    good = Alert(ticker="ES", action=Side.BUY, received_at=now)
    bad = Alert(ticker="\ud800", action=Side.BUY, received_at=now)  # cannot be stored
    futures = [inbox.append(a, raw="{}", fingerprint=f"f{i}") for i, a in enumerate((good, bad, good))]
    outcomes = await asyncio.gather(*futures, return_exceptions=True)
    assert [getattr(o, "alert_id", None) for o in outcomes] == [1, None, 2]
    assert isinstance(outcomes[1], ValueError)
    live.store.writer.close()
    status, body, _ = await post(live, DIALECT_1)
    assert status == 503 and body["status"] == "error" and "NOT accepted" in body["message"]


async def test_strategy_names_match_exactly_first_then_regardless_of_case(data_dir, secrets):
    config = {"strategies": {"Mom": {"tickers": {"ES": {}}}, "MOM": {"tickers": {"NQ": {}}}}}
    async with running_station(data_dir, secrets, config=config) as station:
        for path in ("/webhook/Mom", "/webhook/MOM", "/webhook/mom"):
            status, body, _ = await post(station, {**DIALECT_3, "trade_id": path}, path=path)
            assert status == 200, body
        assert [r["strategy"] for r in rows(station)] == ["Mom", "MOM", "Mom"]


async def test_the_same_strategy_in_the_url_or_the_body_is_the_same_content(live):
    _, first, _ = await post(live, DIALECT_1, path="/webhook/MomentumStrategy")
    _, again, _ = await post(live, {**DIALECT_1, "strategy": "momentumstrategy"})
    assert again == {"status": "skipped", "message": "Duplicate alert", "alert_id": first["alert_id"]}
    _, other, _ = await post(live, {**DIALECT_1, "strategy": "Elsewhere"})
    assert other["status"] == "success"
