"""`station bench brackets --json`: one JSON line, every bracket and plain entry finished (quick sizes)."""

import json

import pytest

from support.launch import run_cli

pytestmark = pytest.mark.slow


def test_bench_brackets_prints_one_json_line_with_both_measurements(tmp_path):
    result = run_cli("bench", "brackets", "--json", "--data-dir", str(tmp_path), env={"STATION_BENCH_QUICK": "1"},
                     timeout=120)
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.strip().splitlines()
    figures = json.loads(line)
    assert figures["bench"] == "brackets" and figures["unfinished"] == 0
    assert figures["orders"] == figures["alerts"] // 2 * 4  # a plain entry; an entry with two exits
    for key in ("plain_p50_ms", "plain_p99_ms", "bracket_p50_ms", "bracket_p99_ms", "ratio_bracket_p99_vs_plain_p99",
                "tick_ns_at_10_exits", "tick_ns_at_1000_exits", "tick_ns_at_1000_trailing_stops"):
        assert figures[key] > 0, key
    assert "load_average" in figures and list(tmp_path.iterdir()) == []
