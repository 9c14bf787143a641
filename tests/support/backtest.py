"""Backtest test data: DBN trade files written with databento's own layouts (marketdata/databento/write.py),
and data dirs holding an engine strategy, as a user would have them."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from station.marketdata.databento.write import metadata_bytes, trade_records, write_dbn

NS = 1_000_000_000
START = datetime(2025, 5, 15, 13, 30, tzinfo=timezone.utc)  # 09:30 US/Eastern


def write_trades(path: Path, symbol: str, ts_ns: np.ndarray, prices, *, zstd: bool = False,
                 iid: int = 4916) -> Path:
    """One symbol's trades (prices on the 0.25 grid) as a DBN v3 file."""
    ts_ns = np.asarray(ts_ns, np.int64)
    records = trade_records(iid, ts_ns, np.asarray(prices, float), np.ones(len(ts_ns), np.uint32))
    records["sequence"] = np.arange(1, len(records) + 1, dtype=np.uint32)
    header = metadata_bytes({symbol: iid}, int(ts_ns[0]) - NS, int(ts_ns[-1]) + 120 * NS)
    return write_dbn(path, header, records, zstd_level=3 if zstd else None)


def minute_closes(path: Path, symbol: str, closes, *, start: datetime = START, **kw) -> Path:
    """One trade a minute, 30 s into it, at each of `closes` (so each 1m bar closes at that price)."""
    t0 = int(start.timestamp()) * NS
    ts = t0 + np.arange(len(closes), dtype=np.int64) * 60 * NS + 30 * NS
    return write_trades(path, symbol, ts, closes, **kw)


def random_walk(path: Path, symbol: str, n: int, *, seconds_apart: float = 1.0, seed: int = 3,
                start: datetime = START, base: float = 5000.0, zstd: bool = False, offset_s: float = 0.5) -> Path:
    """`n` trades `seconds_apart` apart (the first `offset_s` after `start`), prices on a 0.25 random walk."""
    rng = np.random.default_rng(seed)
    t0 = int(start.timestamp()) * NS
    ts = t0 + int(offset_s * NS) + (np.arange(n) * seconds_apart * NS).astype(np.int64)
    prices = base + np.cumsum(rng.choice([-0.5, -0.25, 0.0, 0.25, 0.5], n))
    return write_trades(path, symbol, ts, prices, zstd=zstd)


def strategy_config(name: str, ticker: str, engine: dict, **ticker_options) -> dict:
    """A config document with one engine strategy trading `ticker` at a paper destination."""
    return {"destinations": {"paper": {"type": "paper"}},
            "strategies": {name: {"engine": engine, "tickers": {
                ticker: {**ticker_options, "destinations": {"paper": {"qty": 1}}}}}}}


def data_dir_with(tmp: Path, document: dict) -> Path:
    """A data dir with `document` imported (through the CLI's own code path)."""
    from station.store import Store
    from station.store.config_repo import ConfigRepository

    path = tmp / "data"
    store = Store(path)
    try:
        ConfigRepository(store).import_document(json.loads(json.dumps(document)))
    finally:
        store.close()
    return path
