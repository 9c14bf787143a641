"""Write the demo sample: one full CME Globex session of ES and NQ front-month trades as zstd DBN.

    python scripts/make_sample.py [OUTPUT]   (default: resources/sample/glbx-es-nq-trades.dbn.zst)

The session is Thursday 2025-05-15 (Wednesday 18:00 ET to Thursday 17:00 ET) of
ESM5 and NQM5, stored with continuous symbology (`ES.c.0`, `NQ.c.0`) so Station
publishes them as `ES` and `NQ`. Trades arrive as a Poisson stream whose rate
follows the real intraday shape (quiet Asia, the European open, the 08:30 data
spike, the 09:30 cash open, the lunch lull, the 16:00 close), prices follow a
correlated random walk whose volatility tracks activity plus a small day story,
and trade at the bid or the ask on the 0.25 tick grid. Sizes are heavy-tailed
(mostly one lot, the odd block). Seeded: the same script writes the same bytes.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from station.marketdata.databento.write import metadata_bytes, sort_by_receive_time, trade_records  # noqa: E402

DEFAULT_OUTPUT = ROOT / "resources" / "sample" / "glbx-es-nq-trades.dbn.zst"
OPEN_UTC = datetime(2025, 5, 14, 22, 0, tzinfo=timezone.utc)  # Wednesday 18:00 EDT
SESSION_S = 23 * 3600
NS = 1_000_000_000
TICK = 0.25

# (symbol, instrument id, first price, volatility scale, trades in the session, size tail)
CONTRACTS = (("ES.c.0", 4916, 5893.25, 1.0, 140_000, 1.55), ("NQ.c.0", 2786, 21264.50, 1.3, 110_000, 2.1))

# Intraday activity in trades per second for ES (ET hour of day → rate), before scaling to the total.
SHAPE = ((18.0, 9), (18.2, 3), (20.0, 2.5), (21.0, 3.5), (23.0, 2), (2.0, 2.5), (3.0, 7), (4.0, 5), (7.0, 5),
         (8.0, 8), (8.5, 60), (8.7, 20), (9.5, 90), (9.75, 45), (10.0, 50), (10.5, 28), (11.5, 18), (12.0, 11),
         (13.5, 10), (14.0, 16), (15.0, 20), (15.83, 34), (15.95, 70), (16.0, 14), (16.25, 4), (16.99, 2))
# The day's story in ES points (ET hour → drift level): a quiet night, a dip after the open, an afternoon rally.
STORY = ((18.0, 0), (3.0, 4), (8.5, 6), (9.5, 10), (10.5, -14), (12.0, -8), (14.0, 2), (15.9, 16), (17.0, 13))


def _et_hours(seconds: np.ndarray) -> np.ndarray:
    """Seconds since the session open as ET hour of day (18.0 … 41.0, i.e. past midnight continues)."""
    return 18.0 + seconds / 3600.0


def _interp(points, hours: np.ndarray) -> np.ndarray:
    x = np.array([h if h >= 18 else h + 24 for h, _ in points])
    y = np.array([v for _, v in points], dtype=float)
    return np.interp(hours, x, y)


def simulate(rng: np.random.Generator):
    """Per contract: (instrument id, ts_event ns, price, size) in time order."""
    seconds = np.arange(SESSION_S)
    hours = _et_hours(seconds)
    activity = _interp(SHAPE, hours)
    sigma = 0.16 * np.sqrt(activity / activity.mean())  # ES points per √second
    shocks = rng.standard_normal((2, SESSION_S))
    common = shocks[0]
    own = 0.9 * common + np.sqrt(1 - 0.9**2) * shocks[1]  # NQ moves with ES (ρ = 0.9)
    story = _interp(STORY, hours)
    out = []
    for (symbol, iid, first, scale, total, tail), z in zip(CONTRACTS, (common, own)):
        pct = sigma / 5893.25 * scale
        path = first * np.exp(np.cumsum(pct * z) + story / 5893.25 * scale)
        counts = rng.poisson(activity * total / activity.sum())
        n = int(counts.sum())
        second = np.repeat(seconds, counts)
        ts = np.sort(int(OPEN_UTC.timestamp()) * NS + second.astype(np.int64) * NS + rng.integers(0, NS, n))
        mid = path[second] + rng.normal(0, 0.05, n)
        bid = np.floor(mid / TICK) * TICK
        lifted = rng.random(n) < 0.5 + 0.3 * np.tanh(np.diff(path, prepend=path[0])[second] * 4)
        price = bid + TICK * lifted
        size = np.minimum(1 + np.floor(rng.pareto(tail, n)), 400 if symbol.startswith("ES") else 150)
        out.append((symbol, iid, ts, price, size.astype(np.uint32), lifted))
    return out


def dbn_bytes(contracts) -> bytes:
    """The DBN v3 stream (metadata and trade records, sorted by receive time)."""
    records = np.concatenate([trade_records(iid, ts, price, size, lifted)
                              for _, iid, ts, price, size, lifted in contracts])
    start = int(OPEN_UTC.timestamp()) * NS
    header = metadata_bytes({symbol: iid for symbol, iid, *_ in contracts}, start, start + SESSION_S * NS,
                            stype_in="continuous")
    return header + sort_by_receive_time(records, 1_200_000).tobytes()


def main(argv: list[str]) -> int:
    import zstandard

    output = Path(argv[0]) if argv else DEFAULT_OUTPUT
    contracts = simulate(np.random.default_rng(20250515))
    data = zstandard.ZstdCompressor(level=19).compress(dbn_bytes(contracts))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(data)
    counts = ", ".join(f"{c[0]} {len(c[2]):,} trades" for c in contracts)
    print(f"wrote {output} ({len(data) / 1e6:.1f} MB): {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
