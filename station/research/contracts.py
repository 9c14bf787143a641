"""Which of a file's futures contracts a backtest trades as a strategy's root ticker (`ES` from `ESH1`, `ESM1` …).

A strategy trades `ES`; Databento's own files, and a trader's downloads, often hold the contracts themselves
(raw symbols such as `ESH1`). When a file has no trades named as a ticker but has contracts of its root (a
CME root, `marketdata.bars.sessions.CME_ROOTS`), those contracts are traded as the ticker:

- one contract: its trades are the ticker's, throughout;
- several: each trading day (from its session's open) the contract with the most volume on the file's
  previous trading day, the rule of Databento's volume-ranked continuous contract (`ES.v.0`); on the file's
  first day, for want of a day before, that day's own volume. Prices are as traded, not back-adjusted (as
  in Databento's continuous contracts): a position held across a roll sees the step between the two.

The rolls are reported in the backtest's summary (`contracts`), so a result always says what it traded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from station.marketdata.bars.sessions import session_for, symbol_root
from station.marketdata.trades import TradeBatch, ns_to_datetime

ALWAYS_NS = (np.iinfo(np.int64).min, np.iinfo(np.int64).max)


@dataclass(frozen=True)
class Roll:
    """`contract`'s trades are `ticker`'s from `start_ns` until `end_ns` (the next roll)."""

    ticker: str
    contract: str
    start_ns: int
    end_ns: int

    def describe(self) -> dict:
        """As the summary lists it: the contract and, after the first, the time it took over."""
        start = None if self.start_ns == ALWAYS_NS[0] else ns_to_datetime(self.start_ns).isoformat()
        return {"contract": self.contract, "from": start}


def contracts_of(names: list[str], tickers: list[str]) -> dict[str, list[str]]:
    """Ticker → the file's contracts of its root, for each ticker the file has no trades of under its own name."""
    found: dict[str, list[str]] = {}
    for ticker in tickers:
        if ticker in names:
            continue
        # raw contracts only: another rank of a continuous contract (ES.c.1) is another series
        contracts = sorted(n for n in names if "." not in n and symbol_root(n) == ticker)
        if contracts:
            found[ticker] = contracts
    return found


class ContractRolls:
    """The rolls of every ticker traded from contracts; `apply` renames a batch's trades by them."""

    def __init__(self, rolls: list[Roll]) -> None:
        self.rolls = rolls

    @classmethod
    def for_file(cls, path: Path, tickers: list[str]) -> "ContractRolls":
        from station.marketdata.databento.files import DbnFile

        dbn = DbnFile(path)
        wanted = contracts_of(list(dbn.names.names), tickers)
        rolls = [Roll(t, c[0], *ALWAYS_NS) for t, c in wanted.items() if len(c) == 1]
        several = {t: c for t, c in wanted.items() if len(c) > 1}
        if several:
            rolls += _by_volume(dbn, several)
        return cls(rolls)

    def __bool__(self) -> bool:
        return bool(self.rolls)

    def summary(self) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {}
        for roll in self.rolls:
            out.setdefault(roll.ticker, []).append(roll.describe())
        return out

    def apply(self, batch: TradeBatch) -> TradeBatch:
        """The batch with each roll's trades named as its ticker (a contract's other trades keep its name)."""
        symbols = list(batch.symbols)
        code = batch.code
        whole = []
        lo, hi = (int(batch.ts.min()), int(batch.ts.max())) if len(batch) else (0, -1)  # stamps may be out of order
        for roll in self.rolls:
            if roll.contract not in symbols:
                continue
            if (roll.start_ns, roll.end_ns) == ALWAYS_NS:
                whole.append(roll)
                continue
            if roll.end_ns <= lo or roll.start_ns > hi:
                continue
            if roll.ticker not in symbols:
                symbols.append(roll.ticker)
            if code is batch.code:
                code = code.copy()
            inside = (batch.code == symbols.index(roll.contract)) & (batch.ts >= roll.start_ns) & (batch.ts < roll.end_ns)
            code[inside] = symbols.index(roll.ticker)
        for roll in whole:  # a lone contract: renamed, no trade touched
            symbols[symbols.index(roll.contract)] = roll.ticker
        if code is batch.code and not whole:
            return batch
        return TradeBatch(symbols, code, batch.ts, batch.price, batch.size, batch.synthetic)


def contracts_text(contracts: dict[str, list[dict]]) -> str:
    """A summary's `contracts` in words: "ES from ESM5, ESU5 from 2025-05-18 18:00 ET"."""
    from station.domain.timeutil import EASTERN

    def one(roll: dict) -> str:
        if roll["from"] is None:
            return roll["contract"]
        start = datetime.fromisoformat(roll["from"]).astimezone(EASTERN)
        return f"{roll['contract']} from {start:%Y-%m-%d %H:%M} ET"

    return "; ".join(f"{ticker} from {', '.join(one(r) for r in rolls)}" for ticker, rolls in contracts.items())


def contract_at(contracts: dict[str, list[dict]], ticker: str, ns: int) -> str:
    """The contract a summary's `contracts` traded as `ticker` at `ns` ("" when the file named it as the ticker)."""
    found = ""
    for roll in contracts.get(ticker, ()):
        if roll["from"] is None or datetime.fromisoformat(roll["from"]).timestamp() * 1e9 <= ns:
            found = roll["contract"]
    return found


def _by_volume(dbn, several: dict[str, list[str]]) -> list[Roll]:
    """One pass over the file: each contract's volume per trading day, then the front of every day."""
    volume: dict[str, dict[str, dict[int, float]]] = {t: {c: {} for c in cs} for t, cs in several.items()}
    owner = {contract: ticker for ticker, contracts in several.items() for contract in contracts}
    opens = {t: _session_opens(t, dbn) for t in several}
    for batch in dbn.batches():
        for symbol, ts, _, size in batch.by_symbol():
            ticker = owner.get(symbol)
            if ticker is None:
                continue
            found, inverse = np.unique(np.searchsorted(opens[ticker], ts, "right") - 1, return_inverse=True)
            daily = volume[ticker][symbol]
            for day, total in zip(found.tolist(), np.bincount(inverse, weights=size).tolist()):
                daily[day] = daily.get(day, 0.0) + total
    rolls = []
    for ticker, by_contract in volume.items():
        days = sorted({d for daily in by_contract.values() for d in daily})
        fronts = []
        for k, day in enumerate(days):
            ranked = days[k - 1] if k else day
            best = max(sorted(by_contract), key=lambda c: by_contract[c].get(ranked, 0.0))
            if not fronts or fronts[-1][1] != best:
                fronts.append((day, best))
        for k, (day, contract) in enumerate(fronts):
            start = ALWAYS_NS[0] if k == 0 else int(opens[ticker][day])
            end = ALWAYS_NS[1] if k == len(fronts) - 1 else int(opens[ticker][fronts[k + 1][0]])
            rolls.append(Roll(ticker, contract, start, end))
    return rolls


def _session_opens(ticker: str, dbn) -> np.ndarray:
    """The opens of the ticker's sessions over the file's period: a trading day runs from one open to the next."""
    start = int(dbn.metadata.start)
    end = int(dbn.metadata.end or 0)
    end = end if 0 < end < 2**63 else start + 400 * 86_400 * 10**9
    return np.array([opened for opened, _ in session_for(ticker).sessions(start, end)], np.int64)

