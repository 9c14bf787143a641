"""DBN replay: a file's trades into the bar hub at ×1, ×10, ×100 … or as fast as possible.

Paced replay maps file time to the loop clock (data time = anchor + elapsed × speed)
and hands the hub everything due every `step_s` (20 ms), so the bus sees the same
coalesced events as live. Gaps longer than `max_gap_s` of wall time (closed hours,
weekends) are skipped. `start_at` fast-forwards: everything before it (a UTC ns
time, or the first time the exchange clock (ET) reads a given `datetime.time` after
the file starts) is ingested as fast as possible first, so the demo opens with the
night already charted.
The feed light says `replaying`, then `disconnected` with "replay finished".
"""

from __future__ import annotations

import asyncio
import logging
from datetime import time
from pathlib import Path
from typing import Callable

import numpy as np

from station.bus import Bus
from station.domain.commands import SetReplaySpeed, StartReplay
from station.domain.enums import ConnectionState
from station.domain.events import ConnectionChanged, ErrorRaised
from station.marketdata.clock import MarketClock
from station.marketdata.databento.files import DbnError, DbnFile
from station.marketdata.hub import BarHub
from station.marketdata.bars.sessions import next_local_time
from station.marketdata.trades import TradeBatch, ns_to_datetime

log = logging.getLogger("station.marketdata")

NS = 1_000_000_000


def speed_label(speed: float) -> str:
    """`×10`, or `max speed` for 0."""
    return "max speed" if speed <= 0 else f"×{speed:g}"


class DbnReplay:
    """Replays DBN files into the hub; idle until given one (at start or by `StartReplay`)."""

    name = "replay"

    def __init__(self, bus: Bus, hub: BarHub, path: str | Path | None = None, *, speed: float = 0.0,
                 start_at: int | time | None = None, step_s: float = 0.02, max_gap_s: float = 3.0,
                 chunk: int = 65_536, clock: MarketClock | None = None) -> None:
        self.bus = bus
        self.hub = hub
        self.clock = clock or MarketClock()  # where the replay's time stood at each wall-clock moment
        self.path = Path(path) if path else None
        self.speed = speed
        self.start_at = start_at
        self._start_ns: int | None = None
        self.step_s = step_s
        self.max_gap_s = max_gap_s
        self.chunk = chunk
        self.position_ns: int | None = None  # file time reached
        self.replayed = 0
        self.finished = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._anchor: tuple[float, int] | None = None  # (loop time, data time) of the pacing anchor
        self._lit_at = 0.0
        self._unsubscribe: list[Callable[[], None]] = []

    async def start(self) -> None:
        self._unsubscribe = [self.bus.subscribe(StartReplay, self._on_start),
                             self.bus.subscribe(SetReplaySpeed, lambda c: self.set_speed(c.speed))]
        if self.path is not None:
            self.play(self.path, self.speed, self.start_at)

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        await self._cancel()

    def play(self, path: str | Path, speed: float, start_at: int | time | None = None) -> None:
        """Replay `path` from its beginning (replacing a replay in progress)."""
        previous = self._task
        self.path, self.speed, self.start_at = Path(path), max(0.0, float(speed)), start_at
        self.finished = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run(previous))

    def set_speed(self, speed: float) -> None:
        """Change the pace from now on (0: as fast as possible)."""
        self.speed = max(0.0, float(speed))
        self._anchor = None
        if self.path is not None and self._task is not None and not self._task.done():
            self._light(ConnectionState.REPLAYING)

    async def _cancel(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    def _on_start(self, command: StartReplay) -> None:
        self.play(command.path, command.speed)

    def _light(self, state: ConnectionState, detail: str = "") -> None:
        if not detail and self.path is not None:
            detail = f"{self.path.name} {speed_label(self.speed)}"
            if self.position_ns is not None:
                detail += f" — {ns_to_datetime(self.position_ns):%Y-%m-%d %H:%M:%S} UTC"
        self.bus.publish(ConnectionChanged(self.name, "feed", state, detail))

    async def _run(self, previous: asyncio.Task | None) -> None:
        if previous is not None and not previous.done():
            previous.cancel()
            await asyncio.gather(previous, return_exceptions=True)
        self.position_ns, self.replayed, self._anchor = None, 0, None
        try:
            replay = await asyncio.to_thread(DbnFile, self.path)
            self._start_ns = (next_local_time(replay.start_ns, self.start_at) if isinstance(self.start_at, time)
                              else self.start_at)
            self._light(ConnectionState.REPLAYING)
            for batch in replay.batches(self.chunk):
                await self._feed(batch)
            end = int(replay.metadata.end or 0)
            if end and end < 2**63:
                self.hub.advance(end)
        except DbnError as exc:
            log.warning("replay failed: %s", exc)
            self.bus.publish(ErrorRaised(source="replay", message=str(exc)))
            self._light(ConnectionState.ERROR, str(exc))
            return
        finally:
            self.finished.set()
        log.info("replay of %s finished: %d trades", self.path, self.replayed)
        self._light(ConnectionState.DISCONNECTED, f"replay finished: {self.path.name}, {self.replayed:,} trades")

    async def _feed(self, batch: TradeBatch) -> None:
        """Hand one decoded chunk to the hub, paced by the current speed."""
        key = np.maximum.accumulate(batch.ts)
        i, n = 0, len(key)
        if self._start_ns is not None and key[0] < self._start_ns:
            i = int(np.searchsorted(key, self._start_ns, "left"))
            self._ingest(batch, 0, i, int(key[i - 1]))
        while i < n:
            if self.speed <= 0:
                self._ingest(batch, i, n, int(key[-1]))
                await asyncio.sleep(0)
                return
            loop_now = asyncio.get_running_loop().time()
            if self._anchor is None:
                self._anchor = (loop_now, int(key[i]))
            data_now = self._anchor[1] + int((loop_now - self._anchor[0]) * self.speed * NS)
            j = int(np.searchsorted(key, data_now, "right"))
            if j > i:
                self._ingest(batch, i, j, data_now)
                i = j
            else:
                self.hub.advance(data_now)
                self.position_ns = data_now
                self.clock.note(data_now)
            if i < n:
                wait = (int(key[i]) - data_now) / NS / self.speed
                if wait > self.max_gap_s:  # closed hours: jump to just before the next trade
                    self._anchor = (loop_now, int(key[i]) - int(self.step_s * self.speed * NS))
                    wait = self.step_s
                await asyncio.sleep(max(self.step_s, min(wait, 0.25)))

    def _ingest(self, batch: TradeBatch, i: int, j: int, now_ns: int) -> None:
        if j <= i:
            return
        part = batch if (i, j) == (0, len(batch)) else TradeBatch(
            batch.symbols, batch.code[i:j], batch.ts[i:j], batch.price[i:j], batch.size[i:j], batch.synthetic)
        self.hub.ingest(part, now_ns=now_ns)
        self.replayed += j - i
        self.position_ns = now_ns
        self.clock.note(now_ns)
        now = asyncio.get_running_loop().time()
        if now - self._lit_at >= 1.0:  # the light's tooltip follows the replay clock
            self._lit_at = now
            self._light(ConnectionState.REPLAYING)
