"""Crash safety: `station --headless` under a flood of alerts is killed (SIGKILL) at a random moment
and restarted. Every alert answered "queued" is in the journal exactly once, resending
anything — answered or not — never makes a second row, and every journaled alert is routed
to exactly one order (alerts journaled but not routed before a kill are routed at restart)."""

import asyncio
import json
import random

import aiohttp
import pytest

from support.launch import free_port, run_cli
from support.wait import wait_until
from support.webhook import PASSPHRASE, Headless, journal, prepare_headless

pytestmark = pytest.mark.slow
CONCURRENCY = 12


def alert(trade_id: str) -> bytes:
    return json.dumps({"passphrase": PASSPHRASE, "ticker": "ES", "action": "buy", "qty": 1, "price": 5000,
                       "trade_id": trade_id}).encode()


async def flood(url: str, prefix: str, answered: dict[str, int], unanswered: set[str], stop: asyncio.Event) -> None:
    """Post unique alerts until stopped or the server dies; note which were answered "queued"."""
    counter = iter(range(10**9))

    async def worker(session: aiohttp.ClientSession) -> None:
        while not stop.is_set():
            trade_id = f"{prefix}-{next(counter)}"
            try:
                async with session.post(url, data=alert(trade_id), headers={"Content-Type": "text/plain"}) as response:
                    body = await response.json()
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
                unanswered.add(trade_id)  # in flight when the process died: may or may not be journaled
                return
            assert response.status == 200 and body["status"] == "success", body
            answered[trade_id] = body["alert_id"]

    timeout = aiohttp.ClientTimeout(total=5)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        await asyncio.gather(*(worker(session) for _ in range(CONCURRENCY)))


async def flood_then_kill(station: Headless, prefix: str, answered: dict, unanswered: set) -> None:
    stop = asyncio.Event()
    task = asyncio.ensure_future(flood(f"{station.url}/webhook", prefix, answered, unanswered, stop))
    await asyncio.sleep(random.uniform(0.3, 1.2))  # the scenario: a kill at a random moment of the flood
    station.proc.kill()  # SIGKILL: no shutdown, no final commit
    await asyncio.wait_for(task, 15)
    stop.set()


def test_sigkill_under_a_flood_loses_no_answered_alert_and_duplicates_none(tmp_path):
    env = {"PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring", "XDG_DATA_HOME": str(tmp_path / "xdg")}
    data_dir = tmp_path / "data"
    prepare_headless(data_dir, env, {"rate_limits": []})
    routing = tmp_path / "routing.json"
    routing.write_text(json.dumps({"destinations": {"paper": {"type": "paper"}},
                                   "strategies": {"Crash": {"tickers": {"ES": {"destinations": {"paper": {}}}}}}}))
    assert run_cli("config", "import", str(routing), "--data-dir", str(data_dir), env=env).returncode == 0
    answered: dict[str, int] = {}
    unanswered: set[str] = set()
    for round_ in range(2):
        station = Headless(data_dir, env, free_port())
        station.wait_ready()
        before = len(answered)
        asyncio.run(flood_then_kill(station, f"r{round_}", answered, unanswered))
        station.kill()
        assert len(answered) - before > 20, "the flood did not get going before the kill"

    rows = journal(data_dir)
    print(f"answered {len(answered)}, in flight at the kill {len(unanswered)}, journaled {len(rows)}")
    by_trade = {}
    for row in rows:
        assert row["trade_id"] not in by_trade, f"journaled twice: {row['trade_id']}"
        by_trade[row["trade_id"]] = row["alert_id"]
    for trade_id, alert_id in answered.items():
        assert by_trade.get(trade_id) == alert_id, f"answered queued but not journaled: {trade_id}"
    assert set(by_trade) <= set(answered) | unanswered

    # After the restart, resending is safe: answered ones are recognised, unknown ones journaled at most once.
    station = Headless(data_dir, env, free_port())
    station.wait_ready()
    try:
        async def resend() -> list[tuple[str, dict]]:
            async with aiohttp.ClientSession() as session:
                async def one(trade_id: str):
                    async with session.post(f"{station.url}/webhook", data=alert(trade_id)) as response:
                        return trade_id, await response.json()
                sample = random.sample(sorted(answered), min(200, len(answered))) + sorted(unanswered)
                return await asyncio.gather(*(one(t) for t in sample))

        for trade_id, body in asyncio.run(resend()):
            if trade_id in answered:
                assert body == {"status": "skipped", "message": "Duplicate alert", "alert_id": answered[trade_id]}
            elif trade_id in by_trade:
                assert body["status"] == "skipped" and body["alert_id"] == by_trade[trade_id]
            else:
                assert body["status"] == "success"
        wait_until(lambda: not any(row["status"] == "queued" for row in journal(data_dir)), 20, interval=0.2,
                   what="every journaled alert routed after the restart")
    finally:
        station.kill()
    final = journal(data_dir)
    trade_ids = [row["trade_id"] for row in final]
    assert len(trade_ids) == len(set(trade_ids))
    assert all(row["status"] == "routed" for row in final), {row["status"] for row in final}
    orders = order_rows(data_dir)
    per_alert = {}
    for order in orders:
        per_alert.setdefault(order["alert_id"], []).append(order["client_order_id"])
    assert {row["alert_id"] for row in final} == set(per_alert)
    assert all(ids == [f"a{alert_id}-Crash-paper"] for alert_id, ids in per_alert.items()), "an alert made two orders"


def order_rows(data_dir) -> list[dict]:
    import sqlite3

    conn = sqlite3.connect(data_dir / "station.db")
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT alert_id, client_order_id, status FROM orders")]
    finally:
        conn.close()
