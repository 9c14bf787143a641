"""Reading DBN files (plain or zstd, DBN v1–v3) through the official `databento` decoder.

Trades, TBBO and MBP-1 trade prints become `TradeBatch`es decoded chunk by chunk
as numpy arrays (no Python object per record); OHLCV records become synthetic
batches (see `TradeBatch.from_ohlc`); definitions and statistics are read as small
typed values. Instrument ids are named by the file's own symbology mappings:
`ES.c.0` (front continuous) is published as `ES`, raw symbols as themselves.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterator

import numpy as np

from station.marketdata.databento.symbology import display_symbol
from station.marketdata.trades import TradeBatch, ns_to_datetime

log = logging.getLogger("station.marketdata")

UNDEF_PRICE = 2**63 - 1
UNDEF_TIME = 2**64 - 1
PRICE_SCALE = 1e9  # fixed-point prices are integers of 1e-9; divide (exact for decimal ticks), never multiply
TRADE_SCHEMAS = frozenset({"trades", "tbbo", "mbp-1"})
CHUNK = 65_536


class DbnError(ValueError):
    """A file that cannot be read as DBN market data; the message names the file and why."""


@dataclass(frozen=True)
class InstrumentDefinition:
    """What a DBN definition record says about an instrument."""

    symbol: str
    instrument_id: int
    instrument_class: str
    exchange: str
    currency: str
    tick_size: float | None
    multiplier: float | None
    expiration: datetime | None


@dataclass(frozen=True)
class Statistic:
    """One DBN statistics record (settlement, open interest, session high, …)."""

    symbol: str
    instrument_id: int
    time: datetime
    stat_type: str
    price: float | None
    quantity: int | None


def _price(value: int) -> float | None:
    return None if value == UNDEF_PRICE else value / PRICE_SCALE


class InstrumentNames:
    """Instrument id → published symbol, from a file's mappings (ids not mapped are named by number)."""

    def __init__(self, mapping: dict[int, str]) -> None:
        self.names: list[str] = []
        self._code_of_name: dict[str, int] = {}
        self._ids = np.empty(0, np.uint64)
        self._codes = np.empty(0, np.intp)
        self._mapping = dict(mapping)
        self._index(self._mapping)

    @classmethod
    def from_metadata(cls, metadata) -> "InstrumentNames":
        stype_in = str(metadata.stype_in) if metadata.stype_in is not None else "instrument_id"
        mapping: dict[int, str] = {}
        for requested, intervals in (metadata.mappings or {}).items():
            for interval in intervals:
                try:
                    iid = int(interval["symbol"])
                except (KeyError, TypeError, ValueError):
                    continue
                mapping.setdefault(iid, display_symbol(stype_in, requested, iid))
        return cls(mapping)

    def name(self, iid: int) -> str:
        return self._mapping.get(int(iid), str(int(iid)))

    def codes(self, ids: np.ndarray) -> np.ndarray:
        """The code (index into `names`) of every id; unknown ids get their number as name."""
        pos = np.searchsorted(self._ids, ids)
        hit = pos < len(self._ids)
        hit[hit] = self._ids[pos[hit]] == ids[hit]
        if not hit.all():
            self._index({int(i): str(int(i)) for i in np.unique(ids[~hit])})
            return self.codes(ids)
        return self._codes[pos]

    def _index(self, extra: dict[int, str]) -> None:
        self._mapping.update({k: v for k, v in extra.items() if k not in self._mapping})
        ids = np.array(sorted(self._mapping), np.uint64)
        codes = []
        for iid in ids.tolist():
            name = self._mapping[iid]
            if name not in self._code_of_name:
                self._code_of_name[name] = len(self.names)
                self.names.append(name)
            codes.append(self._code_of_name[name])
        self._ids, self._codes = ids, np.array(codes, np.intp)


