"""`station bench route --json`: one JSON line with the end-to-end figures, nothing lost (quick sizes)."""

import json

import pytest

from support.launch import run_cli

pytestmark = pytest.mark.slow


def test_bench_route_prints_one_json_line_and_loses_nothing(tmp_path):
    result = run_cli("bench", "route", "--json", "--data-dir", str(tmp_path), env={"STATION_BENCH_QUICK": "1"},
                     timeout=120)
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.strip().splitlines()
    figures = json.loads(line)
    assert figures["bench"] == "route"
    assert figures["lost"] == 0 and figures["non_200"] == 0 and figures["duplicated_lines"] == 0
    for key in ("p50_ms", "p99_ms", "answer_p99_ms", "echo_p99_ms", "disk_commit_p99_ms", "p99_vs_disk_commit_p99",
                "post_to_journaled_p50_ms", "journaled_to_port_written_p50_ms", "server_cpu_us_per_alert"):
        assert figures[key] > 0, key
    # "written" is stamped when Station reports the line sent, after the write: on a busy
    # machine the strategy process may have read it by then, so this stretch can be <= 0
    assert isinstance(figures["port_written_to_read_p50_ms"], (int, float))
    assert figures["p50_ms"] <= figures["p99_ms"] <= figures["max_ms"]
    assert figures["max_sustained_alerts_per_s"] >= 0 and figures["ramp"]
    assert list(tmp_path.iterdir()) == []  # the bench's core and journal are removed afterwards
