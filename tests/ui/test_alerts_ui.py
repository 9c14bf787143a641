"""The Alerts dock and the webhook dialogs, offscreen with a real Station, server and journal."""

import re
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication

from support.launch import free_port, run_with_window
from support.wait import until
from station.app import Options, Station
from station.domain.alert import Alert
from station.domain.enums import Side
from station.domain.events import AlertReceived, AlertRejected, AlertRouted, AlertUnrouted
from station.domain.timeutil import utc_now
from station.ui.launch import dock_context
from station.web.tradingview.payload import decode_body, parse_alert
from support.webhook import CONFIG, DIALECT_1, DIALECT_3, PASSPHRASE, post, rows


@pytest.fixture(autouse=True)
def dark_theme(qapp):
    from station.ui.theme import apply_theme

    apply_theme(qapp)


def scenario_with_window(secrets, data_dir, body, *, passphrase=PASSPHRASE, route=True, before=None):
    """Run `body(station, window)` on the qasync loop with a started Station and its window
    (`route=False`: the router leaves alerts queued, to see what the dock makes of queued rows;
    `before(station)`: runs once Station has started, before the window opens)."""
    if passphrase is not None:
        secrets.set("webhook-passphrase", passphrase)

    def hold_alerts(station):
        station.oms.router.on_alert = lambda alert: None

    return run_with_window(secrets, data_dir, body, CONFIG, prepare=None if route else hold_alerts, before=before)

def shown(dock, role=Qt.DisplayRole) -> list[dict]:
    proxy = dock.proxy
    titles = [c.title for c in dock.model.columns]
    return [{t: proxy.data(proxy.index(r, c), role) for c, t in enumerate(titles)} for r in range(proxy.rowCount())]


def test_dock_lists_alerts_live_with_their_status_and_a_notice_when_unrouted(qtbot, secrets, data_dir, tmp_path):
    async def body(station, window):
        await post(station, DIALECT_1, path="/webhook/MomentumStrategy")
        await post(station, {**DIALECT_3, "symbol": "TSLA"})
        await post(station, {**DIALECT_3, "symbol": "NQ"})
        await post(station, {**DIALECT_3, "symbol": "NQ"})  # duplicate
        station.bus.publish(AlertRouted(1, ("a1-MomentumStrategy-paper",)))
        station.bus.publish(AlertUnrouted(3, "no enabled strategy lists NQ"))
        station.bus.publish(AlertRejected(2, "kill switch engaged"))
        dock = window.dock_widget("AlertsDock")
        await until(lambda: [r["Status"] for r in shown(dock)] == ["duplicate", "unrouted", "rejected", "routed"]
                    and "not routed" in window.status.currentMessage(), what="the four statuses and the notice")
        dock.grab().save(str(tmp_path / "alerts_dock.png"))
        return dock, shown(dock), window.status.currentMessage(), shown(dock, Qt.ToolTipRole)

    dock, table, message, tips = scenario_with_window(secrets, data_dir, body)
    assert [(r["#"], r["Ticker"], r["Status"]) for r in table] == [
        ("", "NQ", "duplicate"), ("3", "NQ", "unrouted"), ("2", "TSLA", "rejected"), ("1", "AAPL", "routed")]
    assert table[3]["Strategy"] == "MomentumStrategy" and table[3]["Side"] == "BUY" and table[3]["Qty"] == "10"
    assert table[3]["Price"] == "150.25" and table[3]["Detail"].startswith("1 order")
    assert "a1-MomentumStrategy-" in tips[3]["Detail"]  # the order's id, in full, in the tooltip
    assert table[0]["Detail"] == "duplicate of #3, skipped" and table[2]["Detail"] == "kill switch engaged"
    assert re.fullmatch(r"\d\d:\d\d:\d\d", table[0]["Time (ET)"])
    assert "not routed" in message and "NQ" in message
    assert (tmp_path / "alerts_dock.png").stat().st_size > 3000