class DbnFile:
    """One DBN file: its metadata, and its records as trade batches, definitions or statistics."""

    def __init__(self, path: str | Path) -> None:
        import databento

        self.path = Path(path)
        try:
            self.store = databento.DBNStore.from_file(self.path)
            self.metadata = self.store.metadata
        except FileNotFoundError:  # databento says so of a folder too
            raise DbnError(f"{self.path}: {'a folder, not a DBN file' if self.path.is_dir() else 'no such file'}") from None
        except Exception as exc:  # the decoder's own errors are plain ValueError/RuntimeError/BentoError
            raise DbnError(f"{self.path}: not a readable DBN file ({exc})") from None
        self.schema = str(self.store.schema) if self.store.schema is not None else None
        self.names = InstrumentNames.from_metadata(self.metadata)

    @property
    def version(self) -> int:
        return int(self.metadata.version)

    @property
    def dataset(self) -> str:
        return str(self.metadata.dataset)

    @property
    def start_ns(self) -> int:
        return int(self.metadata.start)

    @property
    def has_trades(self) -> bool:
        return self.schema in TRADE_SCHEMAS or (self.schema or "").startswith("ohlcv")

    def batches(self, chunk: int = CHUNK) -> Iterator[TradeBatch]:
        """The file's trades (or OHLCV bars as synthetic prints), `chunk` records at a time."""
        if not self.has_trades:
            raise DbnError(f"{self.path}: schema {self.schema} carries no trades or bars")
        bars = self.schema.startswith("ohlcv")
        for records in self._records(chunk):
            if not len(records):
                continue
            if self.schema == "mbp-1":
                records = records[records["action"] == b"T"]
                if not len(records):
                    continue
            yield self._bars(records) if bars else self._trades(records)

    def _records(self, chunk: int) -> Iterator[np.ndarray]:
        """The decoder's record arrays; DbnError for a file that is cut off or damaged part way.

        The decoder only warns about a file ending inside a record (and drops the rest): a half-downloaded
        file would then replay, or backtest, as if it were whole.
        """
        from databento.common.error import BentoWarning

        arrays = iter(self.store.to_ndarray(count=chunk))
        while True:
            try:
                with warnings.catch_warnings():  # no await in here: nothing else runs on this thread meanwhile
                    warnings.filterwarnings("error", category=BentoWarning, message=".*truncated.*")
                    records = next(arrays, None)
            except BentoWarning:
                raise DbnError(f"{self.path}: the file is cut off (it ends inside a record); download or copy it "
                               f"again") from None
            except Exception as exc:  # the decoder's own errors (a damaged zstd frame, a bad record length)
                raise DbnError(f"{self.path}: not a readable DBN file ({exc})") from None
            if records is None:
                return
            yield records

    def _trades(self, records: np.ndarray) -> TradeBatch:
        raw = records["price"]
        price = raw / PRICE_SCALE
        undefined = raw == UNDEF_PRICE
        if undefined.any():
            price[undefined] = np.nan
        return TradeBatch(self.names.names, self.names.codes(records["instrument_id"]),
                          records["ts_event"].astype(np.int64), price, records["size"].astype(np.float64))

    def _bars(self, records: np.ndarray) -> TradeBatch:
        scaled = [records[k] / PRICE_SCALE for k in ("open", "high", "low", "close")]
        return TradeBatch.from_ohlc(self.names.names, self.names.codes(records["instrument_id"]),
                                    records["ts_event"].astype(np.int64), *scaled, records["volume"].astype(np.float64))

    def definitions(self) -> list[InstrumentDefinition]:
        """Instrument definitions (schema `definition`)."""
        self._expect("definition")
        found = []
        for r in self.store:
            expiration = None if r.expiration == UNDEF_TIME else ns_to_datetime(r.expiration)
            multiplier = None if r.unit_of_measure_qty == UNDEF_PRICE else r.unit_of_measure_qty / PRICE_SCALE
            found.append(InstrumentDefinition(r.raw_symbol, r.instrument_id, str(r.instrument_class), r.exchange,
                                              r.currency, _price(r.min_price_increment), multiplier, expiration))
        return found

    def statistics(self) -> list[Statistic]:
        """Statistics records (schema `statistics`)."""
        self._expect("statistics")
        undefined_qty = {2**63 - 1, 2**31 - 1}
        return [Statistic(self.names.name(r.instrument_id), r.instrument_id, ns_to_datetime(r.ts_event),
                          r.stat_type.name.lower(), _price(r.price),
                          None if r.quantity in undefined_qty else int(r.quantity)) for r in self.store]

    def _expect(self, schema: str) -> None:
        if self.schema != schema:
            raise DbnError(f"{self.path}: schema is {self.schema}, not {schema}")
