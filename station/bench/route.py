"""`station bench route`: alert POST -> its line read by the NinjaTrader strategy, through the headless core.

The real core runs in this process (webhook -> journal, SQLite WAL synchronous=FULL ->
router -> NinjaTrader port broker) on a temporary folder next to the real data. A load
client in another process (`_route_load.py`) is both TradingView and NinjaTrader: it posts
unique alerts open-loop and reads the lines as a `LoopbackNinjaTrader` on the port the
strategy lists, so an alert's latency is measured on one clock.

- paced: alerts at 100/s: p50/p99 end to end. Baselines measured in the same run: the
  webhook's answer alone (what TradingView waits for); a bare TCP echo of a line through this
  process (the same two loopback hops without HTTP, journal or routing); and the disk's floor,
  one-row SQLite commits at 100/s with the journal's durability (WAL, synchronous=FULL), which
  every answered alert must wait for;
- ramp: 200, 400, 800 … alerts/s for a few seconds each; a rate is sustained when every
  alert is answered 200, every line arrives once, and p99 stays under `SUSTAINED_P99_MS`
  (the backlog does not grow). The highest such rate is `max_sustained_alerts_per_s`.
- where the time goes (p50/p99 over the paced alerts, by timestamps taken on the bus in this
  process; same clock as the client's on Linux, macOS and Windows): POST -> journal committed,
  journal committed -> line written to the port, written -> read by the strategy, and the
  routing commit, which the port does not wait for. "Written" is stamped when the port
  reports the line sent, just after the write: on a busy machine the strategy may read
  the line first, so that stretch can come out at or below zero.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import tempfile
import time
from pathlib import Path

from station.bench import _route_load
from station.bench._machine import load_average

RATE = 100
RAMP = (200, 400, 800, 1600, 3200, 6400)
SUSTAINED_P99_MS = 50.0
SIZES = {"paced": 1000, "step_s": 2.0, "echo": 300, "warmup": 100}
QUICK = {"paced": 150, "step_s": 0.3, "echo": 50, "warmup": 20}  # STATION_BENCH_QUICK=1 (the test suite)


def run(options) -> dict:
    """Start the core, drive it from the client process, report the figures; the temp folder is removed."""
    sizes = QUICK if os.environ.get("STATION_BENCH_QUICK") else SIZES
    base = Path(options.data_dir)
    base.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-route-", dir=base, ignore_cleanup_errors=True) as folder:
        return asyncio.run(_run(options, Path(folder), sizes))


class _ServerTimes:
    """perf_counter() when each alert was journaled, its line written, its routing committed."""

    def __init__(self, bus) -> None:
        from station.domain.enums import OrderStatus
        from station.domain.events import AlertReceived, AlertRouted, OrderReported

        self.journaled: dict[int, float] = {}
        self.written: dict[str, float] = {}
        self.routed: dict[int, float] = {}
        now = time.perf_counter
        bus.subscribe(AlertReceived, lambda e: self.journaled.setdefault(e.alert.alert_id, now()))
        bus.subscribe(AlertRouted, lambda e: self.routed.setdefault(e.alert_id, now()))
        bus.subscribe(OrderReported, lambda e: e.status is OrderStatus.SUBMITTED
                      and self.written.setdefault(e.client_order_id, now()))


def _commit_floor(folder: Path, count: int) -> list[float]:
    """Seconds per one-row durable commit at 100/s in a scratch database (blocking: run in a thread)."""
    from station.store.database import connect

    conn = connect(folder / "floor.db")
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("CREATE TABLE t (x INTEGER)")
        times = []
        for index in range(count):
            started = time.perf_counter()
            conn.execute("INSERT INTO t VALUES (?)", (index,))
            times.append(time.perf_counter() - started)
            time.sleep(max(0.0, started + 1 / RATE - time.perf_counter()))
        return times
    finally:
        conn.close()


async def _receive(pipe, timeout: float):
    """The client's next message; RuntimeError if it died or said nothing for `timeout` seconds."""
    def wait():
        if not pipe.poll(timeout):
            raise RuntimeError(f"the load client said nothing for {timeout:.0f} s")
        return pipe.recv()

    try:
        return await asyncio.to_thread(wait)
    except EOFError:
        raise RuntimeError("the load client ended early (see its traceback above)") from None


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while line := await reader.readline():
            writer.write(line)
    finally:
        writer.close()


