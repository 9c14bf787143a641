"""The Alerts dock's `refused` rows (live and from the record at start, a switch to hide them) and the Help menu."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices

from support.launch import run_with_window
from support.wait import until
from support.webhook import CONFIG, DIALECT_1, PASSPHRASE, post


@pytest.fixture(autouse=True)
def dark_theme(qapp):
    from station.ui.theme import apply_theme

    apply_theme(qapp)


def with_window(secrets, data_dir, body, before=None):
    secrets.set("webhook-passphrase", PASSPHRASE)
    return run_with_window(secrets, data_dir, body, CONFIG, before=before, timeout=60)

def shown(dock) -> list[dict]:
    proxy = dock.proxy
    titles = [c.title for c in dock.model.columns]
    return [{t: proxy.data(proxy.index(r, c)) for c, t in enumerate(titles)} for r in range(proxy.rowCount())]


def test_refused_requests_are_rows_with_their_reason_and_a_switch_hides_them(qtbot, secrets, data_dir):
    async def body(station, window):
        dock = window.dock_widget("AlertsDock")
        for _ in range(3):
            assert (await post(station, DIALECT_1, passphrase="not it"))[0] == 401
        assert (await post(station, DIALECT_1, path="/webhook/Nobody"))[0] == 404
        assert (await post(station, {**DIALECT_1, "trade_id": "ok-1"}))[0] == 200
        await until(lambda: len(shown(dock)) == 3, what="two refused rows and the alert")
        out = {"all": shown(dock), "notice": window.status.currentMessage()}
        dock.show_refused.setChecked(False)
        out["hidden"] = [r["Status"] for r in shown(dock)]
        dock.show_refused.setChecked(True)
        dock.status_filter.setCurrentText("refused")
        out["only"] = [r["Status"] for r in shown(dock)]
        return out

    out = with_window(secrets, data_dir, body)
    rows = {r["Detail"].split(" (")[0]: r for r in out["all"] if r["Status"] == "refused"}
    assert set(rows) == {"401 wrong passphrase", "404 unknown strategy 'Nobody' in the URL"}
    wrong = rows["401 wrong passphrase"]
    assert "(×3 this minute)" in wrong["Detail"] and wrong["Source"] == "127.0.0.1" and wrong["Ticker"] == "AAPL"
    assert rows["404 unknown strategy 'Nobody' in the URL"]["Strategy"] == "Nobody"
    assert "refused" in out["notice"] and "Nobody" in out["notice"]
    assert out["hidden"] == ["routed"] or out["hidden"] == ["queued"]
    assert out["only"] == ["refused", "refused"]


def test_refusals_made_before_the_window_opened_are_shown(qtbot, secrets, data_dir):
    async def before(station):
        assert (await post(station, b"{not json"))[0] == 400
        await until(lambda: station.refusals.latest_refusals(5), what="recorded")

    async def body(station, window):
        return shown(window.dock_widget("AlertsDock"))

    table = with_window(secrets, data_dir, body, before=before)
    assert [r["Status"] for r in table] == ["refused"] and table[0]["Detail"].startswith("400 the body is not")


def test_help_menu_guide_data_folder_and_log(qtbot, secrets, data_dir, monkeypatch):
    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(QUrl(url).toLocalFile()) or True)

    async def body(station, window):
        help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
        titles = [a.text() for a in help_menu.actions() if not a.isSeparator()]
        window.help_actions["guide"].trigger()
        guide = window._user_guide
        chapters = [guide.list.item(i).text() for i in range(guide.list.count())]
        guide.list.setCurrentRow(chapters.index("Schwab"))
        schwab_text = guide.text.toPlainText()
        window.help_actions["data"].trigger()
        (data_dir / "logs").mkdir(exist_ok=True)
        (data_dir / "logs" / "station.log").write_text("x")
        window.help_actions["log"].trigger()
        settings = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Settings")
        return titles, chapters, schwab_text, [a.text() for a in settings.actions()]

    titles, chapters, schwab_text, settings = with_window(secrets, data_dir, body)
    assert titles == ["&User guide", "Open &data folder", "Open the &log", "&About Station"]
    assert chapters == ["Getting started", "TradingView", "NinjaTrader", "Interactive Brokers", "Schwab", "Tastytrade",
                        "Databento", "Backtests and replay", "The REST API and scripts"]
    assert "Authorize…" in schwab_text and "7 days" in schwab_text
    assert opened == [str(data_dir), str(data_dir / "logs" / "station.log")]
    assert settings[0] == "&Accounts && keys…"


def test_the_guide_names_only_what_the_app_has():
    """Menus, commands and endpoints the guide names exist (checked against the code, not by hand)."""
    import re

    from station.cli import build_parser
    from station.ui.help_menu import chapters

    text = "\n".join(chapter.markdown for chapter in chapters())
    commands = set(build_parser()._subparsers._group_actions[0].choices)
    named = set(re.findall(r"`station (\w[\w-]*)", text)) - {"backtest"}  # backtest: "where station --help lists it"
    assert named - {"--demo", "--headless"} <= commands | {"-"}, named - commands
    from station.app import Options, Station  # noqa: F401  (the routes: built by Station's parts)
    routes = set(re.findall(r"`(?:GET |POST |GET\|POST )?(/api/[a-z_-]+)", text))
    assert routes <= {"/api/alerts", "/api/orders", "/api/fills", "/api/positions", "/api/pnl", "/api/refusals",
                      "/api/strategies", "/api/destinations", "/api/manual", "/api/kill-switch", "/api/trading-data"}
