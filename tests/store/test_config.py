import copy
import json

import pytest

from support.contract import EXAMPLE_DESTINATIONS, EXAMPLE_PORTS
from support.launch import run_cli
from station.store import Store
from station.store.config_repo import ConfigRepository, check_document
from station.domain.validation import ConfigError

ZEROSPX, NAMED = EXAMPLE_PORTS, EXAMPLE_DESTINATIONS  # the two CONTRACT.md examples


@pytest.fixture
def repo(data_dir):
    store = Store(data_dir)
    yield ConfigRepository(store)
    store.close()


def test_the_0spx_shape_imports_unchanged(repo):
    revision = repo.import_document(copy.deepcopy(ZEROSPX))
    config = repo.load()
    assert config.revision == revision == 1
    momentum = config.strategy("MomentumStrategy")
    assert momentum.enabled
    assert [(t.ticker, t.ports) for t in momentum.tickers] == [("AAPL", (5000,)), ("TSLA", (5001, 5002))]
    assert [s.name for s in config.strategies_listing("TSLA")] == ["MomentumStrategy"]
    assert config.strategies_listing("MSFT") == []


def test_named_destinations_and_sizes(repo):
    repo.import_document(copy.deepcopy(NAMED))
    config = repo.load()
    mes = config.strategy("MomentumStrategy").ticker("MES")
    routes = {r.destination: r for r in mes.destinations}
    assert str(routes["paper"].qty) == "2" and routes["paper"].size_for(None) == 2
    assert routes["nt-sim"].instrument == "MES 12-26"
    assert routes["ib"].size_for(3) == 3 and routes["ib"].qty is None
    assert config.destination("ib").params == {"host": "127.0.0.1", "port": 7497, "client_id": 7, "account": "DU123456"}
    assert config.destination("nt-sim").params["account"] == "Sim101"


def test_export_round_trips_through_import(repo, data_dir):
    repo.import_document(copy.deepcopy(NAMED))
    repo.import_document(copy.deepcopy(ZEROSPX) | {"settings": {"webhook": {"dedup_window_s": 12}}})
    exported = repo.export_document()
    assert exported["settings"]["webhook"]["dedup_window_s"] == 12
    assert exported["settings"]["webhook"]["rate_limits"] == ["50 per second"]
    assert exported["strategies"]["MomentumStrategy"]["tickers"]["AAPL"]["ports"] == [5000]
    # a fresh Station importing the export ends up with the same export
    other_dir = data_dir.parent / "other"
    other = ConfigRepository(Store(other_dir))
    other.import_document(json.loads(json.dumps(exported)))
    assert other.export_document() == exported
    other.store.close()


def test_import_merges_strategies_and_settings(repo):
    repo.import_document(copy.deepcopy(NAMED))
    repo.import_document({"strategies": {"Other": {"tickers": {"ES": {"ports": [6000]}}}},
                          "settings": {"webhook": {"allowlist": ["52.89.214.238"]}}})
    repo.import_document({"settings": {"webhook": {"behind_tunnel": True}}})
    names = [s.name for s in repo.load().strategies]
    assert names == ["MomentumStrategy", "Other"]
    webhook = repo.settings("webhook")
    assert webhook["allowlist"] == ["52.89.214.238/32"] and webhook["behind_tunnel"] is True
    # a strategy in the file replaces the one of the same name
    repo.import_document({"strategies": {"MomentumStrategy": {"tickers": {"NQ": {}}}}})
    assert [t.ticker for t in repo.load().strategy("MomentumStrategy").tickers] == ["NQ"]


@pytest.mark.parametrize("document, path", [
    ({"settings": {"webhook": {"dedup_window": 5}}}, "settings.webhook.dedup_window"),
    ({"settings": {"webhook": {"dedup_window_s": "5"}}}, "settings.webhook.dedup_window_s"),
    ({"settings": {"webhook": {"rate_limits": ["lots"]}}}, "settings.webhook.rate_limits"),
    ({"settings": {"webhook": {"behind_tunnel": "yes"}}}, "settings.webhook.behind_tunnel"),
    ({"settings": {"nope": {}}}, "settings.nope"),
    ({"strategies": {"S": {"tickers": {"A": {"ports": [70000]}}}}}, "strategies.S.tickers.A.ports"),
    ({"strategies": {"S": {"tickers": {"A": {"ports": [5000, 5000]}}}}}, "strategies.S.tickers.A.ports"),
    ({"strategies": {"S": {"tickers": {"A": {"prots": [5000]}}}}}, "strategies.S.tickers.A.prots"),
    ({"destinations": {"x": {"type": "carrier-pigeon"}}}, "destinations.x.type"),
    ({"destinations": {"x": {"type": "ninjatrader-ati", "incoming": "/nt/in"}}}, "destinations.x.account"),
    ({"destinations": {"x": {"type": "ib", "password": "hunter2"}}}, "destinations.x.password"),
    ({"strategies": {"S": {"tickers": {"A": {"destinations": {"p": {"qty": 0}}}}}}}, "strategies.S.tickers.A.destinations.p.qty"),
    ({"bogus": 1}, "bogus"),
])
def test_a_bad_key_is_named_and_nothing_is_applied(repo, document, path):
    repo.import_document({"strategies": {"Keep": {"tickers": {"A": {"ports": [5000]}}}},
                          "settings": {"webhook": {"dedup_window_s": 7}}})
    before = repo.export_document()
    with pytest.raises(ConfigError) as caught:
        repo.import_document(document | {"strategies": document.get("strategies", {}) | {"Keep": {}}})
    assert path in caught.value.errors, caught.value.errors
    assert path in str(caught.value)
    assert repo.export_document() == before


