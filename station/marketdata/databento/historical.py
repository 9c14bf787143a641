"""Databento historical data for warm-up and backfill: estimate, load with progress and cancel, never buy twice.

A request (dataset, schema, symbols, [start, end)) is first checked against the
cache index: only the ranges not yet on disk are priced (`metadata.get_cost`,
`metadata.get_billable_size`) and bought (`timeseries.get_range`, written straight
to a file under the cache folder). Each missing range is fetched in pieces of about
`piece_bytes`, so progress moves and a cancel takes effect at once; a piece already
in flight when cancelled still lands in the cache, since it is paid for. The
loaded range then replaces what the bar hub holds there (`BarHub.backfill`).
The blocking databento HTTP client runs in worker threads.
"""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from station.bus import Bus
from station.domain.commands import CancelHistory, EstimateHistory, LoadHistory
from station.domain.credentials import set_hint
from station.domain.events import HistoryEstimated, HistoryFinished, HistoryProgressed
from station.domain.marketdata import CachedHistory, HistoryRequest
from station.marketdata.databento.files import DbnError, DbnFile
from station.marketdata.hub import BarHub
from station.marketdata.databento.live import KEY_NAME
from station.marketdata.trades import TradeBatch, to_ns

log = logging.getLogger("station.marketdata")

PIECE_BYTES = 32_000_000
MAX_PIECES = 64


class HistoryError(RuntimeError):
    """A history request that cannot be served; the message is for the trader."""


class CacheIndex(Protocol):
    """Where cached pieces are recorded (the store's `HistoryCacheRepository`)."""

    def pieces(self, dataset: str, schema: str, stype_in: str, symbol: str, start_ns: int,
               end_ns: int) -> list[CachedHistory]: ...

    async def add(self, piece: CachedHistory) -> None: ...


@dataclass
class Gap:
    """A range of one symbol not in the cache, with what it would cost."""

    symbol: str
    start_ns: int
    end_ns: int
    cost_usd: float = 0.0
    size_bytes: int = 0


def missing_ranges(covered: list[tuple[int, int]], start: int, end: int) -> list[tuple[int, int]]:
    """The parts of [start, end) not covered by any of `covered`."""
    gaps, cursor = [], start
    for lo, hi in sorted(covered):
        if lo > cursor:
            gaps.append((cursor, min(lo, end)))
        cursor = max(cursor, hi)
        if cursor >= end:
            break
    if cursor < end:
        gaps.append((cursor, end))
    return [(lo, hi) for lo, hi in gaps if hi > lo]


