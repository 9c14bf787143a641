"""Script uploads in SQLite: both CSVs of an upload in one transaction.

The connection directly, not sqlite-utils: uploads arrive on the event loop (REST, Socket.IO)
and both CSVs go in one writer job as prepared `executemany`; importing sqlite-utils (it
imports pandas, ~0.4 s) on first use would stall the loop.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from decimal import Decimal

from station.domain.enums import Side
from station.domain.marketdata import MarketDataRow
from station.domain.script_feed import ScriptTrade, ScriptUpload
from station.domain.timeutil import parse_utc, utc_now
from station.store.database import Store


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


class ScriptFeedRepository:
    """Records uploads and reads back recent trades, bars and PnL per strategy."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def record(self, source: str, trades: list[ScriptTrade], bars: list[MarketDataRow]) -> ScriptUpload:
        """Store one upload atomically; returns it with its id once committed."""
        received = utc_now()
        upload_id = await self.store.writer.run(lambda conn: _insert(conn, source, received, trades, bars))
        return ScriptUpload(upload_id, source, received, tuple(trades), tuple(bars))

    def recent_trades(self, limit: int = 1000) -> list[ScriptTrade]:
        rows = self.store.query("SELECT * FROM script_trades ORDER BY id DESC LIMIT ?", (limit,))
        return [_trade(r) for r in rows]

    def recent_bars(self, limit: int = 1000) -> list[MarketDataRow]:
        rows = self.store.query("SELECT * FROM script_bars ORDER BY id DESC LIMIT ?", (limit,))
        return [_bar(r) for r in rows]

    def recent_uploads(self, limit: int = 100) -> list[ScriptUpload]:
        """The newest `limit` uploads, newest first, each with its rows in the order sent."""
        uploads = self.store.query("SELECT * FROM script_uploads ORDER BY upload_id DESC LIMIT ?", (limit,))
        if not uploads:
            return []
        ids = tuple(u["upload_id"] for u in uploads)
        marks = ",".join("?" * len(ids))
        trades: dict[int, list[ScriptTrade]] = {}
        for r in self.store.query(f"SELECT * FROM script_trades WHERE upload_id IN ({marks}) ORDER BY id", ids):
            trades.setdefault(r["upload_id"], []).append(_trade(r))
        bars: dict[int, list[MarketDataRow]] = {}
        for r in self.store.query(f"SELECT * FROM script_bars WHERE upload_id IN ({marks}) ORDER BY id", ids):
            bars.setdefault(r["upload_id"], []).append(_bar(r))
        return [ScriptUpload(u["upload_id"], u["source"], parse_utc(u["received_at"]),
                             tuple(trades.get(u["upload_id"], ())), tuple(bars.get(u["upload_id"], ())))
                for u in uploads]


def _trade(r: sqlite3.Row) -> ScriptTrade:
    return ScriptTrade(parse_utc(r["timestamp"]), r["symbol"], Side(r["side"]), Decimal(r["quantity"]),
                       Decimal(r["price"]), None if r["profit_loss"] is None else Decimal(r["profit_loss"]), r["strategy"])


def _bar(r: sqlite3.Row) -> MarketDataRow:
    return MarketDataRow(parse_utc(r["timestamp"]), r["symbol"], r["open"], r["high"], r["low"], r["close"],
                         r["volume"] or 0.0, r["rsi"], r["signal_strength"])


def _insert(conn: sqlite3.Connection, source: str, received: datetime,
            trades: list[ScriptTrade], bars: list[MarketDataRow]) -> int:
    upload_id = conn.execute(
        "INSERT INTO script_uploads (source, received_at, trades, bars) VALUES (?, ?, ?, ?)",
        (source, received.isoformat(), len(trades), len(bars)),
    ).lastrowid
    conn.executemany(
        "INSERT INTO script_trades (upload_id, timestamp, symbol, side, quantity, price, profit_loss, strategy) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(upload_id, t.timestamp.isoformat(), t.symbol, t.side.value, str(t.quantity), str(t.price),
          _text(t.profit_loss), t.strategy) for t in trades],
    )
    conn.executemany(
        "INSERT INTO script_bars (upload_id, timestamp, symbol, open, high, low, close, volume, rsi, signal_strength) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(upload_id, b.time.isoformat(), b.symbol, b.open, b.high, b.low, b.close, b.volume, b.rsi,
          b.signal_strength) for b in bars],
    )
    return upload_id
