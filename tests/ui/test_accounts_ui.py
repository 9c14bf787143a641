"""Settings → Accounts & keys and the destination dialog, offscreen over a real Station and the loopback doubles.

Secrets go to a real keyring file, Schwab's login is caught by Station's TLS listener
(the browser simulated by a client following Schwab's redirect), IB is the fake TWS,
Databento its HTTPS double, Tastytrade its double.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from datetime import timedelta
from pathlib import Path

import aiohttp
import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog, QLabel, QLineEdit, QPushButton

from support.databento_http import HistoricalDouble, make_certificate
from support.fake_tws import FakeTWS
from support.launch import free_port, run_with_window
from support.schwab_double import APP_KEY, APP_SECRET, SchwabDouble
from support.tastytrade_double import ACCOUNT, CLIENT_SECRET, TastytradeDouble
from support.wait import until
from station.brokers.schwab.callback import CERT_FILE
from station.domain.events import SecretChanged
from station.domain.timeutil import utc_now

KEY = "db-AccountsDialogKeyXXXXXXXXXXXXX"


@pytest.fixture(autouse=True)
def dark_theme(qapp):
    from station.ui.theme import apply_theme

    apply_theme(qapp)


def with_window(secrets, data_dir, body, config=None):
    """Run `body(station, window)` on the qasync loop with a started Station and its window."""
    secrets.set("webhook-passphrase", "accounts dialog passphrase")
    return run_with_window(secrets, data_dir, body, config or {"destinations": {"paper": {"type": "paper"}}},
                           timeout=60)

def test_every_secret_is_set_shown_replaced_and_deleted_never_logged(qtbot, secrets, data_dir, caplog):
    caplog.set_level(logging.DEBUG, logger="station")

    async def body(station, window):
        changed = []
        station.bus.subscribe(SecretChanged, lambda e: changed.append(e.name))
        dialog = window.show_accounts("databento")
        await dialog.loading
        row = dialog.sections["databento"]["databento-key"]
        out = {"placeholder": row.field.placeholderText(), "state": row.state.text(),
               "tab": dialog.tabs.tabText(dialog.tabs.currentIndex())}
        row.field.setText("db-first-value-1234")
        out["masked"] = row.field.echoMode() == QLineEdit.Password
        out["saved"] = await row.save()
        out["stored"] = secrets.get("databento-key").reveal()
        out["after"] = (row.field.text(), row.field.placeholderText(), row.state.text())
        row.show_button.setChecked(True)
        await until(lambda: row.field.text(), what="the stored value shown")
        out["shown"] = (row.field.text(), row.field.echoMode() == QLineEdit.Normal)
        row.show_button.setChecked(False)
        await until(lambda: not row.field.text(), what="masked again")
        row.field.setText("db-second-value-5678")
        out["replaced"] = await row.save() and secrets.get("databento-key").reveal()
        out["deleted"] = await row.delete()
        out["gone"] = secrets.get("databento-key") is None and row.state.text() == "not set"
        await until(lambda: len(changed) >= 3, what="SecretChanged thrice")
        out["changed"] = changed
        out["keyring_text"] = dialog.dialog.findChild(QLabel, "keyring").text()
        out["names"] = {name for section in dialog.sections.values() for name in section.rows}
        return out

    out = with_window(secrets, data_dir, body)
    assert out["tab"] == "Databento" and out["placeholder"] == "not set" and out["state"] == "not set"
    assert out["masked"] and out["saved"] and out["stored"] == "db-first-value-1234"
    assert out["after"] == ("", "stored in the keyring: type to replace", "saved")
    assert out["shown"] == ("db-first-value-1234", True)
    assert out["replaced"] == "db-second-value-5678" and out["deleted"] and out["gone"]
    assert out["changed"] == ["databento-key"] * 3
    assert "PlaintextKeyring" in out["keyring_text"]  # which backend holds them, and that it is a plain file
    assert "plain-text file" in out["keyring_text"] and "OS keyring" not in out["keyring_text"]
    from station.secrets import KNOWN_NAMES

    assert out["names"] == set(KNOWN_NAMES)  # every known secret can be set in the window
    assert "db-first-value" not in caplog.text and "db-second-value" not in caplog.text


def test_the_refresh_tokens_days_left(qtbot, secrets, data_dir):
    secrets.set("schwab-refresh-token", "rt-x", issued_at=utc_now() - timedelta(days=2, hours=1))

    async def body(station, window):
        dialog = window.show_accounts("schwab")
        await dialog.loading
        fresh = dialog.sections["schwab"]["schwab-refresh-token"].state.text()
        secrets.set("schwab-refresh-token", "rt-y", issued_at=utc_now() - timedelta(days=6, hours=8))
        await dialog.sections["schwab"].load()
        return fresh, dialog.sections["schwab"]["schwab-refresh-token"].state.text()

    fresh, expiring = with_window(secrets, data_dir, body)
    assert fresh == "set · 4 d 22 h left" and expiring == "set · 15 h left"


def test_databento_test_key_is_green_or_red(qtbot, secrets, data_dir, tmp_path, monkeypatch):
    cert, key = make_certificate(tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))

    async def body(station, window):
        double = HistoricalDouble(KEY, np.zeros(0), {})
        await double.start(cert, key)
        try:
            # the live feed, which starts once a key is stored, finds nothing on loopback (never the real gateway)
            await window.context.edits.update_settings("marketdata", {"history_gateway": double.gateway,
                                                                      "live_gateway": "127.0.0.1",
                                                                      "live_port": free_port()})
            dialog = window.show_accounts("databento")
            await dialog.loading
            dialog.sections["databento"]["databento-key"].field.setText(KEY)
            good = await dialog.databento.run()  # the typed key is stored first, then tested
            dialog.sections["databento"]["databento-key"].field.setText("db-NotTheKeyXXXXXXXXXXXXXXXXXXX")
            bad = await dialog.databento.run()
            return good, bad, dialog.databento.result.text()
        finally:
            await double.stop()

    good, bad, shown = with_window(secrets, data_dir, body)
    assert good.ok and "3 datasets" in good.message
    assert not bad.ok and "refused the key" in bad.message and "✘" in shown and "#ef4444" in shown


def test_schwab_authorize_catches_the_redirect_itself(qtbot, secrets, data_dir):
    """The Schwab round trip from the window: Authorize… opens 'the browser', which follows Schwab's redirect
    to Station's TLS callback; no paste."""
    port = free_port()
    callback = f"https://127.0.0.1:{port}"

    async def body(station, window):
        double = await SchwabDouble(callback=callback).start()
        opened = []
        try:
            await window.context.edits.save_destination(
                "schwab-ira", {"type": "schwab", "base_url": double.url, "callback_url": callback})
            dialog = window.show_accounts("schwab")
            await dialog.loading
            dialog.sections["schwab"]["schwab-app-key"].field.setText(APP_KEY)
            dialog.sections["schwab"]["schwab-app-secret"].field.setText(APP_SECRET)
            async def browser(url):  # the trader logs in; Schwab sends the browser to the callback
                # the trader accepts Station's own certificate, made when the listener started
                trusted = ssl.create_default_context(cafile=str(data_dir / "tls" / CERT_FILE))
                async with aiohttp.ClientSession() as session:
                    async with session.get(url, ssl=trusted) as response:
                        opened.append((str(response.url), await response.text()))

            dialog.schwab.open_browser = lambda url: asyncio.ensure_future(browser(url))
            done = await dialog.schwab.authorize()
            await until(lambda: "left" in dialog.sections["schwab"]["schwab-refresh-token"].state.text(),
                        what="the token's days left")
            return done, opened, dialog.schwab.result.text(), \
                dialog.sections["schwab"]["schwab-refresh-token"].state.text(), double.refresh_tokens
        finally:
            await double.stop()

    done, opened, shown, state, issued = with_window(secrets, data_dir, body)
    assert done.ok and "✔ Schwab authorised (schwab-ira)" in shown
    assert opened[0][0].startswith(f"{callback}/?code=") and "Station has your Schwab login" in opened[0][1]
    assert secrets.get("schwab-refresh-token").reveal() in issued
    assert state in ("set · 6 d 23 h left", "set · 7 d 0 h left")


