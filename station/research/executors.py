"""Where a sweep's tasks run: in this process, in local worker processes, or on an existing Dask cluster.

Each task is one parameter set over the whole file (`tasks.run_summary`), so the same task gives the
same row wherever it runs. Local processes come from a `ProcessPoolExecutor` (forked on Linux, so a
worker starts with Station already imported). On Dask (`station[cluster]`), tasks are submitted with
`Client.map` and gathered in order; a worker lost mid-sweep has its tasks re-run by the scheduler on
another worker. The data file travels by path (every worker sees it at the same path), or with
`ship_data` once to every worker (`Client.scatter(..., broadcast=True)`), written there to a
temporary file named by its content.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Callable, Sequence

from station.research.run import BacktestSpec
from station.research.tasks import run_summary


class ClusterError(RuntimeError):
    """The Dask cluster cannot be reached or used; the message says why."""


def check_scheduler_address(address: str) -> None:
    """ClusterError unless `address` reads as a scheduler address, `[tcp://]HOST:PORT` (no connection made).

    Checked before the client is built: distributed raises a bare ValueError for a malformed address, and
    the half-built client then holds the process for a minute at exit.
    """
    from urllib.parse import urlsplit

    text = address.strip()
    try:
        parts = urlsplit(text if "://" in text else f"tcp://{text}")
        port = parts.port
    except ValueError:
        port = None
    if not parts.scheme or not parts.hostname or port is None or not 0 < port <= 65535:
        raise ClusterError(f"--cluster {address!r} is not a Dask scheduler address (tcp://HOST:PORT)")


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def run_local(specs: Sequence[BacktestSpec], workers: int, *,
              done: Callable[[int, dict], None] = lambda i, row: None) -> list[dict]:
    """Run every spec in `workers` local processes (in this process when there is one spec and one worker)."""
    if workers <= 1 and len(specs) <= 1:
        rows = [run_summary(spec) for spec in specs]
        for index, row in enumerate(rows):
            done(index, row)
        return rows
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    rows: list[dict | None] = [None] * len(specs)
    with ProcessPoolExecutor(max_workers=max(1, workers), mp_context=multiprocessing.get_context(method)) as pool:
        futures = [pool.submit(run_summary, spec) for spec in specs]
        for index, future in enumerate(futures):
            rows[index] = future.result()
            done(index, rows[index])
    return rows  # type: ignore[return-value]


def run_dask(specs: Sequence[BacktestSpec], address: str, *, ship_data: bool = False, timeout: float = 30.0,
             done: Callable[[int, dict], None] = lambda i, row: None) -> list[dict]:
    """Run every spec on the Dask cluster whose scheduler is at `address`; rows in the specs' order."""
    try:
        from distributed import Client
    except ImportError:
        raise ClusterError('--cluster needs the Dask client: pip install "station[cluster]"') from None
    check_scheduler_address(address)
    try:
        client = Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    try:
        shipped = None
        if ship_data:
            data = Path(specs[0].data).read_bytes()
            shipped = client.scatter(data, broadcast=True, hash=False)
        keys = [f"station-backtest-{index}-{_task_key(spec)}" for index, spec in enumerate(specs)]
        futures = [client.submit(run_summary, spec, shipped, key=key, pure=False, retries=2)
                   for key, spec in zip(keys, specs)]
        rows = []
        for index, future in enumerate(futures):
            rows.append(future.result())
            done(index, rows[-1])
        return rows
    finally:
        client.close()


def _task_key(spec: BacktestSpec) -> str:
    text = repr((spec.strategy, sorted(spec.params.items()), spec.data, spec.start_ns, spec.end_ns))
    return hashlib.sha1(text.encode()).hexdigest()[:12]
