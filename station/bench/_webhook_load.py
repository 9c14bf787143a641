"""The load client of `station bench webhook`, run in its own process.

Reads its plan as JSON on stdin (the passphrase travels there, never in argv),
posts unique alerts at the phase's concurrency, and prints one JSON line: per
phase the answers by status, the latencies, the client's own CPU time and the
alert ids answered "queued".

Two clients: aiohttp (what the issue asks for; even set up as lean as it goes it
costs 150–200 µs of CPU per request, close to what the server spends, and on two
cores that CPU is taken from the server), and a lean one speaking HTTP/1.1
keep-alive over plain asyncio streams, which costs a fraction of that and so
measures what the server itself can do.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from urllib.parse import urlsplit

PHASE_TIMEOUT_S = 60.0


class _Tally:
    """Latencies, statuses and accepted ids of one phase."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.statuses: dict[str, int] = {}
        self.ids: list[int] = []

    def record(self, started: float, status: int, answer: bytes | None) -> None:
        self.latencies.append(time.perf_counter() - started)
        self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1
        if status == 200 and answer is not None:
            self.ids.append(json.loads(answer)["alert_id"])


def _bodies(passphrase: str, tag: str, count: int):
    prefix = json.dumps({"passphrase": passphrase, "ticker": "AAPL", "action": "buy", "qty": 1})[:-1].encode()
    # made before the clock starts; the workers share one iterator, so each body is sent once
    return iter([prefix + b', "trade_id": "%s-%d"}' % (tag.encode(), index) for index in range(count)])


async def _aiohttp_workers(url: str, bodies, concurrency: int, tally: _Tally, health: bool) -> None:
    import aiohttp
    from yarl import URL

    # As cheap as an honest aiohttp client gets: one keep-alive connection per worker, the URL parsed
    # once, bodies prepared up front, no cookie jar, no per-request timer (the phase has one), no
    # compression headers or User-Agent to build and parse; the answer is still read and decoded.
    target = URL(url)
    headers = {"Content-Type": "application/json"}

    async def worker(session: aiohttp.ClientSession) -> None:
        for body in bodies:
            started = time.perf_counter()
            if health:
                async with session.get(target) as response:
                    await response.read()
                tally.record(started, response.status, None)
                continue
            async with session.post(target, data=body, headers=headers) as response:
                answer = await response.read()
            tally.record(started, response.status, answer)

    async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=concurrency), cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=None), auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding")) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))


async def _lean_workers(url: str, bodies, concurrency: int, tally: _Tally) -> None:
    parts = urlsplit(url)
    head = (f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: text/plain\r\n"
            "Content-Length: %d\r\n\r\n").encode()

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            for body in bodies:
                started = time.perf_counter()
                writer.write(head % len(body) + body)
                lines = (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
                length = next(int(line.split(b":", 1)[1]) for line in lines
                              if line.lower().startswith(b"content-length:"))
                answer = await reader.readexactly(length)
                tally.record(started, int(lines[0].split()[1]), answer)
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def _phase(plan: dict, index: int, phase: dict) -> dict:
    kind, concurrency, count = phase["kind"], phase["concurrency"], phase["count"]
    bodies = _bodies(plan["passphrase"], f"{plan['tag']}{index}", count)
    tally = _Tally()
    started, cpu = time.perf_counter(), time.process_time()
    async with asyncio.timeout(PHASE_TIMEOUT_S + count / 100):  # a stuck server ends the run, not hangs it
        if kind == "lean":
            await _lean_workers(plan["url"], bodies, concurrency, tally)
        else:
            url = plan["health_url"] if kind == "health" else plan["url"]
            await _aiohttp_workers(url, bodies, concurrency, tally, kind == "health")
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    latencies = sorted(tally.latencies)
    return {
        "kind": kind, "concurrency": concurrency, "count": count, "seconds": elapsed, "client_cpu_s": cpu,
        "per_s": count / elapsed, "statuses": tally.statuses, "ids": tally.ids,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
    }


async def _main(plan: dict) -> list[dict]:
    return [await _phase(plan, index, phase) for index, phase in enumerate(plan["phases"])]


if __name__ == "__main__":
    print(json.dumps(asyncio.run(_main(json.loads(sys.stdin.read())))), flush=True)