class HistoricalData:
    """The history component: answers `EstimateHistory`, `LoadHistory`, `CancelHistory`."""

    name = "history"

    def __init__(self, bus: Bus, hub: BarHub, secrets, index: CacheIndex, cache_dir: Path, *,
                 gateway: str | None = None, piece_bytes: int = PIECE_BYTES) -> None:
        self.bus = bus
        self.hub = hub
        self.secrets = secrets
        self.index = index
        self.cache_dir = Path(cache_dir)
        self.gateway = gateway
        self.piece_bytes = piece_bytes
        self.loads: dict[str, asyncio.Task] = {}
        self._unsubscribe: list[Callable[[], None]] = []

    async def start(self) -> None:
        subscribe = self.bus.subscribe
        self._unsubscribe = [
            subscribe(EstimateHistory, lambda c: self._spawn(c.request.request_id, self._estimate_command(c.request))),
            subscribe(LoadHistory, lambda c: self._spawn(c.request.request_id, self.load(c.request, c.max_cost_usd))),
            subscribe(CancelHistory, lambda c: self.cancel(c.request_id))]

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        for request_id in list(self.loads):
            self.cancel(request_id)

    # ---- estimate -------------------------------------------------------------------------------

    async def estimate(self, request: HistoryRequest) -> list[Gap]:
        """The uncached ranges of `request`, each priced by Databento."""
        gaps = self.gaps(request)
        if gaps:
            client = await self._client()
            for gap in gaps:
                gap.cost_usd, gap.size_bytes = await asyncio.to_thread(self._price, client, request, gap)
        return gaps

    def gaps(self, request: HistoryRequest) -> list[Gap]:
        """What of `request` is not in the cache (pieces whose file went missing do not count)."""
        _check(request)
        start, end = to_ns(request.start), to_ns(request.end)
        found = []
        for symbol in request.symbols:
            pieces = self.index.pieces(request.dataset, request.schema, request.stype_in, symbol, start, end)
            covered = [(p.start_ns, p.end_ns) for p in pieces if (self.cache_dir / p.path).exists()]
            found += [Gap(symbol, lo, hi) for lo, hi in missing_ranges(covered, start, end)]
        return found

    async def _estimate_command(self, request: HistoryRequest) -> None:
        try:
            gaps = await self.estimate(request)
        except HistoryError as exc:
            self.bus.publish(HistoryFinished(request.request_id, False, str(exc)))
            return
        self.bus.publish(HistoryEstimated(request.request_id, round(sum(g.cost_usd for g in gaps), 4),
                                          sum(g.size_bytes for g in gaps), not gaps))

    # ---- load -----------------------------------------------------------------------------------

    async def load(self, request: HistoryRequest, max_cost_usd: float | None = None) -> int:
        """Buy what is missing (refusing above `max_cost_usd`), then backfill the hub; returns the trades loaded."""
        rid = request.request_id
        try:
            gaps = await self.estimate(request)
            cost = sum(g.cost_usd for g in gaps)
            if max_cost_usd is not None and cost > max_cost_usd + 1e-9:
                raise HistoryError(f"this would cost ${cost:,.2f}, more than the ${max_cost_usd:,.2f} allowed; "
                                   "nothing was bought")
            pieces = [p for gap in gaps for p in self._split(gap)]
            received = 0
            for done, piece in enumerate(pieces):
                self.bus.publish(HistoryProgressed(rid, done, len(pieces), received))
                received += await self._fetch(request, piece, lambda n, d=done: self.bus.publish(
                    HistoryProgressed(rid, d, len(pieces), received + n)))
            self.bus.publish(HistoryProgressed(rid, len(pieces), len(pieces), received))
            trades = await self._backfill(request)
        except asyncio.CancelledError:
            self.bus.publish(HistoryFinished(rid, False, "cancelled; what arrived stays in the cache"))
            raise
        except HistoryError as exc:
            self.bus.publish(HistoryFinished(rid, False, str(exc)))
            return 0
        bought = f"bought ${cost:,.2f}" if gaps else "all from the cache"
        self.bus.publish(HistoryFinished(rid, True, f"loaded {trades:,} records of {', '.join(request.symbols)} "
                                                    f"({bought})", trades))
        return trades

    def cancel(self, request_id: str) -> None:
        """Stop a load now (a piece in flight finishes in the background and is cached)."""
        task = self.loads.get(request_id)
        if task is not None and not task.done():
            task.cancel()

    def _spawn(self, request_id: str, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.loads[request_id] = task
        task.add_done_callback(lambda t: self.loads.pop(request_id, None) if self.loads.get(request_id) is t else None)

    def _split(self, gap: Gap) -> list[Gap]:
        count = max(1, min(MAX_PIECES, math.ceil(gap.size_bytes / self.piece_bytes)))
        edges = np.linspace(gap.start_ns, gap.end_ns, count + 1).astype(np.int64).tolist()
        edges[0], edges[-1] = gap.start_ns, gap.end_ns
        share = 1 / count
        return [Gap(gap.symbol, lo, hi, gap.cost_usd * share, int(gap.size_bytes * share))
                for lo, hi in zip(edges, edges[1:])]

    async def _fetch(self, request: HistoryRequest, piece: Gap, progress: Callable[[int], None]) -> int:
        """Download one piece into the cache; returns its size. Cancelling stops waiting, not the download."""
        client = await self._client()
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        name = f"{request.dataset}-{request.schema}-{uuid.uuid4().hex}.dbn.zst".replace("/", "_")
        partial = self.cache_dir / f"{name}.part"
        loop = asyncio.get_running_loop()
        download = loop.run_in_executor(None, self._download, client, request, piece, partial)
        try:
            while True:
                done, _ = await asyncio.wait({asyncio.shield(download)}, timeout=0.25)
                if done:
                    break
                progress(partial.stat().st_size if partial.exists() else 0)
        except asyncio.CancelledError:  # paid for: let it land in the cache in the background
            download.add_done_callback(lambda f: loop.create_task(self._keep(f, request, piece, partial, name)))
            raise
        size = download.result()
        await self._keep(download, request, piece, partial, name)
        return size

    @staticmethod
    def _download(client, request: HistoryRequest, piece: Gap, partial: Path) -> int:
        try:
            client.timeseries.get_range(dataset=request.dataset, schema=request.schema, symbols=[piece.symbol],
                                        stype_in=request.stype_in, start=piece.start_ns, end=piece.end_ns,
                                        path=partial)
        except Exception as exc:
            partial.unlink(missing_ok=True)
            raise HistoryError(f"Databento: {_message(exc)}") from None
        return partial.stat().st_size

    async def _keep(self, download: asyncio.Future, request: HistoryRequest, piece: Gap, partial: Path,
                    name: str) -> None:
        """Move a finished download into the cache and index it (also after a cancel)."""
        if download.cancelled() or download.exception() is not None:
            return
        final = self.cache_dir / name
        partial.replace(final)
        try:
            await self.index.add(CachedHistory(request.dataset, request.schema, request.stype_in, piece.symbol,
                                               piece.start_ns, piece.end_ns, name, final.stat().st_size,
                                               round(piece.cost_usd, 6)))
        except Exception:  # the store closed under us (shutdown): a file nobody knows about is no use
            log.warning("could not index %s; removing it", final)
            final.unlink(missing_ok=True)

    async def _backfill(self, request: HistoryRequest) -> int:
        """Read the cached pieces of the whole request and hand them to the hub, symbol by symbol."""
        start, end = to_ns(request.start), to_ns(request.end)
        total = 0
        for symbol in request.symbols:
            pieces = self.index.pieces(request.dataset, request.schema, request.stype_in, symbol, start, end)
            batch = await asyncio.to_thread(self._read, [self.cache_dir / p.path for p in pieces], start, end)
            if batch is None:
                continue
            for name in dict.fromkeys(batch.symbols):
                self.hub.backfill(name, start, end, batch)
            total += len(batch)
        return total

    @staticmethod
    def _read(paths: list[Path], start: int, end: int) -> TradeBatch | None:
        parts: list[TradeBatch] = []
        for path in paths:
            try:
                parts += list(DbnFile(path).batches())
            except DbnError as exc:
                raise HistoryError(f"a cached file is unreadable ({exc}); delete it to fetch the range again") from None
        if not parts:
            return None
        names: dict[str, int] = {}
        codes = [np.array([names.setdefault(s, len(names)) for s in p.symbols], np.intp)[p.code] for p in parts]
        ts = np.concatenate([p.ts for p in parts])
        keep = (ts >= start) & (ts < end)
        order = np.argsort(ts[keep], kind="stable")
        column = lambda name: np.concatenate([getattr(p, name) for p in parts])[keep][order]  # noqa: E731
        return TradeBatch(tuple(names), np.concatenate(codes)[keep][order], ts[keep][order], column("price"),
                          column("size"), parts[0].synthetic)

    # ---- the client -----------------------------------------------------------------------------

    async def _client(self):
        key = await asyncio.to_thread(self.secrets.get, KEY_NAME)
        if key is None:
            raise HistoryError(f"no Databento key: {set_hint(KEY_NAME)}")
        import databento

        kwargs = {"gateway": self.gateway} if self.gateway else {}
        return databento.Historical(key=key.reveal(), **kwargs)

    @staticmethod
    def _price(client, request: HistoryRequest, gap: Gap) -> tuple[float, int]:
        args = dict(dataset=request.dataset, schema=request.schema, symbols=[gap.symbol], stype_in=request.stype_in,
                    start=gap.start_ns, end=gap.end_ns)
        try:
            return float(client.metadata.get_cost(**args)), int(client.metadata.get_billable_size(**args))
        except Exception as exc:
            raise HistoryError(f"Databento: {_message(exc)}") from None


def _check(request: HistoryRequest) -> None:
    if not request.symbols:
        raise HistoryError("no symbols to load")
    if request.end <= request.start:
        raise HistoryError("the end of the range must be after its start")


def _message(exc: Exception) -> str:
    return getattr(exc, "message", None) or str(exc) or type(exc).__name__