def test_filter_search_and_rows_from_the_journal_at_start(qtbot, secrets, data_dir):
    async def first(station, window):
        for symbol in ("ES", "NQ", "CL"):
            await post(station, {**DIALECT_3, "symbol": symbol})
        station.store.writer.call(lambda c: c.execute(
            "UPDATE alerts SET status = 'unrouted', status_reason = 'no strategy' WHERE ticker = 'NQ'"))

    async def second(station, window):
        dock = window.dock_widget("AlertsDock")
        at_start = [(r["Ticker"], r["Status"]) for r in shown(dock)]
        dock.status_filter.setCurrentText("unrouted")
        unrouted = [r["Ticker"] for r in shown(dock)]
        dock.status_filter.setCurrentText("All statuses")
        dock.search.setText("cl")
        searched = [r["Ticker"] for r in shown(dock)]
        return at_start, unrouted, searched, dock.count.text()

    scenario_with_window(secrets, data_dir, first, route=False)
    at_start, unrouted, searched, count = scenario_with_window(secrets, data_dir, second, route=False)
    assert at_start == [("CL", "queued"), ("NQ", "unrouted"), ("ES", "queued")]
    assert unrouted == ["NQ"] and searched == ["CL"] and count == "1 of 3 alerts"


def statuses(dock) -> dict[str, tuple[str, str]]:
    return {r["Ticker"]: (r["Status"], r["Detail"]) for r in shown(dock)}


def test_statuses_decided_before_the_window_opened_are_read_from_the_journal(qtbot, secrets, data_dir):
    async def before(station):  # routed and unrouted while no window listens
        await post(station, DIALECT_1)
        await post(station, {**DIALECT_3, "symbol": "NQ"})
        await until(lambda: [r["status"] for r in rows(station)] == ["routed", "unrouted"], what="both decided")

    async def body(station, window):
        return statuses(window.dock_widget("AlertsDock"))  # at once: nothing to wait for

    table = scenario_with_window(secrets, data_dir, body, before=before)
    assert table["AAPL"][0] == "routed" and table["NQ"] == ("unrouted", "no enabled strategy lists ticker NQ")


def test_alerts_left_queued_by_a_restart_show_their_status_once_routed(qtbot, secrets, data_dir):
    async def first(station, window):
        await post(station, DIALECT_1)
        await post(station, {**DIALECT_3, "symbol": "NQ"})
        dock = window.dock_widget("AlertsDock")
        return await until(lambda: len(statuses(dock)) == 2 and statuses(dock), what="both alerts shown")

    async def second(station, window):  # the router resumes the queued alerts as Station starts
        dock = window.dock_widget("AlertsDock")
        return await until(lambda: (s := statuses(dock)) and all(v[0] != "queued" for v in s.values()) and s,
                           what="both alerts decided")

    before_restart = scenario_with_window(secrets, data_dir, first, route=False)
    after_restart = scenario_with_window(secrets, data_dir, second)
    assert {t: v[0] for t, v in before_restart.items()} == {"AAPL": "queued", "NQ": "queued"}
    assert after_restart["AAPL"][0] == "routed" and after_restart["NQ"][0] == "unrouted"


def test_after_a_restart_routed_alerts_still_name_their_orders_and_strategy(qtbot, secrets, data_dir):
    async def first(station, window):
        await post(station, DIALECT_1)  # no strategy named: it goes to every strategy listing AAPL
        dock = window.dock_widget("AlertsDock")
        return await until(lambda: (r := shown(dock)) and r[0]["Status"] == "routed" and r[0], what="routed")

    async def second(station, window):
        return shown(window.dock_widget("AlertsDock"))[0]  # at once, from the journal and the orders

    live = scenario_with_window(secrets, data_dir, first)
    again = scenario_with_window(secrets, data_dir, second)
    assert live["Strategy"] == again["Strategy"] == "MomentumStrategy"
    assert live["Detail"] == again["Detail"] == "1 order → port:5000"


