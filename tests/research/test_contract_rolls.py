"""A strategy on `ES` backtests a file of ES contracts (`ESM5`, or `ESM5` and `ESU5` rolled by volume), as
Databento's own files and a trader's downloads hold them (`research/contracts.py`)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from station.marketdata.databento.write import metadata_bytes, trade_records, write_dbn
from station.research.contracts import ContractRolls, contracts_of, contracts_text
from station.research.data import DataError, check_data
from support.backtest import data_dir_with, minute_closes, strategy_config
from support.launch import run_cli
from support.paths import DBN

NS = 1_000_000_000
FAST = {"kind": "crossover", "timeframe": "1m", "line1": {"type": "sma", "period": 1},
        "line2": {"type": "sma", "period": 2}}
CLOSES = [100, 99, 101, 103, 102, 104]


def at(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()) * NS


def two_contracts(path: Path, trades: list[tuple[str, str, float, int]]) -> Path:
    """(UTC time, contract, price, size) rows as one DBN file of ESM5 (id 1) and ESU5 (id 2)."""
    ids = {"ESM5": 1, "ESU5": 2}
    trades = sorted(trades)
    ts = np.array([at(t) for t, *_ in trades], np.int64)
    records = trade_records(np.array([ids[c] for _, c, *_ in trades], np.uint32), ts,
                            np.array([p for *_, p, _ in trades], float), np.array([s for *_, s in trades], np.uint32))
    return write_dbn(path, metadata_bytes(ids, int(ts[0]) - NS, int(ts[-1]) + NS), records)


def test_only_contracts_of_a_cme_root_stand_for_a_ticker_the_file_lacks():
    names = ["ESM5", "ESU5", "ESM5-ESU5", "NQM5", "ES.c.1"]
    assert contracts_of(names, ["ES", "NQ", "AAPL"]) == {"ES": ["ESM5", "ESU5"], "NQ": ["NQM5"]}
    assert contracts_of(["ES", "ESM5"], ["ES"]) == {}  # the ticker's own trades are used as they are
    assert contracts_of(["AAPLM5"], ["AAPL"]) == {}  # not a futures root


def test_several_contracts_roll_by_the_previous_days_volume_at_the_session_open(tmp_path):
    # Thursday 15 May: ESM5 trades most; Friday: ESU5 does; Monday: both trade
    path = two_contracts(tmp_path / "es.dbn", [
        ("2025-05-15T14:00:00", "ESM5", 5000.0, 10), ("2025-05-15T14:00:01", "ESU5", 5050.0, 1),
        ("2025-05-16T14:00:00", "ESM5", 5001.0, 1), ("2025-05-16T14:00:01", "ESU5", 5051.0, 10),
        ("2025-05-19T14:00:00", "ESM5", 5002.0, 3), ("2025-05-19T14:00:01", "ESU5", 5052.0, 3)])
    rolls = ContractRolls.for_file(path, ["ES"])
    # Thursday by its own volume (none before it), Friday by Thursday's; ESU5 from Monday's session open
    # (Sunday 18:00 New York), by Friday's volume
    assert rolls.summary() == {"ES": [{"contract": "ESM5", "from": None},
                                      {"contract": "ESU5", "from": "2025-05-18T22:00:00+00:00"}]}
    assert contracts_text(rolls.summary()) == "ES from ESM5, ESU5 from 2025-05-18 18:00 ET"
    from station.marketdata.databento.files import DbnFile
    batch = next(DbnFile(path).batches())
    renamed = rolls.apply(batch)
    es = [float(p) for code, p in zip(renamed.code, renamed.price) if renamed.symbols[code] == "ES"]
    assert es == [5000.0, 5001.0, 5052.0]
    assert list(batch.symbols) == ["ESM5", "ESU5"]  # the file's own names are left alone


def test_a_file_of_one_contract_backtests_as_its_root_ticker(tmp_path):
    data_dir = data_dir_with(tmp_path, strategy_config("Cross", "ES", FAST))
    outs = {}
    for symbol in ("ES", "ESM5"):
        data = minute_closes(tmp_path / f"{symbol}.dbn", symbol, CLOSES)
        out = tmp_path / f"out-{symbol}"
        result = run_cli("backtest", "--data-dir", str(data_dir), "--strategy", "Cross", "--data", str(data),
                         "--out", str(out), "--json", timeout=120)
        assert result.returncode == 0, result.stderr
        outs[symbol] = (out / "trades.csv").read_text(), json.loads(result.stdout)
    said = run_cli("backtest", "--data-dir", str(data_dir), "--strategy", "Cross", "--data", str(data),
                   "--out", str(tmp_path / "again"), timeout=120).stdout
    assert said.splitlines()[-1] == "Traded ES from ESM5", said
    assert outs["ESM5"][0] == outs["ES"][0] and ",ES,long," in outs["ES"][0]  # the same trades, named ES
    assert outs["ESM5"][1].pop("contracts") == {"ES": [{"contract": "ESM5", "from": None}]}
    assert "contracts" not in outs["ES"][1]
    assert [o[1].pop("run")["data"] for o in outs.values()] == ["ES.dbn", "ESM5.dbn"]
    assert outs["ESM5"][1] == outs["ES"][1]
    assert "traded ES from ESM5</p>" in (tmp_path / "out-ESM5" / "report.html").read_text()


def test_databentos_own_esh1_file_is_data_for_an_es_strategy_and_an_nq_file_is_not(tmp_path):
    check_data(DBN / "test_data.trades.v3.dbn.zst", ["ES"], {"1m"})
    with pytest.raises(DataError, match="has no trades of NQ .it has ESH1"):
        check_data(DBN / "test_data.trades.v3.dbn.zst", ["NQ"], {"1m"})


def test_a_shown_trade_reads_the_files_trades_around_it_as_the_tickers(tmp_path):
    """The chart's history for a backtest's trade (`marketdata/trade_history.py`): the contract traded then,
    inside the range, named as the ticker."""
    from station.marketdata.trade_history import read_range

    path = two_contracts(tmp_path / "es.dbn", [
        ("2025-05-15T14:00:00", "ESM5", 5000.0, 1), ("2025-05-15T14:00:01", "ESU5", 5050.0, 1),
        ("2025-05-15T15:00:00", "ESM5", 5001.0, 1), ("2025-05-16T14:00:00", "ESM5", 5002.0, 1)])
    batch = read_range(path, "ESM5", "ES", at("2025-05-15T13:00:00"), at("2025-05-16T00:00:00"))
    assert list(batch.symbols) == ["ES"] and batch.price.tolist() == [5000.0, 5001.0]
    assert len(read_range(path, "NQM5", "NQ", 0, at("2026-01-01T00:00:00"))) == 0
