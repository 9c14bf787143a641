"""`station analyze` as a user runs it: a subprocess on a real data folder."""

from __future__ import annotations

import csv

import pytest

from support.analysis import build_edge_cases
from support.launch import run_cli
from station.analysis.export import CSV_FILES
from station.store import Store


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "data"
    store = Store(path)
    ids = store.writer.call(build_edge_cases)
    store.close()
    return path, ids


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


def test_analyze_writes_the_report_where_asked_and_says_so(data, tmp_path):
    path, _ = data
    out = tmp_path / "report"
    result = run_cli("analyze", "--data-dir", str(path), "--out", str(out))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"Report written to {out / 'report.html'}"
    assert lines[1].startswith("Alerts: 9 (6 routed, 1 unrouted, 1 rejected, 1 queued)")
    assert any(line.startswith("Realised PnL 560.05") for line in lines)
    assert all((out / name).is_file() for name in (*CSV_FILES, "report.html"))


def test_since_and_common_options_after_the_subcommand_default_folder(data):
    path, ids = data
    result = run_cli("--data-dir", str(path), "analyze", "--since", "2024-03-02", "--port", "9999")
    assert result.returncode == 0, result.stderr
    reports = sorted((path / "exports").glob("analysis-*/report.html"))
    assert len(reports) == 1 and result.stdout.startswith(f"Report written to {reports[0]}")
    with (reports[0].parent / "alerts.csv").open(newline="") as handle:
        assert [int(r["alert_id"]) for r in csv.DictReader(handle)] == [ids["later"]]


@pytest.mark.parametrize("args, message", [
    (["--since", "yesterday"], "is not an ISO date or time"),
    (["--since", "2024-02-30"], "is not an ISO date or time"),
    (["--out", "{blocker}/sub"], "cannot create output folder"),
    (["--out", "{blocker}"], "cannot create output folder"),
    (["--bogus"], "unrecognized arguments"),
])
def test_bad_input_is_one_line_and_exit_2(data, tmp_path, args, message):
    path, _ = data
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    args = [a.format(blocker=blocker) for a in args]
    result = run_cli("analyze", "--data-dir", str(path), *args)
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert line.startswith("station: error:") and message in line
    assert not (tmp_path / "a-file" / "sub").exists()


def test_a_file_that_is_not_a_database_is_exit_2(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "station.db").write_bytes(b"this is not sqlite" * 100)
    result = run_cli("analyze", "--data-dir", str(data), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "cannot read the database" in one_line(result.stderr)
