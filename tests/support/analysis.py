"""Hand-made journal, order and fill rows for the analysis tests, written with the columns the oms writes."""

from __future__ import annotations

from datetime import datetime, timedelta

from station.domain.timeutil import UTC

T0 = datetime(2024, 3, 1, 15, 0, 0, tzinfo=UTC)  # 10:00 US/Eastern


def at(ms: float) -> str:
    """The ISO UTC time `ms` milliseconds after T0."""
    return (T0 + timedelta(milliseconds=ms)).isoformat()


def add_alert(conn, *, ticker="ES", action="buy", qty="1", price="5000", strategy=None, status="routed", reason=None,
              sent=-250.0, received=0.0, committed=2.0, routed=5.0, spread=None, source="webhook") -> int:
    """A journal row; times are ms after T0 (None leaves the time unset)."""
    ticker1, hedge, ticker2 = spread or (None, None, None)
    cursor = conn.execute(
        "INSERT INTO alerts (status, status_reason, strategy, ticker, action, qty, price, source, ticker1, hedge, "
        "ticker2, fingerprint, raw, sent_at, received_at, committed_at, routed_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (status, reason, strategy, ticker, action, qty, price, source, ticker1, hedge, ticker2, "fp",
         '{"ticker": "%s", "note": "raw body"}' % ticker, None if sent is None else at(sent), at(received),
         None if committed is None else at(committed), None if routed is None else at(routed)))
    return cursor.lastrowid


def add_order(conn, coid, *, alert_id=None, strategy="S1", destination="paper", ticker="ES", side="buy", qty="1",
              status="filled", filled="1", avg=None, reason=None, pair_group=None, leg=None, point_value="1",
              price_hint=None, created=5.0, instrument=None, role="entry", parent_id=None) -> None:
    conn.execute(
        "INSERT INTO orders (client_order_id, alert_id, cause, strategy, destination, ticker, instrument, side, qty, "
        "order_type, tif, price_hint, status, filled_qty, avg_price, reason, pair_group, leg, point_value, "
        "created_at, updated_at, role, parent_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'market', 'day', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (coid, alert_id, f"a{alert_id}" if alert_id else "m1", strategy, destination, ticker, instrument, side, qty,
         price_hint, status, filled, avg, reason, pair_group, leg, point_value, at(created), at(created), role,
         parent_id))


