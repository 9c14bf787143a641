"""A backtest's round trip on the chart: the file's trades around it become the symbol's history there.

The Backtest dock's selected trade (`ShowTrade` with its `data` file) moves the chart to a time the live
tape has no trades for (a backtest is over the past). The file's trades of the symbol (or of the contract
traded as it) from `PAD_NS` before the entry to `PAD_NS` after the exit are read in a thread and handed to the
hub as history (`BarHub.backfill`, as the History dialog's Databento ranges are), so the chart draws the bars
the trade was made on. A range already loaded from the same file is not read again.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Callable

import numpy as np

from station.bus import Bus
from station.domain.commands import ShowTrade
from station.domain.events import ErrorRaised
from station.marketdata.databento.files import DbnError, DbnFile
from station.marketdata.hub import BarHub
from station.marketdata.trades import TradeBatch

log = logging.getLogger("station.marketdata")

PAD_NS = 12 * 3600 * 10**9  # each side of the trip: half a day of bars around it


class TradeHistory:
    """Loads the file's trades around a shown round trip into the hub (see the module docstring)."""

    def __init__(self, bus: Bus, hub: BarHub) -> None:
        self.bus, self.hub = bus, hub
        self._loaded: dict[tuple[str, str, str], list[tuple[int, int]]] = {}
        self._tasks: set[asyncio.Task] = set()
        self._unsubscribe: Callable[[], None] | None = None

    async def start(self) -> None:
        self._unsubscribe = self.bus.subscribe(ShowTrade, self._on_show)

    async def stop(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _on_show(self, command: ShowTrade) -> None:
        if not command.data:
            return
        lo, hi = command.entry_ns - PAD_NS, command.exit_ns + PAD_NS
        key = (command.data, command.symbol.upper(), command.contract or command.symbol)
        if any(a <= lo and hi <= b for a, b in self._loaded.get(key, ())):
            return
        task = asyncio.get_running_loop().create_task(self._load(key, lo, hi))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _load(self, key: tuple[str, str, str], lo: int, hi: int) -> None:
        path, symbol, name = key
        try:
            batch = await asyncio.to_thread(read_range, Path(path), name, symbol, lo, hi)
        except DbnError as exc:
            self.bus.publish(ErrorRaised("chart", f"cannot show the trade's bars: {exc}"))
            return
        self._loaded.setdefault(key, []).append((lo, hi))
        self.hub.backfill(symbol, lo, hi, batch)
        log.info("chart history: %d trades of %s from %s", len(batch), symbol, Path(path).name)


def read_range(path: Path, name: str, symbol: str, lo: int, hi: int) -> TradeBatch:
    """The file's trades named `name` in [lo, hi), as `symbol`'s (one pass, stopping after `hi`)."""
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    synthetic = False
    for batch in DbnFile(path).batches():
        if len(batch) and int(batch.ts.min()) >= hi:
            break
        if name not in batch.symbols:
            continue
        codes = [code for code, each in enumerate(batch.symbols) if each == name]
        keep = np.isin(batch.code, codes) & (batch.ts >= lo) & (batch.ts < hi) & (batch.price == batch.price)
        if keep.any():
            parts.append((batch.ts[keep], batch.price[keep], batch.size[keep]))
            synthetic = batch.synthetic
    if not parts:
        return TradeBatch.single(symbol, np.empty(0, np.int64), np.empty(0), np.empty(0), synthetic)
    ts, price, size = (np.concatenate(column) for column in zip(*parts))
    return TradeBatch.single(symbol, ts, price, size, synthetic)
