"""Writing DBN trade files offline (the demo sample, benchmarks, test data) with databento's own layouts."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import numpy as np

NS = 1_000_000_000


def trade_records(instrument_id: int | np.ndarray, ts_event: np.ndarray, price: np.ndarray, size: np.ndarray,
                  side: np.ndarray | None = None) -> np.ndarray:
    """Trade records (DBN v3 `TradeMsg` layout) for arrays of trades; prices in units, not 1e-9."""
    import databento_dbn as dbn

    ts_event = np.asarray(ts_event, np.int64)
    rec = np.zeros(len(ts_event), dtype=dbn.TradeMsg._dtypes)
    rec["length"] = rec.dtype.itemsize // 4  # in 32-bit words
    rec["rtype"] = int(dbn.RType.MBP_0)
    rec["publisher_id"] = 1  # GLBX.MDP3
    rec["instrument_id"] = instrument_id
    rec["ts_event"] = ts_event
    rec["price"] = np.round(np.asarray(price, np.float64) * 4).astype(np.int64) * 250_000_000  # 0.25 grid
    rec["size"] = size
    rec["action"] = b"T"
    rec["side"] = b"N" if side is None else np.where(side, b"A", b"B")
    rec["flags"] = dbn.F_LAST
    rec["ts_in_delta"] = 14_000 + (ts_event % 9_000)
    rec["ts_recv"] = ts_event + 90_000 + (ts_event % 250_000)
    return rec


def sort_by_receive_time(records: np.ndarray, first_sequence: int = 1) -> np.ndarray:
    """Records in the order a feed sends them, numbered."""
    records = records[np.argsort(records["ts_recv"], kind="stable")]
    records["sequence"] = first_sequence + np.arange(len(records), dtype=np.uint32)
    return records


def metadata_bytes(symbols: dict[str, int], start_ns: int, end_ns: int, *, stype_in: str = "raw_symbol",
                   dataset: str = "GLBX.MDP3", schema: str = "trades") -> bytes:
    """A DBN v3 metadata header mapping each requested symbol to its instrument id for [start, end)."""
    import databento_dbn as dbn

    first = _utc_date(start_ns)
    last = _utc_date(max(start_ns, end_ns - 1)) + timedelta(days=1)
    mappings = [SimpleNamespace(raw_symbol=symbol, intervals=[SimpleNamespace(start_date=first, end_date=last,
                                                                              symbol=str(iid))])
                for symbol, iid in symbols.items()]
    return bytes(dbn.Metadata(dataset=dataset, start=start_ns, end=end_ns, stype_in=dbn.SType(stype_in),
                              stype_out=dbn.SType.INSTRUMENT_ID, schema=dbn.Schema(schema),
                              symbols=list(symbols), mappings=mappings))


def write_dbn(path: str | Path, header: bytes, records: np.ndarray, *, zstd_level: int | None = None) -> Path:
    """Write a DBN file; zstd-compressed when `zstd_level` is given."""
    data = header + records.tobytes()
    if zstd_level is not None:
        import zstandard

        data = zstandard.ZstdCompressor(level=zstd_level).compress(data)
    path = Path(path)
    path.write_bytes(data)
    return path


def random_walk_trades(n: int, symbols: dict[str, int], start: datetime, *, rate_per_s: float = 50.0,
                       seed: int = 1) -> np.ndarray:
    """`n` trades spread over the symbols, Poisson-timed from `start`, prices on a 0.25 random walk."""
    rng = np.random.default_rng(seed)
    start_ns = int(start.timestamp()) * NS
    ts = start_ns + np.cumsum(rng.exponential(NS / rate_per_s, n)).astype(np.int64)
    which = rng.integers(0, len(symbols), n)
    ids = np.array(list(symbols.values()), np.uint32)[which]
    base = 5000.0 + 10000.0 * which
    steps = rng.choice(np.array([-0.25, 0.0, 0.25]), n)
    price = base + np.cumsum(steps)  # one shared walk: good enough for load
    return sort_by_receive_time(trade_records(ids, ts, price, 1 + rng.integers(0, 5, n), which % 2 == 0))


def _utc_date(ts_ns: int) -> date:
    return datetime.fromtimestamp(ts_ns // NS, timezone.utc).date()
