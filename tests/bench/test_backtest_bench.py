"""`station bench backtest` reports its figures beside the engine bench on the same file (no timing is asserted)."""

import pytest

from station.bench import backtest

pytestmark = pytest.mark.slow


def test_backtest_bench_reports_the_ratio_to_the_engine_the_sweeps_and_the_memory(monkeypatch):
    monkeypatch.setattr(backtest, "TRADES", 30_000)
    monkeypatch.setattr(backtest, "BIG_TRADES", 60_000)
    monkeypatch.setattr(backtest, "REPEATS", 1)
    monkeypatch.setattr(backtest, "SWEEP", backtest.SWEEP[:3])
    monkeypatch.setattr(backtest, "SWEEP_REPEATS", 1)
    result = backtest.run(None)
    assert result["engine_ticks_per_s"] > 0 and result["backtest_ticks_per_s"] > 0
    assert result["backtest_whole_run_ticks_per_s"] <= result["backtest_ticks_per_s"]
    assert result["backtest_vs_engine"] == round(result["backtest_ticks_per_s"] / result["engine_ticks_per_s"], 3)
    assert result["backtest_fills"] > 0
    sweep = result["sweep_16"]
    assert sweep["rows_equal"] is True and sweep["workers_1_s"] > 0 and sweep["dask_2_workers_s"] > 0
    assert sweep["workers_2_s"] == min(sweep["workers_2_runs_s"])
    assert 0 < result["memory_10m"]["peak_rss_mb"] < 2000 and result["memory_10m"]["trades"] == 60_000