def _plan(passphrase: str, sizes: dict) -> dict:
    step = sizes["step_s"]
    phases = [{"name": "warmup", "rate": RATE, "count": sizes["warmup"], "drain_s": 5},
              {"name": "paced", "rate": RATE, "count": sizes["paced"], "drain_s": 5}]
    phases += [{"name": f"ramp{rate}", "rate": rate, "count": max(20, int(rate * step)), "drain_s": 5,
                "ramp": True} for rate in RAMP]
    return {"passphrase": passphrase, "phases": phases, "echo_count": sizes["echo"], "echo_rate": RATE,
            "sustained_p99_ms": SUSTAINED_P99_MS}


async def _run(options, folder: Path, sizes: dict) -> dict:
    from station.app import Options, Station
    from station.secrets import MemoryBackend, SecretStore, random_token

    secrets = SecretStore(MemoryBackend())
    passphrase = secrets.set("webhook-passphrase", random_token()).reveal()
    context = multiprocessing.get_context("spawn")  # a fresh interpreter, also from the frozen app
    pipe, child_end = context.Pipe()
    client = context.Process(target=_route_load.main, args=(child_end,), name="bench-route-client", daemon=True)
    client.start()
    child_end.close()
    station = echo = None
    try:
        pipe.send(_plan(passphrase, sizes))
        nt_port = (await _receive(pipe, 30))["nt_port"]
        station = Station(Options(data_dir=folder, host=options.host, port=0, headless=True), secrets)
        # a flood from one address is the point here: no rate limit
        station.config.import_document({"strategies": {"Bench": {"tickers": {"AAPL": {"ports": [nt_port]}}}},
                                        "settings": {"webhook": {"rate_limits": [], "failed_passphrase_limits": []}}})
        server = _ServerTimes(station.bus)
        await station.start()
        floor = await asyncio.to_thread(_commit_floor, folder, sizes["echo"])
        echo = await asyncio.start_server(_echo, "127.0.0.1", 0)
        target = {"url": station.webhook.url(), "echo_port": echo.sockets[0].getsockname()[1]}
        cpu, commits = time.process_time(), station.store.writer.commits
        pipe.send(target)
        result = await _receive(pipe, 600)
        cpu, commits = time.process_time() - cpu, station.store.writer.commits - commits
    finally:
        pipe.close()
        await asyncio.to_thread(client.join, 5)
        if client.is_alive():
            client.kill()
            await asyncio.to_thread(client.join, 5)
        if echo is not None:
            echo.close()
        if station is not None:
            await station.stop()
    result.update(floor=floor, server_cpu_s=cpu, commits=commits)
    return _figures(result, server)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _ms(values: list[float], q: float) -> float:
    return round(1000 * _pct(values, q), 3)


def _outcome(phase: dict) -> dict:
    alerts = phase["alerts"]
    accepted = [a for a in alerts if a["status"] == 200]
    arrived = [a for a in accepted if "arrived" in a]
    latency = [a["arrived"] - a["sent"] for a in arrived]
    last = max((a["arrived"] for a in arrived), default=float("nan"))
    first = min((a["sent"] for a in alerts), default=float("nan"))
    return {"count": phase["count"], "non_200": len(alerts) - len(accepted), "lost": len(accepted) - len(arrived),
            "latency": latency, "answer": [a["answered"] - a["sent"] for a in accepted],
            "delivered_per_s": len(arrived) / (last - first) if arrived and last > first else 0.0}


