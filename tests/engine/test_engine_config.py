"""Engine and risk keys in the config document: checked on import (all or nothing), defaults shown
in the export, round-trip through import; the contract's plain shape still imports unchanged."""

import copy
import json

import pytest

from station.store import Store
from station.store.config_repo import ConfigRepository, check_document
from station.domain.validation import ConfigError

DOC = {
    "destinations": {"paper": {"type": "paper"}},
    "settings": {"risk": {"daily_loss_limit": 2000, "max_position_by_ticker": {"MES": 4}}},
    "strategies": {
        "MESCross": {
            "engine": {"kind": "crossover", "timeframe": "512t", "line1": {"type": "ema", "period": 9},
                       "line2": {"type": "wilder", "period": 21}, "stop_points": 8, "trade_enabled": False},
            "risk": {"daily_loss_limit": 500, "window": {"calendar": "CMES", "start": "08:30", "end": "15:00"}},
            "tickers": {"MES": {"destinations": {"paper": {"qty": 2}}, "engine": {"stop_points": 6}}},
        },
        "Zero": {"engine": {"kind": "zero_dte", "signal_symbol": "MES", "underlying": "SPX", "close_before_min": 20},
                 "tickers": {"SPXW": {"destinations": {"paper": {"qty": 1}}}}},
        "Pair": {"engine": {"kind": "pairs", "timeframe": "5m", "lookback": 30, "entry_z": 2.5, "exit_z": 0.25},
                 "tickers": {"NMFC-0.72*ROIC": {}}},
        "ST": {"engine": {"kind": "supertrend", "atr_period": 10, "multiplier": 3, "take_profit_atr": 4,
                          "sizing": "risk", "risk_amount": 300, "point_value": 5}, "tickers": {"ES": {}}},
    },
}


@pytest.fixture
def repo(data_dir):
    store = Store(data_dir)
    yield ConfigRepository(store)
    store.close()


def test_engine_strategies_import_with_defaults_and_round_trip(repo, data_dir, tmp_path):
    repo.import_document(copy.deepcopy(DOC))
    config = repo.load()
    cross = config.strategy("MESCross")
    assert cross.options["engine"]["line2"] == {"type": "wilder", "period": 21}
    assert cross.options["engine"]["qty"] == 1 and cross.options["engine"]["sizing"] == "fixed"
    assert cross.options["risk"]["window"] == {"calendar": "CMES", "start": "08:30", "end": "15:00"}
    assert cross.ticker("MES").options["engine"] == {"stop_points": 6}
    assert config.strategy("Zero").options["engine"]["calendar"] == "XNYS"
    assert config.strategy("Zero").options["engine"]["strike_step"] == 5
    assert repo.settings("risk")["max_position_by_ticker"] == {"MES": 4}
    exported = repo.export_document()
    assert exported["strategies"]["MESCross"]["engine"]["timeframe"] == "512t"
    assert exported["strategies"]["MESCross"]["tickers"]["MES"]["engine"] == {"stop_points": 6}
    other = ConfigRepository(Store(tmp_path / "other"))
    other.import_document(json.loads(json.dumps(exported)))
    assert other.export_document() == exported
    other.store.close()


def test_plain_strategies_carry_no_engine(repo):
    repo.import_document({"strategies": {"MomentumStrategy": {"accounts": {}, "tickers": {"AAPL": {"ports": [5000]}}}}})
    strategy = repo.load().strategy("MomentumStrategy")
    assert strategy.options["engine"] is None
    assert strategy.options["risk"] == {"daily_loss_limit": None, "max_position": None, "window": None}


@pytest.mark.parametrize("engine,path,words", [
    ({"kind": "martingale"}, "strategies.S.engine", "kind: must be one of"),
    ({"kind": "crossover", "timeframe": "7x"}, "strategies.S.engine", "not a timeframe"),
    ({"kind": "crossover", "timeframe": "2d"}, "strategies.S.engine", "not a timeframe"),
    ({"kind": "crossover", "line1": {"type": "hull", "period": 9}}, "strategies.S.engine", "line1: type: must be one of"),
    ({"kind": "crossover", "line1": {"type": "sma"}}, "strategies.S.engine", "line1: period: is required"),
    ({"kind": "crossover", "atr_period": 10}, "strategies.S.engine", "atr_period: unknown key"),
    ({"kind": "crossover", "sizing": "risk", "risk_amount": 100}, "strategies.S.engine", "needs stop_points"),
    ({"kind": "pairs", "timeframe": "512t"}, "strategies.S.engine", "pairs need time bars"),
    ({"kind": "pairs", "entry_z": 1, "exit_z": 1}, "strategies.S.engine", "exit_z must be below entry_z"),
    ({"kind": "zero_dte", "calendar": "MARS"}, "strategies.S.engine", "not an exchange calendar"),
])
def test_bad_engine_config_names_the_key_and_changes_nothing(repo, engine, path, words):
    before = repo.export_document()
    with pytest.raises(ConfigError) as info:
        repo.import_document({"strategies": {"S": {"engine": engine, "tickers": {"MES": {}}}}})
    assert words in info.value.errors[path]
    assert repo.export_document() == before


def test_bad_risk_and_ticker_override(repo):
    with pytest.raises(ConfigError) as info:
        check_document({"settings": {"risk": {"max_position_by_ticker": {"MES": -1}}},
                        "strategies": {"S": {"risk": {"window": {"start": "9:30"}}, "tickers": {
                            "MES": {"engine": {"kind": "pairs"}}}}}})
    errors = info.value.errors
    assert "MES: must be greater than 0" in errors["settings.risk.max_position_by_ticker"]
    assert "not a time HH:MM" in errors["strategies.S.risk"]
    assert "is the strategy's" in errors["strategies.S.tickers.MES.engine"]
