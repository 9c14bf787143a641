"""Notifications: lost connections, stuck orders, and e-mail through a loopback SMTP server."""

from decimal import Decimal

from support.oms import FakeDestination, journal, make_alert
from support.smtp_double import SmtpDouble
from support.wait import until
from station.app import Options, Station
from station.brokers import registry
from station.domain.enums import ConnectionState
from station.domain.events import ConnectionChanged, Notified


async def test_connection_lost_and_restored_become_notifications(data_dir, secrets):
    station = Station(Options(data_dir=data_dir, port=0), secrets)
    notes = []
    station.bus.subscribe(Notified, notes.append)
    publish = station.bus.publish
    publish(ConnectionChanged("ib", "broker", ConnectionState.DISCONNECTED))  # never up: nothing to say
    publish(ConnectionChanged("ib", "broker", ConnectionState.CONNECTED))
    publish(ConnectionChanged("ib", "broker", ConnectionState.DISCONNECTED, "socket closed"))
    publish(ConnectionChanged("ib", "broker", ConnectionState.CONNECTED))
    assert [(n.title, n.level) for n in notes] == [("Connection lost", "error"), ("Connection restored", "info")]
    assert "socket closed" in notes[0].message
    station.store.close()


async def test_email_batches_notifications_with_the_keyring_password(data_dir, secrets):
    smtp = await SmtpDouble().start()
    station = Station(Options(data_dir=data_dir, port=0), secrets)
    station.config.import_document({"settings": {"notifications": {
        "email_enabled": True, "smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_security": "none",
        "smtp_username": "trader", "email_from": "station@example.com", "email_to": ["me@example.com"]}}})
    secrets.set("smtp-password", "s3cret-pw")
    station.email.batch_s = 0.1
    await station.start()
    station.bus.publish(Notified("Order rejected", "a1-S-paper: no price", "warning"))
    station.bus.publish(Notified("Connection lost", "ib is disconnected", "error"))
    station.bus.publish(Notified("Info only", "below the level", "info"))
    await until(lambda: smtp.messages, timeout=5)
    message = smtp.messages[0]
    assert message["auth"] == ("trader", "s3cret-pw") and message["to"] == ["me@example.com"]
    assert "Subject: Station: Order rejected (+1 more)" in message["data"]
    assert "ib is disconnected" in message["data"] and "below the level" not in message["data"]
    await station.stop()
    await smtp.stop()
    assert len(smtp.messages) == 1


async def test_email_failure_is_reported_not_raised(data_dir, secrets):
    from support.launch import free_port

    station = Station(Options(data_dir=data_dir, port=0), secrets)
    settings = {**station.config.settings("notifications"), "smtp_host": "127.0.0.1", "smtp_port": free_port(),
                "smtp_security": "none", "email_to": ["me@example.com"]}
    assert not await station.email.send([Notified("T", "m")], settings)
    assert station.email.last_error
    station.store.close()


async def test_stuck_market_orders_are_notified_once(data_dir, secrets, monkeypatch):
    made = {}

    def factory(destination, context):
        made[destination.name] = FakeDestination(destination.name, context.bus)  # acknowledges, never fills
        return made[destination.name]

    monkeypatch.setitem(registry.BROKER_FACTORIES, "ib", factory)
    station = Station(Options(data_dir=data_dir, port=0), secrets)
    station.config.import_document({"settings": {"oms": {"stuck_order_s": 1}}, "destinations": {"ib": {"type": "ib"}},
                                    "strategies": {"S": {"tickers": {"ES": {"destinations": {"ib": {}}}}}}})
    await station.start()
    notes = []
    station.bus.subscribe(Notified, lambda n: n.title == "Order stuck" and notes.append(n))
    await journal(station, make_alert("ES"))
    await until(lambda: made["ib"].sent)
    await until(lambda: notes, timeout=4)
    assert station.oms.check_stuck() == [] and len(notes) == 1 and "a1-S-ib" in notes[0].message
    made["ib"].fill(made["ib"].sent[0], 1, Decimal(5000))
    await station.stop()
