"""Which ranges of historical market data are already bought and cached (table `history_cache`).

The connection directly, not sqlite-utils: an overlap query on ranges, which `rows_where`
would only wrap, read on the event loop by the history loader, where importing
sqlite-utils (it imports pandas, ~0.4 s) would stall it.
"""

from __future__ import annotations

from station.domain.marketdata import CachedHistory
from station.domain.timeutil import utc_now
from station.store.database import Store

_COLUMNS = "dataset, schema, stype_in, symbol, start_ns, end_ns, path, size_bytes, cost_usd"


class HistoryCacheRepository:
    """Reads and records cached pieces of history."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def pieces(self, dataset: str, schema: str, stype_in: str, symbol: str, start_ns: int,
               end_ns: int) -> list[CachedHistory]:
        """Cached pieces of this data overlapping [start_ns, end_ns), oldest first."""
        rows = self.store.query(
            f"SELECT {_COLUMNS} FROM history_cache WHERE dataset = ? AND schema = ? AND stype_in = ? "
            "AND symbol = ? AND end_ns > ? AND start_ns < ? ORDER BY start_ns, id",
            (dataset, schema, stype_in, symbol, start_ns, end_ns))
        return [CachedHistory(*row) for row in rows]

    async def add(self, piece: CachedHistory) -> None:
        """Record a piece once its file is in place (committed before this returns)."""
        await self.store.writer.run(lambda conn: conn.execute(
            f"INSERT INTO history_cache ({_COLUMNS}, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (piece.dataset, piece.schema, piece.stype_in, piece.symbol, piece.start_ns, piece.end_ns, piece.path,
             piece.size_bytes, piece.cost_usd, utc_now().isoformat())))

    async def remove(self, path: str) -> None:
        """Forget a piece whose file is gone."""
        await self.store.writer.run(lambda conn: conn.execute("DELETE FROM history_cache WHERE path = ?", (path,)))