def add_fill(conn, coid, *, qty, price, ms, side="buy", ticker="ES", destination="paper", strategy="S1",
             commission="0", pnl="0", fill_id=None) -> None:
    conn.execute(
        "INSERT INTO fills (fill_id, client_order_id, destination, strategy, ticker, side, qty, price, commission, "
        "realized_pnl, time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (fill_id or f"{coid}-{ms}", coid, destination, strategy, ticker, side, qty, price, commission, pnl, at(ms)))


def add_pair(conn, group, *, alert_id, ticker1, hedge, ticker2, side, qty, order_price, strategy="Pairs",
             destination="paper") -> None:
    conn.execute(
        "INSERT INTO pair_groups (pair_group, alert_id, strategy, destination, ticker1, hedge, ticker2, side, qty, "
        "order_price, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (group, alert_id, strategy, destination, ticker1, hedge, ticker2, side, qty, order_price, at(5)))


def add_duplicate(conn, alert_id, ms, ticker="ES") -> None:
    conn.execute("INSERT INTO alert_duplicates (original_alert_id, ticker, received_at) VALUES (?, ?, ?)",
                 (alert_id, ticker, at(ms)))


DAY2 = 2 * 86400 * 1000  # ms: two days after T0


def build_edge_cases(conn) -> dict[str, int]:
    """Every kind of outcome, with figures simple enough to check by hand (see test_analysis.py)."""
    ids = {}
    ids["filled"] = a = add_alert(conn, ticker="ES", qty="2", price="5000", strategy="S1")
    add_order(conn, f"a{a}-S1-paper", alert_id=a, qty="2", filled="2", avg="5000.375", point_value="50")
    add_fill(conn, f"a{a}-S1-paper", qty="1", price="5000.25", ms=20, commission="2.5", pnl="-2.5")
    add_fill(conn, f"a{a}-S1-paper", qty="1", price="5000.5", ms=35, commission="2.5", pnl="-2.5")
    ids["partial"] = a = add_alert(conn, ticker="ES", action="sell", qty="2", price="5010", strategy="S1", sent=None,
                                   received=50, committed=52, routed=55)
    add_order(conn, f"a{a}-S1-paper", alert_id=a, side="sell", qty="2", filled="1", avg="5009.75",
              status="partially_filled", point_value="50")
    add_fill(conn, f"a{a}-S1-paper", side="sell", qty="1", price="5009.75", ms=100, commission="2.5", pnl="466.25")
    ids["unrouted"] = add_alert(conn, ticker="NQ", status="unrouted", reason="no enabled strategy lists ticker NQ")
    ids["order_rejected"] = a = add_alert(conn, ticker="ES", price=None, strategy="S1")
    add_order(conn, f"a{a}-S1-paper", alert_id=a, status="rejected", filled="0", point_value="50",
              reason="no price for ES: no market data and the order carries none")
    ids["queued"] = add_alert(conn, ticker="ES", status="queued", routed=None)
    ids["rejected"] = add_alert(conn, ticker="ES", status="rejected", reason="kill switch engaged (manual)")
    ids["pair"] = a = add_alert(conn, ticker="NMFC-0.72*NASDAQ:ROIC", qty="100", price="1.50", strategy="Pairs",
                                spread=("NMFC", "0.72", "ROIC"), received=1000, committed=1002, routed=1005)
    group = f"a{a}-Pairs-paper"
    add_pair(conn, group, alert_id=a, ticker1="NMFC", hedge="0.72", ticker2="ROIC", side="buy", qty="100",
             order_price="1.50")
    add_order(conn, f"{group}-1", alert_id=a, strategy="Pairs", ticker="NMFC", qty="100", filled="100", avg="11.20",
              pair_group=group, leg="1")
    add_order(conn, f"{group}-2", alert_id=a, strategy="Pairs", ticker="ROIC", side="sell", qty="72", filled="72",
              avg="13.40", pair_group=group, leg="2")
    add_fill(conn, f"{group}-1", ticker="NMFC", strategy="Pairs", qty="100", price="11.20", ms=1040)
    add_fill(conn, f"{group}-2", ticker="ROIC", side="sell", strategy="Pairs", qty="72", price="13.40", ms=1060)
    ids["port"] = a = add_alert(conn, ticker="AAPL", qty="10", price="150", strategy="S2")
    add_order(conn, f"a{a}-S2-port:5001", alert_id=a, strategy="S2", destination="port:5001", ticker="AAPL", qty="10",
              status="submitted", filled="0")
    ids["later"] = a = add_alert(conn, ticker="ES", price="5000", strategy="S2", sent=DAY2 - 100, received=DAY2,
                                 committed=DAY2 + 1, routed=DAY2 + 3)
    add_order(conn, f"a{a}-S2-ib", alert_id=a, strategy="S2", destination="ib", avg="5000", point_value="50",
              created=DAY2 + 3)
    add_fill(conn, f"a{a}-S2-ib", strategy="S2", destination="ib", qty="1", price="5000", ms=DAY2 + 80,
             commission="1.2", pnl="-1.2")
    add_duplicate(conn, a, DAY2 + 500)
    add_duplicate(conn, a, DAY2 + 900)
    add_order(conn, "m1-S1-paper", strategy="S1", side="sell", price_hint="5012", avg="5011", point_value="50",
              created=200)
    add_fill(conn, "m1-S1-paper", side="sell", qty="1", price="5011", ms=210, pnl="100")
    return ids
