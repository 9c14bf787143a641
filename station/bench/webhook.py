"""`station bench webhook`: durable alerts per second and answer latency of the TradingView webhook.

The headless core runs in this process with the real journal (SQLite, WAL,
synchronous=FULL, group commit) in a temporary folder next to the real data;
a load client in another process posts unique alerts at concurrency 1 and 20,
first with aiohttp (`c1_…`, `c20_…`), then with a lean HTTP/1.1 client that
costs the two cores almost nothing (`lean_c1_…`, `lean_c20_…`: what the server
itself can do). Baseline: `GET /health` through aiohttp at the same concurrency,
the bare HTTP stack on this machine, so `ratio_vs_health` says what the webhook
path costs. CPU per alert is split into the event loop, the store writer and the
client. Afterwards every alert answered "queued" is looked up in the journal:
`lost` counts those missing, `duplicated` the ids answered twice.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from station.bench._machine import load_average

SIZES = {"warmup": 500, "c1": 3000, "c20": 20000}
QUICK = {"warmup": 50, "c1": 200, "c20": 1000}  # STATION_BENCH_QUICK=1 (the test suite)


def run(options) -> dict:
    """Start the core, drive it from a client process, check the journal; figures as a dict."""
    sizes = QUICK if os.environ.get("STATION_BENCH_QUICK") else SIZES
    base = Path(options.data_dir)
    base.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-webhook-", dir=base, ignore_cleanup_errors=True) as folder:
        before = load_average()
        return {**asyncio.run(_run(options, Path(folder), sizes)), "load_average_before": before,
                "load_average_after": load_average()}


async def _run(options, folder: Path, sizes: dict) -> dict:
    from station.app import Options, Station
    from station.secrets import MemoryBackend, SecretStore, random_token

    secrets = SecretStore(MemoryBackend())
    passphrase = secrets.set("webhook-passphrase", random_token()).reveal()
    station = Station(Options(data_dir=folder, host=options.host, port=0, headless=True), secrets)
    # a flood from one address is the point here: no rate limit
    station.config.import_document({"settings": {"webhook": {"rate_limits": []}}})
    await station.start()
    phases = [("webhook", 20, sizes["warmup"]), ("health", 1, sizes["c1"]), ("webhook", 1, sizes["c1"]),
              ("health", 20, sizes["c20"]), ("webhook", 20, sizes["c20"]), ("lean", 1, sizes["c1"]),
              ("lean", 20, sizes["c20"])]
    results = []
    try:
        for index, (kind, concurrency, count) in enumerate(phases):
            plan = {"url": station.webhook.url(), "health_url": f"{station.receiver.url}/health",
                    "tag": f"bench{index}-", "passphrase": passphrase,
                    "phases": [{"kind": kind, "concurrency": concurrency, "count": count}]}
            results.append(await _measured(station, plan))
    finally:
        await station.stop()
    answered = [alert_id for phase in results if phase["kind"] != "health" for alert_id in phase["ids"]]
    return _figures(results[1:], answered, _journal_ids(folder))


async def _measured(station, plan: dict) -> dict:
    """One client run, with the server's commits and CPU (loop thread, writer thread) around it."""
    writer = station.store.writer
    commits, cpu, loop_cpu = writer.commits, time.process_time(), time.thread_time()
    writer_cpu = await writer.run(lambda conn: time.thread_time())
    result = (await _drive(plan))[0]
    result["writer_cpu_s"] = await writer.run(lambda conn: time.thread_time()) - writer_cpu
    result["loop_cpu_s"] = time.thread_time() - loop_cpu
    result["server_cpu_s"] = time.process_time() - cpu
    result["commits"] = writer.commits - commits
    return result


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


def _figures(results: list[dict], answered: list[int], journaled: list[int]) -> dict:
    by = {(r["kind"], r["concurrency"]): r for r in results}
    figures: dict = {}
    for kind, prefix in (("webhook", ""), ("lean", "lean_")):
        for c in (1, 20):
            run, health = by[(kind, c)], by[("health", c)]
            accepted = run["statuses"].get("200", 0)
            name = f"{prefix}c{c}"
            figures[f"{name}_alerts_per_s"] = round(accepted / run["seconds"])
            figures[f"{name}_p50_ms"] = round(run["p50_ms"], 3)
            figures[f"{name}_p99_ms"] = round(run["p99_ms"], 3)
            figures[f"{name}_non_200"] = run["count"] - accepted
            figures[f"{name}_alerts_per_commit"] = round(accepted / run["commits"], 2) if run["commits"] else None
            for part in ("loop", "writer", "client"):
                figures[f"{name}_{part}_cpu_us_per_alert"] = round(1e6 * run[f"{part}_cpu_s"] / run["count"])
            if kind == "webhook":
                figures[f"c{c}_health_per_s"] = round(health["per_s"])
                figures[f"c{c}_health_server_cpu_us"] = round(1e6 * health["server_cpu_s"] / health["count"])
                figures[f"c{c}_ratio_vs_health"] = round(run["per_s"] / health["per_s"], 3)
    journal = set(journaled)
    figures["accepted"] = len(answered)
    figures["lost"] = sum(1 for alert_id in answered if alert_id not in journal)
    figures["duplicated"] = len(answered) - len(set(answered))
    figures["durability"] = "sqlite WAL, synchronous=FULL, group commit"
    figures["cpus"] = os.cpu_count()
    return figures