def test_secrets_in_the_file_are_refused_with_the_keyring_command():
    with pytest.raises(ConfigError) as caught:
        check_document({"destinations": {"tt": {"type": "tastytrade", "password": "x"}}})
    assert "station secret set tastytrade-password" in str(caught.value)


def test_an_unknown_destination_reference_is_refused_and_nothing_applied(repo):
    with pytest.raises(ConfigError, match="no such destination"):
        repo.import_document({"strategies": {"S": {"tickers": {"A": {"destinations": {"ghost": {"qty": 1}}}}}}})
    assert repo.load().strategies == () and repo.revision() == 0


def test_qty_and_multiplier_together_are_refused(repo):
    with pytest.raises(ConfigError, match="either qty"):
        repo.import_document({"destinations": {"paper": {"type": "paper"}},
                              "strategies": {"S": {"tickers": {"A": {"destinations": {"paper": {"qty": 1, "multiplier": 2}}}}}}})


ATI = {"type": "ninjatrader-ati", "account": "Sim101", "incoming": "/nt/incoming", "outgoing": "/nt/outgoing"}


@pytest.mark.parametrize("document, key", [
    ({"destinations": {"nt": {**ATI, "account": "Sim;101"}}}, "destinations.nt.account"),
    ({"destinations": {"nt": {**ATI, "account": "Sim\n101"}}}, "destinations.nt.account"),
    ({"destinations": {"nt": {**ATI, "outgoing": "/nt/incoming/"}}}, "destinations.nt.outgoing"),
    ({"strategies": {"S\x00": {"tickers": {}}}}, "strategies.S\\x00"),
    ({"strategies": {"S" * 10_000: {"tickers": {}}}}, "strategies." + "S" * 57 + "..."),
    ({"strategies": {"S": {"tickers": {"E\nS": {}}}}}, "strategies.S.tickers.E\\nS"),
    ({"destinations": {"nt": ATI}, "strategies": {"S": {"tickers": {"ES": {"destinations": {
        "nt": {"qty": 1, "instrument": "ES;12-26"}}}}}}}, "strategies.S.tickers.ES.destinations.nt.instrument"),
    ({"destinations": {"nt": ATI}, "strategies": {"S": {"tickers": {"E;S": {"destinations": {"nt": {"qty": 1}}}}}}},
     "strategies.S.tickers.E;S.destinations.nt"),
])
def test_import_refuses_what_a_destination_cannot_use_naming_the_key(data_dir, document, key):
    config = ConfigRepository(Store(data_dir))
    before = config.export_document()
    with pytest.raises(ConfigError) as refused:
        config.import_document(document)
    assert key in refused.value.errors, refused.value.errors
    assert config.export_document() == before  # nothing of that file applied


def test_a_deeply_nested_file_is_one_line_and_exit_2(tmp_path, keyring_env):
    path = tmp_path / "deep.json"
    path.write_text('{"strategies": ' + "[" * 100_000 + "]" * 100_000 + "}")
    result = run_cli("config", "import", str(path), "--data-dir", str(tmp_path / "d"), env=keyring_env)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_the_point_value_1_every_engine_was_stored_with_gives_way_to_the_table(data_dir):
    """m0130: an engine stored with the schema's old default (`point_value: 1`) loses it; a chosen value stays."""
    import importlib
    import json
    import sqlite3

    from station.store import Store
    from station.store.config_repo import ConfigRepository
    from station.store.migrations import MigrationDb

    store = Store(data_dir)
    repo = ConfigRepository(store)
    engine = {"kind": "crossover", "sizing": "risk", "risk_amount": 500, "stop_points": 4}
    repo.import_document({"strategies": {"Old": {"engine": engine, "tickers": {"ES": {"engine": {"stop_points": 6}}}},
                                         "Set": {"engine": {**engine, "point_value": 5}, "tickers": {"MES": {}}}}})
    store.close()
    conn = sqlite3.connect(data_dir / "station.db", isolation_level=None)
    old = json.loads(conn.execute("SELECT options FROM strategies WHERE name = 'Old'").fetchone()[0])
    old["engine"]["point_value"] = 1  # as every engine was stored before
    conn.execute("UPDATE strategies SET options = ? WHERE name = 'Old'", (json.dumps(old),))
    conn.execute("UPDATE strategy_tickers SET options = ? WHERE strategy = 'Old'",
                 (json.dumps({"engine": {"stop_points": 6, "point_value": 1}}),))
    importlib.import_module("station.store.migrations.m0130_engine_point_value").apply(MigrationDb(conn))
    conn.close()
    store = Store(data_dir)
    config = ConfigRepository(store).load()
    store.close()
    assert config.strategy("Old").options["engine"].get("point_value") is None
    assert config.strategy("Old").ticker("ES").options["engine"] == {"stop_points": 6}
    assert config.strategy("Set").options["engine"]["point_value"] == 5
