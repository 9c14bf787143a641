"""Bars for engine tests: random-walk trades written as a real DBN file, read back with the real
databento decoder, and resampled with pandas (time bars and tick bars). Not a production bar builder."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace as NS

import numpy as np
import pandas as pd

from station.domain.marketdata import Bar


def write_trades_dbn(path: Path, symbols: dict[str, float], n: int, start: dt.datetime, seconds: float,
                     seed: int = 1, tick: float = 0.25) -> Path:
    """`n` trades per symbol (random walk from the given price) spread over `seconds`, as a DBN file."""
    import databento_dbn as dbn

    rng = np.random.default_rng(seed)
    t0 = int(start.timestamp() * 1e9)
    span = int(seconds * 1e9)
    day0, day1 = start.date(), start.date() + dt.timedelta(days=1)
    ids = {symbol: 1001 + i for i, symbol in enumerate(symbols)}
    records = []
    for symbol, base in symbols.items():
        times = t0 + np.sort(rng.integers(0, span, n))
        steps = rng.choice([-1, 0, 1], size=n, p=[0.3, 0.4, 0.3]) * tick
        prices = base + np.cumsum(steps)
        sizes = rng.integers(1, 10, n)
        for ts, price, size in zip(times, prices, sizes):
            records.append((int(ts), ids[symbol], int(round(price * dbn.FIXED_PRICE_SCALE)), int(size)))
    records.sort()
    mappings = [NS(raw_symbol=s, intervals=[NS(start_date=day0, end_date=day1, symbol=str(i))]) for s, i in ids.items()]
    metadata = dbn.Metadata(dataset="GLBX.MDP3", start=t0, end=t0 + span, stype_in=dbn.SType.RAW_SYMBOL,
                            stype_out=dbn.SType.INSTRUMENT_ID, schema=dbn.Schema.TRADES, symbols=list(ids),
                            mappings=mappings)
    with open(path, "wb") as out:
        out.write(bytes(metadata))
        out.write(b"".join(
            bytes(dbn.TradeMsg(1, iid, ts, price, size, dbn.Action.TRADE, dbn.Side.BID, 0, ts + 500,
                               flags=dbn.F_LAST, sequence=i))
            for i, (ts, iid, price, size) in enumerate(records)
        ))
    return path


def read_trades(path: Path) -> pd.DataFrame:
    """Trades (index ts_event UTC; price, size, symbol) through databento's own decoder."""
    import warnings

    import databento as db

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = db.DBNStore.from_file(path).to_df()
    return frame.reset_index().set_index("ts_event")[["price", "size", "symbol"]]


def time_bars(trades: pd.DataFrame, rule: str = "1min") -> pd.DataFrame:
    ohlc = trades["price"].resample(rule, label="left", closed="left").ohlc()
    ohlc["volume"] = trades["size"].resample(rule, label="left", closed="left").sum()
    return ohlc.dropna()


def tick_bars(trades: pd.DataFrame, count: int) -> pd.DataFrame:
    """Bars of `count` trades each (the last, incomplete one dropped); indexed by their first trade's time."""
    group = np.arange(len(trades)) // count
    grouped = trades.groupby(group)
    frame = pd.DataFrame({
        "start": grouped.apply(lambda g: g.index[0]), "open": grouped["price"].first(), "high": grouped["price"].max(),
        "low": grouped["price"].min(), "close": grouped["price"].last(), "volume": grouped["size"].sum(),
        "n": grouped["price"].size(),
    })
    frame = frame[frame["n"] == count]
    return frame.set_index("start").drop(columns="n")


def to_bars(frame: pd.DataFrame, symbol: str, timeframe: str) -> list[Bar]:
    """Domain bars (closed) from an OHLC frame."""
    return [
        Bar(symbol, timeframe, ts.floor("us").to_pydatetime(), float(o), float(h), float(l), float(c), float(v), True)
        for ts, o, h, l, c, v in zip(frame.index, frame["open"], frame["high"], frame["low"], frame["close"], frame["volume"])
    ]
