"""The IB contract table the trader edits: one `ContractMapping` per TradingView symbol.

Every change bumps the config revision, so a running Station (its IB brokers)
picks up an edit made in the window, or by another process, without a restart.

The connection directly, not sqlite-utils: the IB broker reads the table on the event loop
when it first resolves a symbol and after each change, where importing sqlite-utils (it
imports pandas, ~0.4 s) would stall it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict
from decimal import Decimal

from station.domain.contract_map import ContractMapping
from station.domain.timeutil import utc_now
from station.store.config_repo import bump_revision
from station.store.database import Store

COLUMNS = ("tv_symbol", "sec_type", "symbol", "exchange", "primary_exchange", "currency", "expiry", "strike",
           "right", "strike_offset", "trading_class", "multiplier", "roll_days", "note")


def _from_row(row: sqlite3.Row) -> ContractMapping:
    values = {name: row[name] for name in COLUMNS}
    values["strike"] = Decimal(values["strike"]) if values["strike"] not in (None, "") else None
    return ContractMapping(**values)


def _to_params(mapping: ContractMapping) -> list:
    values = asdict(mapping)
    values["strike"] = None if mapping.strike is None else str(mapping.strike)
    return [values[name] for name in COLUMNS] + [utc_now().isoformat()]


class IbContractRepository:
    """Reads and writes the `ib_contracts` table."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def all(self) -> list[ContractMapping]:
        """Every row, by symbol."""
        rows = self.store.query(f"SELECT {', '.join(_quoted(COLUMNS))} FROM ib_contracts ORDER BY tv_symbol")
        return [_from_row(row) for row in rows]

    def get(self, tv_symbol: str) -> ContractMapping | None:
        rows = self.store.query(f"SELECT {', '.join(_quoted(COLUMNS))} FROM ib_contracts WHERE tv_symbol = ?",
                                (tv_symbol,))
        return _from_row(rows[0]) if rows else None

    async def save(self, mapping: ContractMapping, *, replacing: str | None = None) -> int:
        """Insert or replace `mapping` (renaming the row `replacing` if given); returns the new revision."""

        def job(conn: sqlite3.Connection) -> int:
            if replacing and replacing != mapping.tv_symbol:
                conn.execute("DELETE FROM ib_contracts WHERE tv_symbol = ?", (replacing,))
            placeholders = ", ".join("?" * (len(COLUMNS) + 1))
            conn.execute(f"INSERT OR REPLACE INTO ib_contracts ({', '.join(_quoted(COLUMNS))}, updated_at) "
                         f"VALUES ({placeholders})", _to_params(mapping))
            return bump_revision(conn)

        return await self.store.writer.run(job)

    async def delete(self, tv_symbol: str) -> bool:
        """Remove a row; False if there was none."""

        def job(conn: sqlite3.Connection) -> bool:
            gone = conn.execute("DELETE FROM ib_contracts WHERE tv_symbol = ?", (tv_symbol,)).rowcount > 0
            if gone:
                bump_revision(conn)
            return gone

        return await self.store.writer.run(job)


def _quoted(names: tuple[str, ...]) -> list[str]:
    return [f'"{name}"' for name in names]