def test_the_dock_follows_statuses_from_events_only(qtbot, secrets, data_dir):
    """One read of the journal when the dock opens; then events, in whatever order their batches come."""
    station = Station(Options(data_dir=data_dir, port=free_port()), secrets)
    context = dock_context(station)
    reads = []

    class CountedJournal:
        def latest_alerts(self, limit):
            reads.append(limit)
            return context.queries.alerts.latest_alerts(limit)

    from dataclasses import replace

    from station.ui.alerts_dock import AlertsDock

    dock = AlertsDock(replace(context, queries=replace(context.queries, alerts=CountedJournal())))
    qtbot.addWidget(dock)
    alert = Alert(ticker="ES", action=Side.BUY, received_at=utc_now(), alert_id=7, qty=Decimal(1))
    dock.on_statuses([AlertRouted(7, ("a7-S-paper",))])  # its batch came before the alert's
    dock.on_received([AlertReceived(alert)])
    routed = statuses(dock)["ES"]
    dock.on_received([AlertReceived(alert)])  # a late copy of the arrival does not undo the status
    assert routed == statuses(dock)["ES"] == ("routed", "1 order: a7-S-paper")
    dock.on_statuses([AlertRejected(8, "kill switch engaged")])  # an alert the dock never shows: nothing breaks
    assert reads == [500] and not [t for t in dock.findChildren(QTimer) if t.isActive()]  # no polling
    context.bridge.close()
    station.store.close()


def test_a_flood_is_capped_and_batched(qtbot, secrets, data_dir):
    from station.ui import alerts_dock

    async def body(station, window):
        dock = window.dock_widget("AlertsDock")
        inserted = []
        dock.model.rowsInserted.connect(lambda *a: inserted.append(1))
        now = utc_now()
        for i in range(alerts_dock.CAP + 250):
            station.bus.publish(AlertReceived(Alert(ticker="ES", action=Side.BUY, received_at=now, alert_id=i + 1,
                                                    qty=Decimal(1))))
        await until(lambda: dock.model.rowCount() == alerts_dock.CAP, what="the capped table")
        return dock.model.rowCount(), dock.model.record(0).alert_id, len(inserted)

    count, newest, inserts = scenario_with_window(secrets, data_dir, body)
    assert count == alerts_dock.CAP and newest == alerts_dock.CAP + 250
    assert inserts <= 3  # one insert per bridge tick, not one per alert


def test_setup_dialog_opens_by_itself_when_the_passphrase_was_just_created(qtbot, secrets, data_dir):
    async def body(station, window):
        dock = window.dock_widget("AlertsDock")
        setup = await until(lambda: getattr(dock, "_setup", None), what="the setup dialog")
        await setup.loading
        return station.webhook.passphrase_created, setup.dialog.isVisible(), setup.notice.isVisible(), \
            setup.passphrase.text() == station.webhook.passphrase.reveal()

    assert scenario_with_window(secrets, data_dir, body, passphrase=None) == (True, True, True, True)


def test_setup_dialog_urls_passphrase_messages_and_test_alert(qtbot, secrets, data_dir, tmp_path):
    from station.ui.tradingview_setup import DIALECTS, TradingViewSetup

    async def body(station, window):
        setup = TradingViewSetup(window.context, window)
        qtbot.addWidget(setup.dialog)
        await setup.show()
        out = {"local": setup.local_url.text(), "public_empty": setup.webhook_url.text()}
        setup.strategy.setCurrentText("MomentumStrategy")
        out["local_strategy"] = setup.local_url.text()
        setup.public_url.setText("not a url")
        out["bad_public"] = await setup.save_public_url()
        setup.public_url.setText("https://abc.trycloudflare.com/")
        out["good_public"] = await setup.save_public_url()
        out["webhook_url"] = setup.webhook_url.text()
        out["saved"] = station.config.settings("webhook")["public_url"]
        out["masked"] = PASSPHRASE not in setup.message.toPlainText()
        out["messages"] = {}
        for index in range(setup.dialect.count()):
            setup.dialect.setCurrentIndex(index)
            out["messages"][setup.dialect.currentData()] = setup.message_text(reveal=True)
        child = setup.dialog.findChild
        from PySide6.QtWidgets import QPushButton
        child(QPushButton, "copyPassphrase").click()
        out["clipboard"] = QGuiApplication.clipboard().text()
        out["test"] = await setup.send_test_alert()
        out["rows"] = rows(station)
        setup.dialog.grab().save(str(tmp_path / "setup.png"))
        old = PASSPHRASE
        out["regenerated"] = await setup.regenerate()
        out["new_passphrase"] = setup.passphrase.text()
        out["old_refused"] = (await post(station, DIALECT_1, passphrase=old))[0]
        return out

    out = scenario_with_window(secrets, data_dir, body)
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/webhook", out["local"]) and out["public_empty"] == ""
    assert out["local_strategy"] == out["local"] + "/MomentumStrategy"
    assert out["bad_public"] is False and out["good_public"] is True
    assert out["webhook_url"] == "https://abc.trycloudflare.com/webhook/MomentumStrategy"
    assert out["saved"] == "https://abc.trycloudflare.com/" and out["masked"]
    assert out["clipboard"] == PASSPHRASE
    assert set(out["messages"]) == set(DIALECTS)
    for dialect, message in out["messages"].items():  # as TradingView fills the placeholders
        filled = re.sub(r"\{\{[^}]+\}\}", lambda m: {"{{ticker}}": "AAPL", "{{strategy.order.action}}": "buy",
                        "{{timenow}}": "2024-01-04T15:30:00Z"}.get(
                            m.group(0), "flat" if m.group(0).endswith("position}}") else "1"), message)
        decoded = decode_body(filled.encode())
        assert decoded.passphrase == PASSPHRASE
        assert parse_alert(decoded.fields, received_at=utc_now()).dialect == dialect
    # the test alert names a ticker the strategy lists, and is followed to its routing
    assert "Alert queued" in out["test"] and "routed: 1 order" in out["test"] and out["rows"][-1]["ticker"] == "AAPL"
    assert out["regenerated"] and out["new_passphrase"] != PASSPHRASE and out["old_refused"] == 401
    assert (tmp_path / "setup.png").stat().st_size > 5000


