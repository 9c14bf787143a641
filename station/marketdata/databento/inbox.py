"""Hand-off from databento's client thread to our loop: records collected there, delivered here in batches.

`on_record` runs on the `databento.Live` thread for every record: it only appends
a trade's four numbers to lists (under a lock) and asks our loop, once, to drain.
`_drain` runs on our loop at most once per `interval_s` and turns what arrived into
one `TradeBatch` (plus a synthetic one for OHLCV bars). After a reconnect the
gateway replays from the last receive time; records already seen are dropped here,
so the bars see every trade exactly once.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from station.marketdata.databento.symbology import display_symbol, infer_stype
from station.marketdata.trades import TradeBatch

log = logging.getLogger("station.marketdata")

UNDEF_PRICE = 2**63 - 1


@dataclass
class Delivery:
    """What arrived since the last drain."""

    trades: TradeBatch | None = None
    bars: TradeBatch | None = None
    messages: list[str] = field(default_factory=list)  # gateway errors and notices, for the trader


class LiveInbox:
    """Collects records on the client thread; delivers batches on the loop (see the module docstring)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, deliver: Callable[[Delivery], None],
                 interval_s: float = 0.005) -> None:
        import databento_dbn as dbn

        self._dbn = dbn
        self._loop = loop
        self._deliver = deliver
        self._interval = interval_s
        self._lock = threading.Lock()
        self._names: list[str] = []
        self._code_of_name: dict[str, int] = {}
        self._code_of_iid: dict[int, int] = {}
        self._trades: list[list] = [[], [], [], []]  # code, ts_event, price, size
        self._bars: list[list] = [[], [], [], [], [], [], []]  # code, ts, open, high, low, close, volume
        self._messages: list[str] = []
        self._scheduled = False
        self._last_drain = 0.0
        self.last_data_at = 0.0  # time.monotonic() of the last trade or bar
        self.last_recv = 0  # ts_recv of the last record kept
        self._seen_at_last: set[tuple[int, int]] = set()
        self.received = 0
        self.definitions: dict[str, tuple[int, float | None, str]] = {}  # raw symbol → (id, tick size, class)

    # ---- the client's thread ------------------------------------------------------------------

    def on_record(self, record) -> None:
        """databento's record callback (its thread)."""
        dbn = self._dbn
        if isinstance(record, (dbn.TradeMsg, dbn.MBP1Msg)):
            if record.action != dbn.Action.TRADE or self._duplicate(record):
                return
            with self._lock:
                code = self._code(record.instrument_id)
                for column, value in zip(self._trades, (code, record.ts_event, record.price, record.size)):
                    column.append(value)
                self._data_arrived()
        elif isinstance(record, dbn.OHLCVMsg):
            with self._lock:
                code = self._code(record.instrument_id)
                for column, value in zip(self._bars, (code, record.ts_event, record.open, record.high, record.low,
                                                      record.close, record.volume)):
                    column.append(value)
                self._data_arrived()
        elif isinstance(record, dbn.SymbolMappingMsg):
            symbol = record.stype_in_symbol
            name = display_symbol(infer_stype(symbol), symbol, record.stype_out_symbol)
            with self._lock:
                self._code_of_iid[record.instrument_id] = self._name_code(name)
        elif isinstance(record, dbn.InstrumentDefMsg):
            tick = None if record.min_price_increment == UNDEF_PRICE else record.min_price_increment / 1e9
            self.definitions[record.raw_symbol] = (record.instrument_id, tick, str(record.instrument_class))
        elif isinstance(record, dbn.ErrorMsg):
            self._message(f"gateway error: {record.err}")
        elif isinstance(record, dbn.SystemMsg) and not record.is_heartbeat():
            log.info("databento: %s", record.msg)

    def _duplicate(self, record) -> bool:
        recv = getattr(record, "ts_recv", 0)
        key = (record.instrument_id, record.sequence)
        if recv < self.last_recv or (recv == self.last_recv and key in self._seen_at_last):
            return True
        if recv > self.last_recv:
            self.last_recv = recv
            self._seen_at_last = set()
        self._seen_at_last.add(key)
        return False

    def _code(self, iid: int) -> int:
        code = self._code_of_iid.get(iid)
        if code is None:  # no mapping seen (e.g. an instrument_id subscription): its number names it
            code = self._code_of_iid[iid] = self._name_code(str(iid))
        return code

    def _name_code(self, name: str) -> int:
        code = self._code_of_name.get(name)
        if code is None:
            code = self._code_of_name[name] = len(self._names)
            self._names.append(name)
        return code

    def _message(self, text: str) -> None:
        with self._lock:
            self._messages.append(text)
            self._schedule()

    def _data_arrived(self) -> None:
        self.received += 1
        self.last_data_at = time.monotonic()
        self._schedule()

    def _schedule(self) -> None:  # holds the lock
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon_threadsafe(self._drain)

    # ---- our loop -------------------------------------------------------------------------------

    def _drain(self) -> None:
        wait = self._interval - (self._loop.time() - self._last_drain)
        if wait > 0:  # coalesce: at most one delivery per interval
            self._loop.call_later(wait, self._drain)
            return
        self._last_drain = self._loop.time()
        with self._lock:
            trades, self._trades = self._trades, [[], [], [], []]
            bars, self._bars = self._bars, [[], [], [], [], [], [], []]
            messages, self._messages = self._messages, []
            names = tuple(self._names)
            self._scheduled = False
        delivery = Delivery(messages=messages)
        if trades[0]:
            delivery.trades = TradeBatch(names, np.array(trades[0], np.intp), np.array(trades[1], np.int64),
                                         _prices(trades[2]), np.array(trades[3], np.float64))
        if bars[0]:
            delivery.bars = TradeBatch.from_ohlc(names, np.array(bars[0], np.intp), np.array(bars[1], np.int64),
                                                 *(_prices(c) for c in bars[2:6]), np.array(bars[6], np.float64))
        self._deliver(delivery)


def _prices(raw: list[int]) -> np.ndarray:
    fixed = np.array(raw, np.int64)
    price = fixed / 1e9
    price[fixed == UNDEF_PRICE] = np.nan
    return price
