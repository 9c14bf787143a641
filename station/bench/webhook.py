"""`station bench webhook`: durable alerts per second and answer latency of the TradingView webhook.

The headless core runs in this process with the real journal (SQLite, WAL,
synchronous=FULL, group commit) in a temporary folder next to the real data;
a load client in another process posts unique alerts with aiohttp at
concurrency 1 and 20. Baseline: `GET /health` at the same concurrency, i.e. the
bare HTTP stack on this machine, so the ratio says what the webhook path costs.
Afterwards every alert answered "queued" is looked up in the journal: `lost`
counts those missing, `duplicated` the ids journaled more than once.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

SIZES = {"warmup": 500, "c1": 3000, "c20": 20000}
QUICK = {"warmup": 50, "c1": 200, "c20": 1000}  # STATION_BENCH_QUICK=1 (the test suite)


def run(options) -> dict:
    """Start the core, drive it from a client process, check the journal; figures as a dict."""
    sizes = QUICK if os.environ.get("STATION_BENCH_QUICK") else SIZES
    base = Path(options.data_dir)
    base.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="bench-webhook-", dir=base))
    try:
        return asyncio.run(_run(options, folder, sizes))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def _run(options, folder: Path, sizes: dict) -> dict:
    from station.app import Options, Station
    from station.store.secret_store import MemoryBackend, SecretStore, random_token

    secrets = SecretStore(MemoryBackend())
    passphrase = secrets.set("webhook-passphrase", random_token()).reveal()
    station = Station(Options(data_dir=folder, host=options.host, port=0, headless=True), secrets)
    # a flood from one address is the point here: no rate limit
    station.config.import_document({"settings": {"webhook": {"rate_limits": []}}})
    await station.start()
    try:
        phases = [("webhook", 20, sizes["warmup"]), ("health", 1, sizes["c1"]), ("webhook", 1, sizes["c1"]),
                  ("health", 20, sizes["c20"]), ("webhook", 20, sizes["c20"])]
        results = []
        for index, (kind, concurrency, count) in enumerate(phases):
            plan = {"url": station.webhook.url(), "health_url": f"{station.receiver.url}/health",
                    "tag": f"bench{index}-", "passphrase": passphrase,
                    "phases": [{"kind": kind, "concurrency": concurrency, "count": count}]}
            commits, cpu = station.store.writer.commits, _cpu_seconds()
            loop_cpu, writer_cpu = time.thread_time(), await station.store.writer.run(lambda conn: time.thread_time())
            result = (await _drive(plan))[0]
            result["server_cpu_s"] = _cpu_seconds() - cpu
            result["loop_cpu_s"] = time.thread_time() - loop_cpu
            result["writer_cpu_s"] = await station.store.writer.run(lambda conn: time.thread_time()) - writer_cpu
            result["commits"] = station.store.writer.commits - commits
            results.append(result)
    finally:
        await station.stop()
    answered = [alert_id for phase in results if phase["kind"] == "webhook" for alert_id in phase["ids"]]
    return _figures(results, answered, _journal_ids(folder))


async def _drive(plan: dict) -> list[dict]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "station.bench._webhook_load",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate(json.dumps(plan).encode())
    if proc.returncode != 0:
        raise RuntimeError(f"the load client failed (exit {proc.returncode})")
    return json.loads(out)


def _journal_ids(folder: Path) -> list[int]:
    from station.store.database import DB_FILENAME, connect

    conn = connect(folder / DB_FILENAME, readonly=True)
    try:
        return [row[0] for row in conn.execute("SELECT alert_id FROM alerts")]
    finally:
        conn.close()


def _cpu_seconds() -> float:
    """CPU time of this (the server's) process so far: the loop thread plus the store writer."""
    return time.process_time()


def _figures(results: list[dict], answered: list[int], journaled: list[int]) -> dict:
    by = {(r["kind"], r["concurrency"]): r for r in results[1:]}
    figures: dict = {}
    for c in (1, 20):
        alerts, health = by[("webhook", c)], by[("health", c)]
        accepted = alerts["statuses"].get("200", 0)
        figures[f"c{c}_alerts_per_s"] = round(accepted / alerts["seconds"])
        figures[f"c{c}_p50_ms"] = round(alerts["p50_ms"], 3)
        figures[f"c{c}_p99_ms"] = round(alerts["p99_ms"], 3)
        figures[f"c{c}_health_per_s"] = round(health["per_s"])
        figures[f"c{c}_ratio_vs_health"] = round(alerts["per_s"] / health["per_s"], 3)
        figures[f"c{c}_non_200"] = alerts["count"] - accepted
        figures[f"c{c}_server_cpu_us_per_alert"] = round(1e6 * alerts["server_cpu_s"] / alerts["count"])
        figures[f"c{c}_loop_cpu_us_per_alert"] = round(1e6 * alerts["loop_cpu_s"] / alerts["count"])
        figures[f"c{c}_writer_cpu_us_per_alert"] = round(1e6 * alerts["writer_cpu_s"] / alerts["count"])
        figures[f"c{c}_client_cpu_us_per_alert"] = round(1e6 * alerts["client_cpu_s"] / alerts["count"])
        figures[f"c{c}_server_cpu_us_per_health"] = round(1e6 * health["server_cpu_s"] / health["count"])
        figures[f"c{c}_alerts_per_commit"] = round(accepted / alerts["commits"], 2) if alerts["commits"] else None
    journal = set(journaled)
    figures["accepted"] = len(answered)
    figures["lost"] = sum(1 for alert_id in answered if alert_id not in journal)
    figures["duplicated"] = len(answered) - len(set(answered))
    figures["durability"] = "sqlite WAL, synchronous=FULL, group commit"
    figures["cpus"] = os.cpu_count()
    return figures
