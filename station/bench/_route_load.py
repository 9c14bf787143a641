"""The load client of `station bench route`, run in its own process: TradingView and NinjaTrader at once.

Started with `multiprocessing` (so it also runs from the installed, frozen app) and spoken
to over a pipe, one message each way at a time:
1. receives the plan (passphrase, phases, echo count), listens as the NinjaTrader strategy
   (`LoopbackNinjaTrader` on a free port) and sends `{"nt_port": N}`;
2. receives `{"url", "echo_port"}` once Station routes that port, waits for its connection,
   runs the phases and sends the results.

Alerts go out open-loop (each at its scheduled time, whatever the earlier ones are doing)
over a pool of keep-alive HTTP/1.1 connections on plain asyncio streams, which costs the
two cores a few µs per alert. Every time is `time.perf_counter()` in this process, so an
alert's latency (POST written -> its line read here) needs no clock shared with Station.
"""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import urlsplit

from station.brokers.ninjatrader.loopback import LoopbackNinjaTrader

POOL = 8


MAX_IDLE_S = 10.0


class _Http:
    """A pool of keep-alive connections posting alert bodies to one URL."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.head = (f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: text/plain\r\n"
                     "Content-Length: %d\r\n\r\n").encode()
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []  # with when last used
        self.opened = 0

    async def warm(self, count: int) -> None:
        for _ in range(count):
            self.idle.append((*await self._open(), time.monotonic()))

    async def _open(self):
        self.opened += 1
        return await asyncio.open_connection(self.host, self.port)

    async def post(self, body: bytes, sent: list[float]) -> tuple[int, bytes]:
        """POST `body`; appends the time the request was written to `sent`."""
        conn = None
        while self.idle and conn is None:
            reader, writer, used = self.idle.pop()
            # Station closes a connection idle for 15 s (its keep-alive timeout); like any HTTP client, a connection
            # near that age is not reused (the server's close could cross our request)
            if reader.at_eof() or time.monotonic() - used > MAX_IDLE_S:
                writer.close()
            else:
                conn = (reader, writer)
        reused = conn is not None
        reader, writer = conn or await self._open()
        sent.append(time.perf_counter())
        writer.write(self.head % len(body) + body)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            # a kept connection Station closed before reading the request (past its connection ceiling it closes
            # the one idle longest): nothing was done, so it goes again on a new one, as HTTP clients do
            if not reused or exc.partial:
                raise
            writer.close()
            reader, writer = await self._open()
            writer.write(self.head % len(body) + body)
            head = await reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        length = next(int(line.split(b":", 1)[1]) for line in lines if line.lower().startswith(b"content-length:"))
        answer = await reader.readexactly(length)
        self.idle.append((reader, writer, time.monotonic()))
        return int(lines[0].split()[1]), answer

    def close(self) -> None:
        for _, writer, _used in self.idle:
            writer.close()


def _body(passphrase: str, tag: str) -> bytes:
    return json.dumps({"passphrase": passphrase, "ticker": "AAPL", "action": "buy", "qty": 1, "price": 150.25,
                       "trade_id": tag}).encode()


async def _alerts(http: _Http, listener: LoopbackNinjaTrader, passphrase: str, name: str, rate: float, count: int,
                  drain_s: float) -> dict:
    """`count` alerts at `rate` per second; per alert: sent, answered and line-arrival times."""
    records: list[dict] = []

    async def one(index: int) -> None:
        sent: list[float] = []
        try:
            status, answer = await http.post(_body(passphrase, f"{name}-{index}"), sent)
        except (ConnectionError, asyncio.IncompleteReadError):
            # turned away: past its connection ceiling Station closes a newcomer when every connection is busy
            # (a rate this machine cannot keep up with): counted as not answered 200, the run goes on
            status, answer = 0, b""
        record = {"sent": sent[0], "answered": time.perf_counter(), "status": status}
        if status == 200:
            record["alert_id"] = json.loads(answer)["alert_id"]
        records.append(record)

    start = time.perf_counter()
    tasks = []
    for index in range(count):
        delay = start + index / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(index)))
    await asyncio.gather(*tasks)
    sent_s = time.perf_counter() - start
    arrived = {line["alert_id"]: line for line in listener.lines}
    deadline = time.perf_counter() + drain_s
    while time.perf_counter() < deadline and any(r.get("alert_id") not in arrived for r in records if r["status"] == 200):
        await asyncio.sleep(0.005)
        arrived = {line["alert_id"]: line for line in listener.lines}
    for record in records:
        line = arrived.get(record.get("alert_id"))
        if line is not None:
            record["id"] = line["id"]
            record["arrived"] = listener.received_at[line["id"]]
    return {"phase": name, "rate": rate, "count": count, "send_seconds": sent_s, "alerts": records}


def _kept_up(records: list[dict], p99_limit_ms: float) -> bool:
    """Every alert answered 200 and its line arrived, with the p99 latency under the limit."""
    if any(r["status"] != 200 or "arrived" not in r for r in records):
        return False
    latency = sorted(r["arrived"] - r["sent"] for r in records)
    return 1000 * latency[min(len(latency) - 1, int(0.99 * len(latency)))] <= p99_limit_ms


async def _echo(port: int, count: int, rate: float) -> list[float]:
    """Round trips of one line through a bare TCP echo in Station's process, paced like the alerts."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    line = json.dumps({"id": "a1-Bench-port_5000", "alert_id": 1, "ticker": "AAPL", "qty": 1}).encode() + b"\n"
    trips = []
    try:
        for _ in range(count):
            started = time.perf_counter()
            writer.write(line)
            await reader.readline()
            trips.append(time.perf_counter() - started)
            await asyncio.sleep(max(0.0, started + 1 / rate - time.perf_counter()))
    finally:
        writer.close()
    return trips


def main(pipe) -> None:
    """The client process's entry point: `pipe` is its end of a `multiprocessing.Pipe`."""
    asyncio.run(_main(pipe))


async def _main(pipe) -> None:
    loop = asyncio.get_running_loop()
    plan = await loop.run_in_executor(None, pipe.recv)
    listener = LoopbackNinjaTrader()
    pipe.send({"nt_port": await listener.start()})
    target = await loop.run_in_executor(None, pipe.recv)
    http = _Http(target["url"])
    results: dict = {"phases": []}
    try:
        await listener.wait_connected(timeout=10)
        await http.warm(POOL)
        results["echo"] = await _echo(target["echo_port"], plan["echo_count"], plan["echo_rate"])
        for phase in plan["phases"]:
            done = await _alerts(http, listener, plan["passphrase"], phase["name"], phase["rate"], phase["count"],
                                 phase["drain_s"])
            results["phases"].append(done)
            if phase.get("ramp") and not _kept_up(done["alerts"], plan["sustained_p99_ms"]):
                break  # the next, faster steps would only fail worse
        results["duplicates"] = len(listener.duplicates)
        results["connections_opened"] = http.opened
    finally:
        http.close()
        await listener.stop()
    pipe.send(results)
