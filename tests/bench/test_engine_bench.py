"""`station bench engine` replays its trades through bars and strategies and reports the rates (no timing is asserted)."""

from station.bench import engine


def test_engine_bench_reports_ticks_per_s_beside_the_bare_replay_of_the_same_file(monkeypatch):
    monkeypatch.setattr(engine, "TRADES", 20_000)
    monkeypatch.setattr(engine, "REPEATS", 1)
    result = engine.run(None)
    assert result["file"].startswith("20,000 trades, 2 symbols")
    assert result["engine_ticks_per_s"] > 0 and result["bare_replay_ticks_per_s"] > 0
    assert result["engine_vs_bare"] == round(result["engine_ticks_per_s"] / result["bare_replay_ticks_per_s"], 3)
    assert result["closed_bars"]["1m"] > 100 and result["closed_bars"]["512t"] >= 30
    assert result["signals"] > 10 and "8 instances" in result["strategies"]
