"""Settings > REST API and notifications, offscreen with a real Station: the token renewed by its owner
(the REST API) and a test e-mail sent by the notifier to a loopback SMTP server, all through the bus."""

import aiohttp
import pytest
from PySide6.QtWidgets import QLineEdit

from support.launch import free_port, run_qt
from support.smtp_double import SmtpDouble
from station.app import Options, Station
from station.ui.launch import main_window


@pytest.fixture(autouse=True)
def dark_theme(qapp):
    from station.ui.theme import apply_theme

    apply_theme(qapp)


async def api_status(station: Station, token: str) -> int:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{station.receiver.url}/api/orders",
                               headers={"Authorization": f"Bearer {token}"}) as response:
            return response.status


def test_the_token_is_renewed_by_the_rest_api_and_in_force_when_shown(qtbot, data_dir, secrets, tmp_path):
    secrets.set("api-token", "the-old-token")

    async def scenario():
        station = Station(Options(data_dir=data_dir, port=free_port()), secrets)
        await station.start()
        window = main_window(station)
        try:
            dialog = window.show_api_settings()
            await dialog.loading
            shown = dialog.token.text()
            dialog.token.setEchoMode(QLineEdit.Normal)  # as "Show" does, for the screenshot
            renewed = await dialog.regenerate()
            new = dialog.token.text()
            dialog.dialog.grab().save(str(tmp_path / "api_settings.png"))
            return shown, renewed, new, dialog.status.text(), \
                await api_status(station, "the-old-token"), await api_status(station, new)
        finally:
            window.close()
            await station.stop()

    shown, renewed, new, said, old_status, new_status = run_qt(scenario)
    assert shown == "the-old-token" and renewed and new not in ("", "the-old-token")
    assert secrets.get("api-token").reveal() == new and "new token is in use" in said
    assert (old_status, new_status) == (401, 200)  # refused at once, accepted at once
    assert (tmp_path / "api_settings.png").stat().st_size > 3000


def test_a_test_email_goes_out_through_the_notifier_with_the_saved_settings(qtbot, data_dir, secrets):
    async def scenario():
        smtp = await SmtpDouble().start()
        station = Station(Options(data_dir=data_dir, port=free_port()), secrets)
        await station.start()
        window = main_window(station)
        try:
            dialog = window.show_api_settings()
            dialog.enabled.setChecked(True)
            dialog.host.setText("127.0.0.1")
            dialog.port.setValue(smtp.port)
            dialog.security.setCurrentText("none")
            dialog.user.setText("trader")
            dialog.password.setText("s3cret-pw")
            dialog.sender.setText("station@example.com")
            dialog.to.setText("me@example.com")
            sent = await dialog.send_test()
            said = dialog.status.text()
            await smtp.stop()  # the server goes away: the next test says why it failed
            failed = await dialog.send_test()
            return sent, said, failed, dialog.status.text(), smtp.messages, station.config.settings("notifications")
        finally:
            window.close()
            await station.stop()

    sent, said, failed, why, messages, saved = run_qt(scenario)
    assert sent and said == "Test e-mail sent." and len(messages) == 1
    assert messages[0]["auth"] == ("trader", "s3cret-pw") and "E-mail notifications work." in messages[0]["data"]
    assert saved["smtp_port"] > 0 and saved["email_to"] == ["me@example.com"]
    assert secrets.get("smtp-password").reveal() == "s3cret-pw"
    assert not failed and why.startswith("Sending failed: ")


def test_settings_saved_in_the_window_are_announced_once(qtbot, data_dir, secrets):
    from station.domain.events import ConfigChanged

    async def scenario():
        station = Station(Options(data_dir=data_dir, port=free_port()), secrets)
        await station.start()
        changes = []
        station.bus.subscribe(ConfigChanged, changes.append)
        window = main_window(station)
        try:
            dialog = window.show_api_settings()
            dialog.level.setCurrentText("error")
            assert await dialog.save()
            first = list(changes)  # announced as the save returns, not when the watcher looks
            station.watcher.check()  # the watcher, looking now, has nothing new to say
            return first, list(changes), station.config.revision()
        finally:
            window.close()
            await station.stop()

    first, after_watch, revision = run_qt(scenario)
    assert [c.revision for c in first] == [revision] and after_watch == first
