"""Screenshots of the setup dialogs on one screen size: run by test_setup_screenshots.py in a process of its own.

Qt's offscreen screen has one size per process (`QT_QPA_PLATFORM=offscreen:configfile=…`),
so each size runs this module apart; `STATION_SHOTS` names the folder the PNGs go to.
Not collected on its own (its name does not start with `test_`).
"""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from pathlib import Path

import pytest

from support.fake_tws import FakeTWS
from support.launch import free_port, run_qt
from support.wait import until
from support.webhook import DIALECT_1, PASSPHRASE, post
from station.app import Options, Station
from station.domain.timeutil import utc_now
from station.ui.launch import main_window

SHOTS = Path(os.environ.get("STATION_SHOTS", "."))
CONFIG = {"destinations": {"paper": {"type": "paper"},
                           "ib-paper": {"type": "ib", "port": 7497, "client_id": 7, "account": "DU123456"},
                           "tasty": {"type": "tastytrade", "sandbox": True}},
          "strategies": {"MomentumStrategy": {"accounts": {}, "tickers": {
              "AAPL": {"ports": [5000], "destinations": {"paper": {"qty": 1}}}, "ES": {"destinations": {"paper": {}}}}}}}


@pytest.fixture(autouse=True)
def dark_theme(qapp):
    from station.ui.theme import apply_theme

    apply_theme(qapp)


async def settle(widget) -> None:
    """Let Qt lay the widget out and paint it: turns of the running loop (never a nested processEvents, which
    re-enters qasync's own event handling)."""
    for _ in range(3):
        await asyncio.sleep(0.02)


async def grab(widget, name: str) -> Path:
    await settle(widget)
    path = SHOTS / f"{name}.png"
    assert widget.grab().save(str(path)), path
    return path


def test_grab_every_setup_dialog(qtbot, secrets, data_dir):
    secrets.set("webhook-passphrase", PASSPHRASE)
    secrets.set("schwab-app-key", "app-key")
    secrets.set("schwab-app-secret", "app-secret")
    secrets.set("schwab-refresh-token", "rt", issued_at=utc_now() - timedelta(days=6, hours=2))
    SHOTS.mkdir(parents=True, exist_ok=True)

    async def scenario():
        # the ib destination's TWS (the fake one): the Interactive Brokers tab shows a real "Test connection"
        tws = FakeTWS(account="DU123456")
        port = await tws.start()
        station = Station(Options(data_dir=data_dir, port=free_port()), secrets)
        station.config.import_document({**CONFIG, "destinations": {**CONFIG["destinations"], "ib-paper": {
            "type": "ib", "port": port, "client_id": 7, "account": "DU123456"}}})
        await station.start()
        window = main_window(station)
        window.show()
        try:
            for _ in range(2):
                await post(station, DIALECT_1, passphrase="an old passphrase")
            await post(station, DIALECT_1, path="/webhook/Momentum")
            await post(station, {**DIALECT_1, "trade_id": "t-ok"})
            dock = window.dock_widget("AlertsDock")
            await until(lambda: dock.model.rowCount() >= 3, what="rows in the Alerts dock")
            window.go_to("AlertsDock")
            await grab(window, "window-alerts-refused")

            accounts = window.show_accounts("station")
            await accounts.loading
            await accounts.databento.run()  # no key yet: says so, in red
            await accounts.ib.run()
            for index, name in enumerate(("station", "databento", "schwab", "tastytrade", "ib")):
                accounts.tabs.setCurrentIndex(index)
                await grab(accounts.dialog, f"accounts-{name}")
            accounts.dialog.close()

            strategies = window.dock_widget("StrategiesDock")
            for kind in ("ninjatrader-ati", "ib", "schwab", "tastytrade", "paper"):
                dialog = strategies.new_destination()
                await dialog.loading
                dialog.type.setCurrentText(kind)
                dialog.name.setText({"ninjatrader-ati": "nt-sim"}.get(kind, kind))
                await grab(dialog.dialog, f"destination-{kind}")
                dialog.dialog.close()

            dock.open_setup()
            setup = dock._setup
            await setup.loading
            setup.public_url.setText("https://abc.trycloudflare.com")
            setup.passphrase_in.setCurrentIndex(1)
            setup.test_result.setText("✔ Alert queued (alert #2, AAPL → MomentumStrategy), routed: 2 orders")
            await grab(setup.dialog, "tradingview-setup")
            setup.dialog.close()

            window.help_actions["guide"].trigger()
            await grab(window._user_guide.dialog, "user-guide")
        finally:
            window.close_without_asking()  # the demo may hold a position: no quit question
            await station.stop()
            await tws.stop()

    run_qt(scenario, timeout=90)
