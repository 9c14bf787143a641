"""`station bench webhook --json`: one JSON line with the figures, and no alert lost (quick sizes)."""

import json

import pytest

from support.launch import run_cli

pytestmark = pytest.mark.slow


def test_bench_webhook_prints_one_json_line_and_loses_nothing(tmp_path):
    result = run_cli("bench", "webhook", "--json", "--data-dir", str(tmp_path), env={"STATION_BENCH_QUICK": "1"},
                     timeout=120)
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.strip().splitlines()
    figures = json.loads(line)
    assert figures["bench"] == "webhook" and figures["lost"] == 0 and figures["duplicated"] == 0
    for key in ("c1_alerts_per_s", "c1_p50_ms", "c1_p99_ms", "c20_alerts_per_s", "c20_p50_ms", "c20_p99_ms",
                "lean_c1_alerts_per_s", "lean_c1_p99_ms", "lean_c20_alerts_per_s", "lean_c20_p99_ms",
                "c1_ratio_vs_health", "c20_ratio_vs_health"):
        assert figures[key] > 0, key
    assert all(figures[f"{p}c{c}_non_200"] == 0 for p in ("", "lean_") for c in (1, 20)) and figures["accepted"] > 0
    assert list(tmp_path.iterdir()) == []  # the bench's journal is removed afterwards
