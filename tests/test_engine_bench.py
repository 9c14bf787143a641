"""`station bench engine` runs and reports its figures (no timing is asserted)."""

from station.bench import engine


def test_engine_bench_reports_rates_beside_the_bare_bus(monkeypatch):
    monkeypatch.setattr(engine, "BARS", 3000)
    result = engine.run(None)
    for timeframe in ("1m", "512t"):
        assert result[f"engine_bars_per_s_{timeframe}"] > 0 and result[f"bare_bus_bars_per_s_{timeframe}"] > 0
        assert result[f"signals_{timeframe}"] > 10
    assert result["engine_ticks_per_s_at_512t"] == round(result["engine_bars_per_s_512t"] * 512)