def test_settings_dialog_saves_applies_and_reports_errors(qtbot, secrets, data_dir, tmp_path):
    from station.ui.webhook_settings import WebhookSettings

    async def body(station, window):
        settings = WebhookSettings(window.context, window)
        qtbot.addWidget(settings.dialog)
        out = {"preset": settings.preset.currentText(), "dedup": settings.dedup_window.value()}
        settings.preset.setCurrentText("0SPX: 50 per hour, 200 per day")
        out["preset_text"] = settings.rate_limits.text()
        settings.rate_limits.setText("5 per fortnight")
        out["bad_saved"] = await settings.save()
        out["error"] = settings.errors.text()
        out["unchanged"] = station.config.settings("webhook")["rate_limits"]
        settings.rate_limits.setText("2 per minute")
        settings.dedup_window.setValue(12.5)
        settings.behind_tunnel.setChecked(True)
        settings.dialog.findChild(__import__("PySide6.QtWidgets").QtWidgets.QPushButton, "tradingviewAddresses").click()
        settings.dialog.grab().save(str(tmp_path / "settings.png"))
        out["good_saved"] = await settings.save()
        out["stored"] = station.config.settings("webhook")
        out["statuses"] = [(await post(station, {**DIALECT_1, "trade_id": f"t{i}"},
                                       headers={"X-Forwarded-For": "52.89.214.238"}))[0] for i in range(3)]
        return out

    out = scenario_with_window(secrets, data_dir, body)
    assert out["preset"].startswith("Flood guard") and out["dedup"] == 30
    assert out["preset_text"] == "50 per hour, 200 per day"
    assert out["bad_saved"] is False and "rate_limits" in out["error"] and out["unchanged"] == ["50 per second"]
    stored = out["stored"]
    assert out["good_saved"] is True and stored["rate_limits"] == ["2 per minute"] and stored["dedup_window_s"] == 12.5
    assert stored["behind_tunnel"] is True and "52.89.214.238/32" in stored["allowlist"]
    assert out["statuses"] == [200, 200, 429]  # applied at once


def test_the_webhook_menu_opens_both_dialogs(qtbot, secrets, data_dir):
    async def body(station, window):
        menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Webhook")
        for action in menu.actions():
            action.trigger()
        dock = window.dock_widget("AlertsDock")
        titles = [a.text() for a in window.menuBar().actions()]
        return dock._setup.dialog.isVisible(), dock._settings.dialog.isVisible(), titles

    setup_open, settings_open, titles = scenario_with_window(secrets, data_dir, body)
    assert setup_open and settings_open and titles.index("&Webhook") == titles.index("&Help") - 1