def _figures(result: dict, server: _ServerTimes) -> dict:
    phases = {phase["phase"]: phase for phase in result["phases"]}
    paced = _outcome(phases["paced"])
    figures: dict = {
        "description": "alert POST -> line read by a loopback NinjaTrader strategy (another process), "
                       "through webhook, journal, router and port",
        "paced": f"{phases['paced']['count']} alerts at {RATE}/s",
        "p50_ms": _ms(paced["latency"], 0.5), "p99_ms": _ms(paced["latency"], 0.99),
        "max_ms": _ms(paced["latency"], 1.0),
        "answer_p50_ms": _ms(paced["answer"], 0.5), "answer_p99_ms": _ms(paced["answer"], 0.99),
        "echo_p50_ms": _ms(result["echo"], 0.5), "echo_p99_ms": _ms(result["echo"], 0.99),
        "disk_commit_p50_ms": _ms(result["floor"], 0.5), "disk_commit_p99_ms": _ms(result["floor"], 0.99),
    }
    figures["p99_vs_answer_p99"] = round(figures["p99_ms"] / figures["answer_p99_ms"], 2)
    figures["p99_vs_echo_p99"] = round(figures["p99_ms"] / figures["echo_p99_ms"], 1)
    figures["p99_vs_disk_commit_p99"] = round(figures["p99_ms"] / figures["disk_commit_p99_ms"], 2)
    figures["target_p99_ms"] = 5.0
    figures.update(_breakdown(phases["paced"]["alerts"], server))
    sustained, steps = 0, []
    for name, phase in phases.items():
        if not name.startswith("ramp"):
            continue
        outcome = _outcome(phase)
        p99 = _ms(outcome["latency"], 0.99)
        ok = outcome["non_200"] == 0 and outcome["lost"] == 0 and p99 <= SUSTAINED_P99_MS
        steps.append(f"{phase['rate']}/s: p99 {p99} ms, {round(outcome['delivered_per_s'])} lines/s, "
                     f"lost {outcome['lost']}, non-200 {outcome['non_200']}")
        if ok:
            sustained = phase["rate"]
    figures["max_sustained_alerts_per_s"] = sustained
    figures["sustained_means"] = f"every alert 200, every line once, p99 <= {SUSTAINED_P99_MS:g} ms"
    figures["ramp"] = steps
    everything = [_outcome(phase) for phase in result["phases"]]
    alerts = sum(o["count"] for o in everything)
    figures["server_cpu_us_per_alert"] = round(1e6 * result["server_cpu_s"] / alerts)
    figures["disk_commits_per_alert"] = round(result["commits"] / alerts, 2)
    figures["lost"] = sum(o["lost"] for o in everything)
    figures["non_200"] = sum(o["non_200"] for o in everything)
    figures["duplicated_lines"] = result["duplicates"]
    figures["durability"] = "sqlite WAL, synchronous=FULL, group commit; port lines kept on disk while down"
    figures["load_average"] = load_average()
    return figures


def _breakdown(alerts: list[dict], server: _ServerTimes) -> dict:
    """p50/p99 of each stretch of the path, from the client's and this process's timestamps."""
    stretches: dict[str, list[float]] = {"post_to_journaled": [], "journaled_to_port_written": [],
                                         "port_written_to_read": [], "journaled_to_routing_committed": []}
    for alert in alerts:
        alert_id, line_id = alert.get("alert_id"), alert.get("id")
        journaled, written = server.journaled.get(alert_id), server.written.get(line_id)
        routed = server.routed.get(alert_id)
        if journaled is None or written is None or "arrived" not in alert:
            continue
        stretches["post_to_journaled"].append(journaled - alert["sent"])
        stretches["journaled_to_port_written"].append(written - journaled)
        stretches["port_written_to_read"].append(alert["arrived"] - written)
        if routed is not None:
            stretches["journaled_to_routing_committed"].append(routed - journaled)
    out = {}
    for name, values in stretches.items():
        out[f"{name}_p50_ms"] = _ms(values, 0.5)
        out[f"{name}_p99_ms"] = _ms(values, 0.99)
    return out
