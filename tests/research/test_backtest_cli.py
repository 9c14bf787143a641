"""CONTRACT.md "Backtests", sentence by sentence, from outside: `station backtest` as a subprocess on DBN files
written with databento's own layouts, checked against hand-computed trades."""

from __future__ import annotations

import csv
import json
import re

import pytest

from support.backtest import data_dir_with, minute_closes, random_walk, strategy_config
from support.launch import run_cli

FAST = {"kind": "crossover", "timeframe": "1m", "line1": {"type": "sma", "period": 1},
        "line2": {"type": "sma", "period": 2}}
# one trade a minute: the 1m bars close at these prices; sma(1) − sma(2) has the sign of each move, so the
# strategy goes long at 101 (09:33), reverses short at 102 (09:35) and long again at 104 (09:36)
CLOSES = [100, 99, 101, 103, 102, 104]
TRADE_COLUMNS = ["entry_time", "exit_time", "ticker", "side", "qty", "entry_price", "exit_price", "pnl_points", "pnl"]
SUMMARY = ("trades", "net_pnl", "gross_profit", "gross_loss", "win_rate", "profit_factor", "max_drawdown", "sharpe",
           "commission")


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.fixture(scope="module")
def hand(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hand")
    return tmp, minute_closes(tmp / "es.dbn", "ES", CLOSES), data_dir_with(tmp, strategy_config("Cross", "ES", FAST))


def refused(data_dir, data, out, *extra, strategy: str = "Cross") -> str:
    """Run a backtest that must be refused: exit 2, no output folder; its one line on stderr."""
    result = run_cli("backtest", "--data-dir", str(data_dir), "--strategy", strategy, "--data", str(data),
                     "--out", str(out), *extra, timeout=120)
    assert result.returncode == 2, result.stderr
    assert not out.exists()
    return one_line(result.stderr)


def backtest(data_dir, data, out, *extra):
    result = run_cli("backtest", "--data-dir", str(data_dir), "--strategy", "Cross", "--data", str(data),
                     "--out", str(out), *extra, timeout=120)
    assert result.returncode == 0, result.stderr
    return result


def test_round_trips_in_money_net_of_slippage_and_commission_by_hand(hand, tmp_path):
    tmp, data, data_dir = hand
    backtest(data_dir, data, tmp_path / "out", "--commission", "2", "--slippage-ticks", "1")
    trades = rows(tmp_path / "out" / "trades.csv")
    assert list(trades[0]) == TRADE_COLUMNS
    # long 1 at 101 + 1 tick, out at 102 − 1 tick: 0.5 points × $50 − 2 fills × $2
    assert trades[0] == {"entry_time": "2025-05-15T09:33:00.000000-04:00", "exit_time": "2025-05-15T09:35:00.000000-04:00",
                         "ticker": "ES", "side": "long", "qty": "1", "entry_price": "101.25", "exit_price": "101.75",
                         "pnl_points": "0.5", "pnl": "21"}
    # short at 102 − 1 tick, covered at 104 + 1 tick when the last bar closes (09:36): −2.5 × 50 − 4
    assert trades[1] == {"entry_time": "2025-05-15T09:35:00.000000-04:00", "exit_time": "2025-05-15T09:36:00.000000-04:00",
                         "ticker": "ES", "side": "short", "qty": "1", "entry_price": "101.75", "exit_price": "104.25",
                         "pnl_points": "-2.5", "pnl": "-129"}
    assert len(trades) == 2  # the long opened at 09:36 is still open: not a round trip
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert list(summary)[:len(SUMMARY)] == list(SUMMARY)
    assert summary["trades"] == 2 and summary["net_pnl"] == -108 and summary["commission"] == 8
    assert summary["gross_profit"] == 21 and summary["gross_loss"] == -129 and summary["win_rate"] == 0.5
    assert summary["profit_factor"] == pytest.approx(21 / 129, abs=1e-6) and summary["max_drawdown"] == 129
    equity = rows(tmp_path / "out" / "equity.csv")
    assert [r["equity"] for r in equity] == ["0", "21", "-108"]
    assert float(equity[-1]["equity"]) == summary["net_pnl"] == sum(float(t["pnl"]) for t in trades)
    html = (tmp_path / "out" / "report.html").read_text()
    assert "Monthly returns" in html and "<svg" in html and "Trade distribution" in html
    assert "<link" not in html and "src=" not in html  # self-contained: nothing fetched
    distribution = html[html.index("id=distribution"):html.index("id=trades")]
    bars = re.findall(r'<rect class="bar (\w+)"[^>]*><title>(-?)[^<]*</title>', distribution)
    assert sorted(bars) == [("adverse", "-"), ("better", "")]  # the loss in the bad colour, the win in the good


def test_a_tickers_point_value_setting_wins_over_the_table(tmp_path):
    data = minute_closes(tmp_path / "es.dbn", "ES", CLOSES)
    data_dir = data_dir_with(tmp_path, strategy_config("Cross", "ES", FAST, point_value=5))
    backtest(data_dir, data, tmp_path / "out")
    assert [t["pnl"] for t in rows(tmp_path / "out" / "trades.csv")] == ["5", "-10"]  # 1 and −2 points × 5


def test_json_prints_the_summary_as_one_line_and_the_same_inputs_give_the_same_files(tmp_path):
    data = random_walk(tmp_path / "walk.dbn.zst", "NQM5", 20_000, seconds_apart=0.7, zstd=True)
    engine = {"kind": "crossover", "timeframe": "1m", "line1": {"type": "ema", "period": 3},
              "line2": {"type": "sma", "period": 8}}
    data_dir = data_dir_with(tmp_path, strategy_config("Cross", "NQM5", engine))
    args = ("--commission", "0.5", "--slippage-ticks", "1", "--split", "0.7", "--json")
    first = backtest(data_dir, data, tmp_path / "a", *args)
    backtest(data_dir, data, tmp_path / "b", *args)
    line = one_line(first.stdout)
    assert json.loads(line) == json.loads((tmp_path / "a" / "summary.json").read_text())
    for name in ("trades.csv", "equity.csv", "summary.json", "report.html"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    summary = json.loads(line)
    assert summary["trades"] > 10
    trades = rows(tmp_path / "a" / "trades.csv")
    assert all(float(t["pnl"]) == pytest.approx(float(t["pnl_points"]) * float(t["qty"]) * 20 - 2 * float(t["qty"]) * 0.5)
               for t in trades)  # NQ: $20 a point, two fills' commission
    assert summary["in_sample"]["trades"] + summary["out_of_sample"]["trades"] == summary["trades"]


def test_from_and_to_cut_the_period(hand, tmp_path):
    tmp, data, data_dir = hand
    backtest(data_dir, data, tmp_path / "out", "--to", "2025-05-15T09:35:10")
    trades = rows(tmp_path / "out" / "trades.csv")
    assert [t["side"] for t in trades] == ["long"]  # the short opened at 09:35 has no 104 bar to close it


def test_a_sweep_writes_every_combination_best_first_each_row_as_a_single_run_gives(tmp_path):
    data = random_walk(tmp_path / "walk.dbn", "ES", 6_000, seconds_apart=1.0)
    engine = {"kind": "crossover", "timeframe": "1m", "line1": {"type": "ema", "period": 3},
              "line2": {"type": "sma", "period": 8}}
    data_dir = data_dir_with(tmp_path, strategy_config("Cross", "ES", engine))
    backtest(data_dir, data, tmp_path / "sweep", "--sweep", "line1.period=2,3", "--sweep", "line2.period=5,8",
             "--workers", "2", "--commission", "1")
    table = rows(tmp_path / "sweep" / "sweep.csv")
    assert len(table) == 4
    assert {(r["line1.period"], r["line2.period"]) for r in table} == {("2", "5"), ("2", "8"), ("3", "5"), ("3", "8")}
    pnl = [float(r["net_pnl"]) for r in table]
    assert pnl == sorted(pnl, reverse=True)
    for row in (table[0], table[-1]):
        single = json.loads(one_line(backtest(data_dir, data, tmp_path / f"one-{row['line1.period']}-{row['line2.period']}",
                                              "--set", f"line1.period={row['line1.period']}", "--set",
                                              f"line2.period={row['line2.period']}", "--commission", "1",
                                              "--json").stdout))
        for key in SUMMARY:
            assert (float(row[key]) if row[key] else None) == (None if single[key] is None else pytest.approx(single[key])), key
    backtest(data_dir, data, tmp_path / "sweep1", "--sweep", "line1.period=2,3", "--sweep", "line2.period=5,8",
             "--workers", "1", "--commission", "1")
    assert (tmp_path / "sweep1" / "sweep.csv").read_bytes() == (tmp_path / "sweep" / "sweep.csv").read_bytes()


def test_a_search_tries_the_trials_asked_within_the_range(tmp_path):
    data = random_walk(tmp_path / "walk.dbn", "ES", 4_000, seconds_apart=1.0)
    data_dir = data_dir_with(tmp_path, strategy_config("Cross", "ES", FAST))
    backtest(data_dir, data, tmp_path / "s", "--search", "line2.period=2:12", "--trials", "5", "--workers", "1",
             "--split", "0.5")
    table = rows(tmp_path / "s" / "sweep.csv")
    assert len(table) == 5 and all(2 <= int(r["line2.period"]) <= 12 for r in table)
    assert {"is_net_pnl", "oos_net_pnl"} <= set(table[0])
    backtest(data_dir, data, tmp_path / "t", "--search", "line2.period=2:12", "--trials", "5", "--workers", "1",
             "--split", "0.5")
    assert (tmp_path / "t" / "sweep.csv").read_bytes() == (tmp_path / "s" / "sweep.csv").read_bytes()


@pytest.mark.parametrize("args, says", [
    (("--set", "line9.period=3"), "line9.period: unknown engine key"),
    (("--set", "line1.period=0"), "line1: period: must be at least 1"),
    (("--sweep", "line1.period=2,x"), "line1: period"),
    (("--sweep", "nope=1,2"), "nope"),
    (("--search", "line1.period=9:3"), "LOW below HIGH"),
    (("--split", "1.5"), "between 0 and 1"),
    (("--commission", "-1"), "at least 0"),
    (("--from", "yesterday"), "--from 'yesterday' is not an ISO date"),
    (("--ship-data",), "needs --cluster"),
    (("--sweep", "line1.period=2,3", "--cluster", "bogus"), "--cluster 'bogus' is not a Dask scheduler address"),
    (("--sweep", "line1.period=2,3", "--cluster", "tcp://127.0.0.1"), "is not a Dask scheduler address"),
    (("--sweep", "line1.period=2,3", "--cluster", ""), "is not a Dask scheduler address"),
])
def test_a_bad_key_or_value_is_one_line_on_stderr_and_exit_2_with_nothing_written(hand, tmp_path, args, says):
    tmp, data, data_dir = hand
    assert says in refused(data_dir, data, tmp_path / "out", *args)


@pytest.mark.parametrize("which, says", [("missing", "no such file"), ("text", "not a readable DBN file"),
                                         ("other", "has no trades of ES")])
def test_a_bad_file_is_one_line_on_stderr_and_exit_2(hand, tmp_path, which, says):
    _, _, data_dir = hand
    path = tmp_path / "x.dbn"
    if which == "text":
        path.write_text("not dbn")
    elif which == "other":
        minute_closes(path, "NQ", CLOSES)
    result = run_cli("backtest", "--data-dir", str(data_dir), "--strategy", "Cross", "--data", str(path))
    assert result.returncode == 2
    assert says in one_line(result.stderr)


@pytest.mark.parametrize("zstd", [False, True])
@pytest.mark.parametrize("sweep", [(), ("--sweep", "line1.period=1,2", "--workers", "2")])
def test_a_file_cut_off_inside_a_record_is_one_line_and_exit_2_with_nothing_written(hand, tmp_path, zstd, sweep):
    """A half-downloaded file is refused, not backtested as if it ended there."""
    import zstandard

    _, data, data_dir = hand
    cut = data.read_bytes()[:-7]
    path = tmp_path / ("cut.dbn.zst" if zstd else "cut.dbn")
    path.write_bytes(zstandard.ZstdCompressor().compress(cut) if zstd else cut)
    assert "cut off" in refused(data_dir, path, tmp_path / "out", *sweep)


@pytest.mark.parametrize("sweep", [(), ("--sweep", "timeframe=1m,2m", "--workers", "1"),
                                   ("--sweep", "timeframe=1m,2m", "--workers", "2")])
def test_a_strategy_that_cannot_run_is_one_line_and_exit_2_also_in_a_sweep(hand, tmp_path, sweep):
    _, data, _ = hand
    pairs = {"kind": "pairs", "timeframe": "1m"}  # a pair needs a spread ticker: ES alone cannot run
    data_dir = data_dir_with(tmp_path, strategy_config("Pair", "ES", pairs))
    assert "strategy Pair cannot run" in refused(data_dir, data, tmp_path / "out", *sweep, strategy="Pair")


def test_an_unknown_strategy_or_one_without_engine_is_refused(hand, tmp_path):
    _, data, data_dir = hand
    result = run_cli("backtest", "--data-dir", str(data_dir), "--strategy", "Nope", "--data", str(data))
    assert result.returncode == 2 and "no strategy named 'Nope' (engine strategies: Cross)" in one_line(result.stderr)
    plain = data_dir_with(tmp_path, {"strategies": {"Alerts": {"tickers": {"ES": {}}}}})
    result = run_cli("backtest", "--data-dir", str(plain), "--strategy", "Alerts", "--data", str(data))
    assert result.returncode == 2 and "has no engine" in one_line(result.stderr)


def test_tick_bars_over_a_file_of_bars_are_refused_time_bars_are_not(tmp_path):
    from pathlib import Path

    bars = Path(__file__).parents[1] / "data" / "dbn" / "test_data.ohlcv-1m.v3.dbn.zst"
    engine = {"kind": "crossover", "timeframe": "1m", "line1": {"type": "ema", "period": 2},
              "line2": {"type": "sma", "period": 3}}
    data_dir = data_dir_with(tmp_path, strategy_config("Cross", "ESH1", engine))
    assert "holds ohlcv-1m bars: 5t bars need trades (a trades or mbp-1 file)" in refused(
        data_dir, bars, tmp_path / "out", "--sweep", "timeframe=1m,5t")
    result = run_cli("backtest", "--data-dir", str(data_dir), "--strategy", "Cross", "--data", str(bars),
                     "--out", str(tmp_path / "ok"))  # 1m bars from 1m bars: accepted
    assert result.returncode == 0 and (tmp_path / "ok" / "summary.json").exists(), result.stderr
