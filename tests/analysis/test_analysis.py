"""The alerts-vs-fills report on hand-made rows: every figure checked against a hand computation."""

from __future__ import annotations

import csv
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest

from support.analysis import build_edge_cases
from station.analysis.export import CSV_FILES, run_analysis
from station.analysis.options import AnalysisError, default_out_dir, parse_since, prepare_out_dir
from station.analysis.svg import nice_ticks
from station.analysis.ticks import TickSizes
from station.store import Store
from station.store.config_repo import ConfigRepository

SECTIONS = {"overview", "pnl", "trips", "by-strategy", "by-ticker", "by-destination", "daily", "latency", "slippage",
            "not-traded", "notes"}


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def num(text: str) -> float | None:
    return None if text == "" else float(text)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The edge-case database analysed once for the module (the figures do not change)."""
    base = tmp_path_factory.mktemp("analysis")
    store = Store(base / "data")
    ids = store.writer.call(build_edge_cases)
    try:
        result = run_analysis(store, base / "out")
    finally:
        store.close()
    return result, ids


def by_alert(report_dir: Path) -> dict[int, dict[str, str]]:
    return {int(r["alert_id"]): r for r in rows(report_dir / "alerts.csv")}


def test_every_file_is_written_with_one_row_per_alert_and_per_fill(report):
    result, ids = report
    assert sorted(p.name for p in result.out_dir.iterdir()) == sorted([*CSV_FILES, "report.html"])
    assert set(by_alert(result.out_dir)) == set(ids.values())
    assert len(rows(result.out_dir / "fills.csv")) == 7


def test_filled_alert_latency_chain_and_slippage(report):
    result, ids = report
    row = by_alert(result.out_dir)[ids["filled"]]
    # buy 2 ES at 5000: fills 1 @ 5000.25 and 1 @ 5000.50 (ES tick 0.25, point value 50)
    assert row["outcome"] == "filled" and num(row["fill_ratio"]) == 1.0
    assert num(row["avg_fill_price"]) == 5000.375
    assert num(row["slippage"]) == 0.375 and num(row["slippage_ticks"]) == 1.5
    assert num(row["slippage_bps"]) == pytest.approx(0.375 / 5000 * 1e4)
    assert num(row["slippage_cost"]) == pytest.approx(0.25 * 50 + 0.5 * 50)
    assert (num(row["tv_to_received_ms"]), num(row["received_to_committed_ms"]), num(row["committed_to_routed_ms"]),
            num(row["routed_to_first_fill_ms"]), num(row["received_to_first_fill_ms"])) == (250, 2, 3, 15, 20)
    assert num(row["commission"]) == 5.0 and num(row["realized_pnl"]) == -5.0
    assert row["received_at"] == "2024-03-01T10:00:00.000-05:00"  # stored UTC, shown US/Eastern


def test_partial_fill_of_a_sell_is_adverse_below_the_alert_price(report):
    result, ids = report
    row = by_alert(result.out_dir)[ids["partial"]]
    assert row["outcome"] == "partially filled" and num(row["fill_ratio"]) == 0.5
    assert num(row["slippage"]) == 0.25 and num(row["slippage_ticks"]) == 1.0  # sold 5009.75 against 5010
    assert num(row["slippage_bps"]) == pytest.approx(0.25 / 5010 * 1e4)
    assert row["tv_to_received_ms"] == "" and num(row["received_to_first_fill_ms"]) == 50


def test_pair_slippage_is_the_spread_against_the_alert_spread_price(report):
    result, ids = report
    row = by_alert(result.out_dir)[ids["pair"]]
    spread = 11.20 - 0.72 * 13.40  # 1.552
    assert num(row["avg_fill_price"]) == pytest.approx(spread)
    assert num(row["slippage"]) == pytest.approx(spread - 1.50)  # bought the spread above 1.50: adverse
    assert num(row["slippage_ticks"]) == pytest.approx((spread - 1.50) / 0.01)
    assert num(row["slippage_bps"]) == pytest.approx((spread - 1.50) / (11.20 + 0.72 * 13.40) * 1e4)
    legs = [r for r in rows(result.out_dir / "fills.csv") if r["pair_group"]]
    assert {r["leg"] for r in legs} == {"1", "2"} and all(r["slippage"] == "" for r in legs)


def test_alerts_that_did_not_trade_keep_their_reasons(report):
    result, ids = report
    alerts = by_alert(result.out_dir)
    assert alerts[ids["unrouted"]]["outcome"] == "unrouted"
    assert alerts[ids["unrouted"]]["status_reason"] == "no enabled strategy lists ticker NQ"
    assert alerts[ids["rejected"]]["status_reason"] == "kill switch engaged (manual)"
    assert alerts[ids["order_rejected"]]["outcome"] == "orders rejected"
    assert alerts[ids["order_rejected"]]["order_reasons"].startswith("no price for ES")
    assert alerts[ids["queued"]]["outcome"] == "queued" and alerts[ids["queued"]]["routed_at"] == ""
    assert alerts[ids["port"]]["outcome"] == "sent" and alerts[ids["port"]]["fill_ratio"] == ""
    assert alerts[ids["unrouted"]]["orders"] == "0" and alerts[ids["unrouted"]]["fills"] == "0"


def test_duplicates_avoided_are_counted_per_alert(report):
    result, ids = report
    assert by_alert(result.out_dir)[ids["later"]]["duplicates"] == "2"
    assert result.figures["duplicates_avoided"] == 2


def test_fills_carry_their_alert_and_the_equity_curve(report):
    result, ids = report
    fills = rows(result.out_dir / "fills.csv")
    manual = next(r for r in fills if r["client_order_id"] == "m1-S1-paper")
    assert manual["alert_id"] == "" and num(manual["reference_price"]) == 5012  # no alert: the order's own price
    assert num(manual["slippage"]) == 1.0 and num(manual["slippage_ticks"]) == 4 and num(manual["slippage_cost"]) == 50
    first = fills[0]
    assert int(first["alert_id"]) == ids["filled"] and num(first["latency_ms"]) == 20
    assert [num(r["cumulative_pnl"]) for r in fills] == pytest.approx(
        [-2.5, -5.0, 461.25, 561.25, 561.25, 561.25, 560.05])


def test_summaries_per_strategy_destination_ticker_and_day(report):
    result, _ = report
    strategy = {r["strategy"]: r for r in rows(result.out_dir / "summary_by_strategy.csv")}
    s1 = strategy["S1"]  # the filled, partial and order-rejected alerts, plus the manual order
    assert (s1["alerts"], s1["orders"], s1["fills"], s1["orders_rejected"]) == ("3", "4", "4", "1")
    assert num(s1["fill_rate"]) == pytest.approx((1 + 0.5 + 0 + 1) / 4)
    assert num(s1["realized_pnl"]) == pytest.approx(-2.5 - 2.5 + 466.25 + 100)
    assert num(s1["commission"]) == 7.5 and num(s1["slippage_cost"]) == pytest.approx(12.5 + 25 + 12.5 + 50)
    assert num(s1["slippage_median_ticks"]) == 1.5 and num(s1["slippage_mean_ticks"]) == 2.0  # 1, 2, 1, 4
    assert strategy["(none)"]["alerts"] == "3"  # unrouted, queued, kill-switch rejected
    destination = {r["destination"]: r for r in rows(result.out_dir / "summary_by_destination.csv")}
    assert destination["port:5001"]["fill_rate"] == "" and destination["ib"]["duplicates_avoided"] == "2"
    ticker = {r["ticker"]: r for r in rows(result.out_dir / "summary_by_ticker.csv")}
    assert num(ticker["ES"]["slippage_median"]) == 0.25  # price units per ticker: 0.25, 0.5, 0.25, 1, 0
    assert ticker["NQ"]["unrouted"] == "1"
    daily = rows(result.out_dir / "daily.csv")
    assert [d["day"] for d in daily] == ["2024-03-01", "2024-03-03"]
    assert [num(d["cumulative_pnl"]) for d in daily] == pytest.approx([561.25, 560.05])
    assert num(daily[1]["fill_latency_median_ms"]) == 80


def test_overview_figures(report):
    result, _ = report
    f = result.figures
    assert (f["alerts"], f["routed"], f["unrouted"], f["rejected"], f["queued"]) == (9, 6, 1, 1, 1)
    assert (f["orders"], f["fills"], f["alerts_filled"]) == (8, 7, 3)
    assert f["realized_pnl"] == pytest.approx(560.05) and f["commission"] == pytest.approx(8.7)
    assert f["fill_latency_median_ms"] == pytest.approx(45.0)  # 20, 40, 50, 80
    assert "Report written to" in result.summary_lines()[0]


class PageChecker(HTMLParser):
    """Checks the page nests properly and collects section ids, tags and anything that would load from outside."""

    VOID = {"meta", "br", "hr", "img", "input", "link", "line", "rect", "polyline", "path", "circle"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.sections: set[str] = set()
        self.tags: dict[str, int] = {}
        self.external: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        attrs = dict(attrs)
        if tag == "section":
            self.sections.add(attrs.get("id"))
        for name in ("src", "href"):
            if attrs.get(name) and not attrs[name].startswith("#"):
                self.external.append(attrs[name])
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()


def test_html_page_is_well_formed_self_contained_and_has_every_section(report):
    result, _ = report
    text = result.html.read_text(encoding="utf-8")
    page = PageChecker()
    page.feed(text)
    page.close()
    assert page.stack == [] and page.sections == SECTIONS
    assert page.external == [] and "script" not in page.tags and "<link" not in text and "url(" not in text
    assert page.tags["svg"] == 3 and page.tags["table"] >= 7
    assert "prefers-color-scheme:dark" in text
    for reason in ("no enabled strategy lists ticker NQ", "kill switch engaged (manual)", "no price for ES"):
        assert reason in text


def test_no_raw_alert_body_reaches_any_export(report):
    result, _ = report
    for path in result.out_dir.iterdir():
        text = path.read_text(encoding="utf-8")
        assert "raw body" not in text and "fingerprint" not in text


def test_an_empty_database_gives_an_empty_but_complete_report(tmp_path):
    store = Store(tmp_path / "data")
    try:
        result = run_analysis(store, tmp_path / "out")
    finally:
        store.close()
    assert rows(result.out_dir / "alerts.csv") == [] and rows(result.out_dir / "fills.csv") == []
    assert (result.out_dir / "daily.csv").read_text().startswith("day,alerts,")
    assert result.figures["alerts"] == 0 and result.figures["realized_pnl"] == 0
    page = PageChecker()
    page.feed(result.html.read_text(encoding="utf-8"))
    assert page.sections == SECTIONS and "No fills yet." in result.html.read_text()
    assert any("n/a" in line for line in result.summary_lines())


def test_routed_alerts_without_any_fill(tmp_path):
    from support.analysis import add_alert, add_order

    store = Store(tmp_path / "data")

    def build(conn):
        a = add_alert(conn, ticker="ES", strategy="S1")
        add_order(conn, f"a{a}-S1-paper", alert_id=a, status="working", filled="0")
        b = add_alert(conn, ticker="ES", strategy="S1")
        add_order(conn, f"a{b}-S1-paper", alert_id=b, status="cancelled", filled="0", reason="cancelled")

    store.writer.call(build)
    try:
        result = run_analysis(store, tmp_path / "out")
    finally:
        store.close()
    assert [r["outcome"] for r in rows(result.out_dir / "alerts.csv")] == ["working", "not filled"]
    assert result.figures["fills"] == 0 and result.figures["fill_rate"] == 0.0


def test_since_keeps_alerts_received_from_then_and_their_orders_and_fills(tmp_path):
    store = Store(tmp_path / "data")
    ids = store.writer.call(build_edge_cases)
    try:
        result = run_analysis(store, tmp_path / "out", since=parse_since("2024-03-02"))
    finally:
        store.close()
    assert [int(r["alert_id"]) for r in rows(result.out_dir / "alerts.csv")] == [ids["later"]]
    assert [r["client_order_id"] for r in rows(result.out_dir / "fills.csv")] == [f"a{ids['later']}-S2-ib"]
    assert "alerts received since 2024-03-02 00:00:00.000 ET" in result.html.read_text()


def test_since_after_every_alert_gives_an_empty_report_not_an_error(tmp_path):
    store = Store(tmp_path / "data")
    store.writer.call(build_edge_cases)
    try:
        result = run_analysis(store, tmp_path / "out", since=parse_since("2999-01-01"))
    finally:
        store.close()
    assert rows(result.out_dir / "alerts.csv") == [] and rows(result.out_dir / "fills.csv") == []
    assert result.figures["alerts"] == 0


def test_parse_since_reads_dates_and_times_in_eastern_unless_zoned():
    assert parse_since("2024-03-01") == datetime(2024, 3, 1, 5, 0, tzinfo=timezone.utc)
    assert parse_since("2024-07-01T09:30") == datetime(2024, 7, 1, 13, 30, tzinfo=timezone.utc)  # EDT
    assert parse_since("2024-03-01T12:00:00Z") == datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc)
    for bad in ("yesterday", "2024-13-01", "", "01/03/2024"):
        with pytest.raises(AnalysisError, match="not an ISO date"):
            parse_since(bad)


def test_output_folder_checks(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(AnalysisError, match="cannot create output folder"):
        prepare_out_dir(blocker / "sub")
    with pytest.raises(AnalysisError):
        prepare_out_dir(blocker)
    first = default_out_dir(tmp_path, datetime(2024, 3, 1, 15, 0, tzinfo=timezone.utc))
    assert first == tmp_path / "exports" / "analysis-20240301-100000"
    prepare_out_dir(first)
    assert default_out_dir(tmp_path, datetime(2024, 3, 1, 15, 0, tzinfo=timezone.utc)).name == "analysis-20240301-100000-2"


def test_tick_sizes_from_the_config_then_known_futures_then_a_cent(tmp_path):
    store = Store(tmp_path / "data")
    try:
        ConfigRepository(store).import_document({"strategies": {"S": {"tickers": {
            "MES": {"tick_size": 0.5}, "AAPL": {}}}}})
        ticks = TickSizes.from_config(ConfigRepository(store).load())
    finally:
        store.close()
    assert ticks.size("MES") == 0.5  # the config wins
    assert ticks.size("ESZ6") == 0.25 and ticks.size("NQ1!") == 0.25 and ticks.size("MGC", "MGC 12-26") == 0.1
    assert ticks.size("ES", None, 50) == 0.25 and ticks.size("ES") == 0.01  # a bare ES with point value 1: the stock
    assert ticks.size("AAPL") == 0.01


def test_nice_ticks():
    assert nice_ticks(0, 100, 5) == [0, 20, 40, 60, 80, 100]
    assert nice_ticks(-3, 7, 5) == [-4, -2, 0, 2, 4, 6, 8]
    assert nice_ticks(0, 1, 4, integer=True) == [0, 1]


def test_skipped_duplicates_are_recorded_for_the_report(tmp_path):
    from dataclasses import dataclass

    from station.store.duplicates_repo import DuplicateLog

    @dataclass(frozen=True)
    class Skipped:  # the shape of the webhook's AlertDuplicated
        original_alert_id: int
        ticker: str
        received_at: datetime

    store = Store(tmp_path / "data")
    duplicates = DuplicateLog(store)
    duplicates.on_duplicated(Skipped(7, "ES", datetime(2024, 3, 1, 15, 0, tzinfo=timezone.utc)))
    store.writer.call(lambda conn: None)  # committed with or before this job
    assert [tuple(r) for r in store.query("SELECT original_alert_id, ticker, received_at FROM alert_duplicates")] == [
        (7, "ES", "2024-03-01T15:00:00+00:00")]
    store.close()
    duplicates.on_duplicated(Skipped(7, "ES", datetime(2024, 3, 1, 15, 0, 5, tzinfo=timezone.utc)))  # no raise


def test_an_alert_for_every_strategy_counts_under_each_and_a_half_filled_pair_has_no_spread(tmp_path):
    from support.analysis import add_alert, add_order, add_pair

    store = Store(tmp_path / "data")

    def build(conn):
        a = add_alert(conn, ticker="ES")  # no strategy of its own: routed to both that list ES
        add_order(conn, f"a{a}-S1-paper", alert_id=a, strategy="S1", avg="5000")
        add_order(conn, f"a{a}-S2-ib", alert_id=a, strategy="S2", destination="ib", avg="5000")
        p = add_alert(conn, ticker="KO-1*PEP", qty="10", price="-100", strategy="Pairs", spread=("KO", "1", "PEP"))
        add_pair(conn, f"a{p}-Pairs-paper", alert_id=p, ticker1="KO", hedge="1", ticker2="PEP", side="sell", qty="10",
                 order_price="-100")
        add_order(conn, f"a{p}-Pairs-paper-1", alert_id=p, strategy="Pairs", ticker="KO", side="sell", qty="10",
                  filled="10", avg="60", pair_group=f"a{p}-Pairs-paper", leg="1")
        add_order(conn, f"a{p}-Pairs-paper-2", alert_id=p, strategy="Pairs", ticker="PEP", qty="10", filled="0",
                  status="working", pair_group=f"a{p}-Pairs-paper", leg="2")
        return a, p

    alert, pair = store.writer.call(build)
    try:
        result = run_analysis(store, tmp_path / "out")
    finally:
        store.close()
    strategy = {r["strategy"]: r for r in rows(result.out_dir / "summary_by_strategy.csv")}
    assert strategy["S1"]["alerts"] == strategy["S2"]["alerts"] == "1"
    alerts = by_alert(result.out_dir)
    assert alerts[alert]["destinations"] == "ib;paper" and alerts[alert]["order_statuses"] == "filled:2"
    assert alerts[pair]["outcome"] == "partially filled" and alerts[pair]["slippage"] == ""


def test_a_bracketed_alert_is_judged_by_its_entry_and_its_exits_count_in_its_pnl(tmp_path):
    from support.analysis import add_alert, add_fill, add_order

    store = Store(tmp_path / "data")

    def build(conn):
        a = add_alert(conn, ticker="ES", strategy="S1", qty="2", price="5000")
        entry = f"a{a}-S1-paper"
        add_order(conn, entry, alert_id=a, qty="2", filled="2", avg="5000.5", point_value="50")
        add_fill(conn, entry, qty="2", price="5000.5", ms=40, commission="1")
        add_order(conn, f"{entry}-tp", alert_id=a, side="sell", qty="2", filled="2", avg="5004.5", point_value="50",
                  role="target", parent_id=entry, created=41)
        add_fill(conn, f"{entry}-tp", side="sell", qty="2", price="5004.5", ms=900, commission="1", pnl="399")
        add_order(conn, f"{entry}-sl", alert_id=a, side="sell", qty="2", status="cancelled", filled="0",
                  point_value="50", role="stop", parent_id=entry, created=41)
        return a

    alert_id = store.writer.call(build)
    try:
        result = run_analysis(store, tmp_path / "out")
    finally:
        store.close()
    row = by_alert(result.out_dir)[alert_id]
    assert (row["outcome"], num(row["ordered_qty"]), num(row["filled_qty"]), num(row["fill_ratio"])) == (
        "filled", 2.0, 2.0, 1.0)
    assert int(row["orders"]) == 1 and int(row["fills"]) == 1  # the entry: what the alert asked for
    assert num(row["slippage"]) == 0.5 and num(row["avg_fill_price"]) == 5000.5  # the target's price is not slippage
    # the trade's money: the target's 4 points on 2 ES at 50 a point, less its commission (as the book records it)
    assert num(row["realized_pnl"]) == pytest.approx(4 * 2 * 50 - 1) and num(row["commission"]) == 2.0
