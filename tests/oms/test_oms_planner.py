"""Which strategies an alert goes to: a strategy Station runs itself takes webhook alerts only when told to."""

import pytest

from support.oms import make_alert
from station.app import Options, Station
from station.oms.planner import select_strategies

CROSS = {"kind": "crossover", "timeframe": "1m", "line1": {"type": "ema", "period": 9},
         "line2": {"type": "sma", "period": 21}}


@pytest.fixture
def config(data_dir, secrets):
    station = Station(Options(data_dir=data_dir, port=0), secrets)
    station.config.import_document({
        "destinations": {"paper": {"type": "paper"}},
        "strategies": {"Alerts": {"tickers": {"ES": {"destinations": {"paper": {}}}}},
                       "ES cross": {"engine": CROSS, "tickers": {"ES": {"destinations": {"paper": {}}}}},
                       "NQ cross": {"engine": CROSS, "take_alerts": True,
                                    "tickers": {"NQ": {"destinations": {"paper": {}}}}},
                       "MES cross": {"engine": CROSS, "tickers": {"MES": {"destinations": {"paper": {}}}}}}})
    yield station.config
    station.store.close()


def names(found):
    return [strategy.name for strategy, _entry in found[0]], found[1]


def test_an_engine_strategy_takes_its_own_signals_and_clicks_but_webhook_alerts_only_when_told(config):
    routing = config.load()
    assert names(select_strategies(make_alert("ES"), routing)) == (["Alerts"], None)
    assert names(select_strategies(make_alert("ES", source="strategy", strategy="ES cross"), routing)) == (
        ["ES cross"], None)
    assert names(select_strategies(make_alert("ES", source="manual", strategy="ES cross"), routing)) == (
        ["ES cross"], None)
    refused = select_strategies(make_alert("ES", strategy="ES cross"), routing)
    assert names(refused) == ([], 'strategy ES cross trades its own signals; it takes alerts with "take_alerts": true')
    assert names(select_strategies(make_alert("NQ"), routing)) == (["NQ cross"], None)  # told to take them
    assert names(select_strategies(make_alert("MES"), routing)) == (
        [], "no enabled strategy takes alerts for ticker MES (MES cross trade their own signals)")
    assert config.strategy_document("NQ cross")["take_alerts"] is True
