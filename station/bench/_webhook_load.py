"""The load client of `station bench webhook`, run in its own process.

Reads its plan as JSON on stdin (the passphrase travels there, never in argv),
posts unique alerts with aiohttp at each concurrency, and prints one JSON line:
per phase the answers by status, the latencies and the alert ids answered "queued".
"""

from __future__ import annotations

import asyncio
import json
import sys
import time


async def _phase(url: str, passphrase: str, tag: str, concurrency: int, count: int, kind: str) -> dict:
    import aiohttp

    prefix = json.dumps({"passphrase": passphrase, "ticker": "AAPL", "action": "buy", "qty": 1})[:-1].encode()
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    ids: list[int] = []
    next_index = iter(range(count))
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    headers = {"Content-Type": "application/json"}

    async def worker(session: aiohttp.ClientSession) -> None:
        for index in next_index:
            started = time.perf_counter()
            if kind == "health":
                async with session.get(url) as response:
                    await response.read()
            else:
                body = prefix + b', "trade_id": "%s-%d"}' % (tag.encode(), index)
                async with session.post(url, data=body, headers=headers) as response:
                    answer = await response.read()
                if response.status == 200:
                    ids.append(json.loads(answer)["alert_id"])
            latencies.append(time.perf_counter() - started)
            statuses[str(response.status)] = statuses.get(str(response.status), 0) + 1

    async with aiohttp.ClientSession(connector=connector) as session:
        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    latencies.sort()
    return {
        "kind": kind, "concurrency": concurrency, "count": count, "seconds": elapsed, "client_cpu_s": cpu,
        "per_s": count / elapsed, "statuses": statuses, "ids": ids,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
    }


async def _main(plan: dict) -> list[dict]:
    results = []
    for index, phase in enumerate(plan["phases"]):
        url = plan["health_url"] if phase["kind"] == "health" else plan["url"]
        results.append(await _phase(url, plan["passphrase"], f"{plan['tag']}{index}", phase["concurrency"],
                                    phase["count"], phase["kind"]))
    return results


if __name__ == "__main__":
    print(json.dumps(asyncio.run(_main(json.loads(sys.stdin.read())))), flush=True)
