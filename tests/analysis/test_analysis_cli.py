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
    assert "is corrupt" in one_line(result.stderr)


def test_csv_cells_a_spreadsheet_would_run_are_neutralised(tmp_path):
    """ticker/trade_id/strategy starting with = + - @ reach the CSVs as text, numbers untouched."""
    from support.analysis import add_alert, add_fill, add_order

    data_dir = tmp_path / "d"
    store = Store(data_dir)

    def job(conn):
        alert_id = add_alert(conn, ticker="=HYPERLINK(\"http://x\")", strategy="+cmd|' /C calc'!A0")
        add_order(conn, "c1", alert_id=alert_id, strategy="@SUM(1+1)", ticker="-2+3", avg="5000", filled="1")
        add_fill(conn, "c1", qty="1", price="5000", ms=10, strategy="@SUM(1+1)", ticker="-2+3", pnl="-12.5")

    store.writer.submit(job).result()
    store.close()
    out = tmp_path / "out"
    result = run_cli("analyze", "--data-dir", str(data_dir), "--out", str(out))
    assert result.returncode == 0, result.stderr
    cells = [cell for name in CSV_FILES for row in csv.reader((out / name).open()) for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "@") or (c.startswith("-") and not c[1:].replace(".", "").isdigit())]
    assert "'=HYPERLINK(\"http://x\")" in cells and "'@SUM(1+1)" in cells and "'-2+3" in cells
    assert "-12.5" in cells  # a loss stays a number