def test_tastytrade_login_and_the_sandbox_switch(qtbot, secrets, data_dir):
    async def body(station, window):
        double = await TastytradeDouble().start()
        try:
            await window.context.edits.save_destination("tasty", {"type": "tastytrade", "base_url": double.url})
            dialog = window.show_accounts("tastytrade")
            await dialog.loading
            rows = dialog.sections["tastytrade"]
            rows["tastytrade-client-secret"].field.setText(CLIENT_SECRET)
            rows["tastytrade-refresh-token"].field.setText(double.issue_refresh_token())
            answer = await dialog.tastytrade.run()
            saved = await dialog.set_sandbox(True)
            return answer, saved, station.config.load().destination("tasty").params
        finally:
            await double.stop()

    answer, saved, params = with_window(secrets, data_dir, body)
    assert answer.ok and ACCOUNT in answer.message
    assert saved and params["sandbox"] is True and params["base_url"]


def test_destination_dialog_shows_what_each_type_needs(qtbot, secrets, data_dir, tmp_path, monkeypatch):
    from station.ui.destination_dialog import default_ati_folder

    async def body(station, window):
        dialog = window.dock_widget("StrategiesDock").new_destination()
        await dialog.loading
        seen = {}
        for kind in ("paper", "ninjatrader-ati", "ib", "schwab", "tastytrade"):
            dialog.type.setCurrentText(kind)
            seen[kind] = sorted(name for name, box in dialog.boxes.items() if box.isVisibleTo(dialog.dialog))
        ib_placeholder = dialog.fields["ib"]["account"].placeholderText()
        dialog.type.setCurrentText("ninjatrader-ati")
        defaults = (dialog.fields["ninjatrader-ati"]["incoming"].text(), dialog.fields["ninjatrader-ati"]["outgoing"].text())
        missing = dialog.check_folders()
        incoming, outgoing = tmp_path / "nt" / "incoming", tmp_path / "nt" / "outgoing"
        incoming.mkdir(parents=True)
        outgoing.mkdir()
        picked = iter([str(incoming), str(outgoing)])
        monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args: next(picked))
        dialog.dialog.findChild(QPushButton, "browseIncoming").click()
        dialog.dialog.findChild(QPushButton, "browseOutgoing").click()
        found = dialog.check_folders()
        dialog.name.setText("nt-sim")
        dialog.fields["ninjatrader-ati"]["account"].setText("Sim101")
        saved = await dialog.save()
        return seen, ib_placeholder, defaults, missing, found, saved, station.config.load().destination("nt-sim").params

    seen, ib_placeholder, defaults, missing, found, saved, params = with_window(secrets, data_dir, body)
    assert seen == {"paper": ["paper"], "ninjatrader-ati": ["ninjatrader-ati"], "ib": ["ib"], "schwab": ["schwab"],
                    "tastytrade": ["tastytrade"]}
    assert ib_placeholder.startswith("DU…")
    assert defaults == (str(default_ati_folder("incoming")), str(default_ati_folder("outgoing")))
    assert Path(defaults[0]).parts[-2:] == ("NinjaTrader 8", "incoming")
    assert missing.startswith("⚠ Not found: ") and defaults[0] in missing and defaults[1] in missing and found == ""
    assert saved and params["account"] == "Sim101" and params["incoming"].endswith("nt/incoming")


def test_destination_dialog_tests_the_ib_connection(qtbot, secrets, data_dir):
    async def body(station, window):
        tws = FakeTWS(account="DU555001")
        port = await tws.start()
        try:
            dialog = window.dock_widget("StrategiesDock").new_destination()
            dialog.type.setCurrentText("ib")
            dialog.fields["ib"]["port"].setText(str(port))
            dialog.fields["ib"]["client_id"].setText("3")
            answer = await dialog.ib_test.run()
            return answer, dialog.ib_test.result.text()
        finally:
            await tws.stop()

    answer, shown = with_window(secrets, data_dir, body)
    assert answer.ok and "DU555001" in answer.message and "✔" in shown


def test_the_keyring_line_says_what_holds_the_secrets():
    from station.ui.accounts_dialog import keyring_text

    assert "the OS keyring: <b>keyring.backends.SecretService.Keyring</b>" in keyring_text(
        "keyring.backends.SecretService.Keyring")
    assert "a file of keyrings.alt, as chosen" in keyring_text("keyrings.alt.file.EncryptedKeyring")
    assert "in memory for this run only" in keyring_text("station.secrets.MemoryBackend")
