"""Chat notifications through loopback doubles of Telegram's Bot API and a Discord webhook: what each kind
sends, the switch per kind, batching, the per-minute limit and Retry-After (lines summed, none lost),
message length, secrets only in the keyring and never in the log."""

from __future__ import annotations

import logging

import aiohttp
import pytest

from support.chat_doubles import DiscordDouble, TelegramDouble
from support.oms import journal, make_alert
from support.wait import until
from station.app import Options, Station
from station.domain.events import ConfigChanged, Notified
from station.notify import chat

BOT_TOKEN = "123456:bot-secret-token"
CONFIG = {"destinations": {"paper": {"type": "paper"}},
          "strategies": {"Desk": {"tickers": {"ES": {"destinations": {"paper": {"qty": 1}}}}}}}


@pytest.fixture
async def chatty(data_dir, secrets):
    telegram = await TelegramDouble(BOT_TOKEN).start()
    discord = await DiscordDouble().start()
    station = Station(Options(data_dir=data_dir, port=0), secrets)
    station.config.import_document({**CONFIG, "settings": {"notifications": {
        "telegram_enabled": True, "telegram_chat_id": "-100200300", "telegram_api_url": telegram.url,
        "discord_enabled": True}}})
    secrets.set(chat.TELEGRAM_TOKEN, BOT_TOKEN)
    secrets.set(chat.DISCORD_URL, discord.webhook_url)
    station.chat.batch_s = 0.05
    await station.start()
    station.telegram, station.discord = telegram, discord
    yield station
    await station.stop()
    await telegram.stop()
    await discord.stop()


def texts(double) -> list[str]:
    key = "text" if isinstance(double, TelegramDouble) else "content"
    return [body[key] for _, body in double.received]


async def test_a_fill_reaches_telegram_and_discord(chatty, caplog):
    caplog.set_level(logging.DEBUG, logger="station")
    await journal(chatty, make_alert("ES", "buy", qty="1", price="5000", strategy="Desk"))
    await until(lambda: texts(chatty.telegram) and texts(chatty.discord), timeout=5, what="both chats")
    path, body = chatty.telegram.received[0]
    assert path == f"/bot{BOT_TOKEN}/sendMessage" and body["chat_id"] == "-100200300"
    assert "Filled buy 1 ES @ 5000" in body["text"] and "Desk" in body["text"]
    assert "Filled buy 1 ES @ 5000" in texts(chatty.discord)[0]
    assert chatty.discord.received[0][1]["allowed_mentions"] == {"parse": []}
    assert BOT_TOKEN not in caplog.text and chatty.discord.token not in caplog.text


async def test_each_kind_has_its_switch(chatty):
    await chatty.config.update_settings("notifications", {"chat_fills": False, "chat_schwab_token": False})
    await journal(chatty, make_alert("ES", "buy", qty="1", price="5000", strategy="Desk"))
    await journal(chatty, make_alert("ZZZ", "buy", qty="1", price="1"))  # no strategy lists it: refused alert
    publish = chatty.bus.publish
    publish(Notified("Connection lost", "ib (broker) is disconnected", "error", kind="disconnect"))
    publish(Notified("Daily loss limit", "Desk: daily loss limit 500 reached", "error", kind="loss-limit"))
    publish(Notified("Schwab", "the refresh token expires in 1 day", "warning", kind="schwab-token-expiry"))
    publish(Notified("Order stuck", "an info for the tray only", "warning"))
    await until(lambda: "\n".join(texts(chatty.telegram)).count("\n") >= 2, timeout=5, what="three lines")
    sent = "\n".join(texts(chatty.telegram))
    assert "Filled" not in sent and "refresh token" not in sent and "Order stuck" not in sent
    assert "ib (broker) is disconnected" in sent and "daily loss limit 500" in sent
    assert "unrouted" in sent and "ZZZ" in sent


async def test_a_webhook_refusal_goes_with_the_refused_alerts_without_the_passphrase(chatty):
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{chatty.receiver.url}/webhook", json={"passphrase": "not-it", "ticker": "ES",
                                                                     "action": "buy"}) as answer:
            assert answer.status == 401
    line = await until(lambda: next((t for t in texts(chatty.telegram) if "Webhook refused" in t), None), timeout=5)
    assert "from 127.0.0.1: 401 wrong passphrase" in line and "not-it" not in line
    chatty.bus.publish(ConfigChanged(await chatty.config.update_settings("notifications", {"chat_refused_alerts": False})))
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{chatty.receiver.url}/webhook", data=b"{not json") as answer:
            assert answer.status == 400
    publish = chatty.bus.publish
    publish(Notified("Connection lost", "ib (broker) is disconnected", "error", kind="disconnect"))
    await until(lambda: any("ib (broker)" in t for t in texts(chatty.telegram)), timeout=5)
    assert not any("not JSON" in t or "400" in t for t in texts(chatty.telegram))  # switched off


async def test_a_rejected_order_is_sent(chatty):
    await journal(chatty, make_alert("ES", "buy", qty="1", price=None, strategy="Desk"))  # paper: no price at all
    await until(lambda: any("Rejected buy 1 ES at paper" in t for t in texts(chatty.discord)), timeout=5)


async def test_a_burst_is_one_message_and_over_the_limit_lines_are_summed_not_lost(chatty, monkeypatch):
    for n in range(30):
        chatty.bus.publish(Notified("Connection lost", f"link {n} is down", "error", kind="disconnect"))
    await until(lambda: texts(chatty.telegram), timeout=5)
    assert len(texts(chatty.telegram)) == 1 and all(f"link {n} is down" in texts(chatty.telegram)[0] for n in range(30))

    monkeypatch.setattr(chat, "MAX_PER_MINUTE", 2)
    chatty.bus.publish(Notified("Connection lost", "second message", "error", kind="disconnect"))
    await until(lambda: len(texts(chatty.telegram)) == 2, timeout=5)
    chatty.bus.publish(Notified("Connection lost", "third, held back", "error", kind="disconnect"))
    chatty.bus.publish(Notified("Connection lost", "fourth, held back", "error", kind="disconnect"))
    await until(lambda: chatty.chat.channels["telegram"].pending, timeout=5, what="lines waiting for the limit")
    assert len(texts(chatty.telegram)) == 2  # the limit holds: two a minute here
    channel = chatty.chat.channels["telegram"]
    channel.sent_at.clear()  # as if the minute had passed
    chatty.chat._flush()
    await until(lambda: len(texts(chatty.telegram)) == 3, timeout=5)
    assert "third, held back" in texts(chatty.telegram)[2] and "fourth, held back" in texts(chatty.telegram)[2]


async def test_retry_after_is_honoured_and_the_lines_go_out_later(chatty):
    chatty.discord.throttle(1, retry_after=0.2)
    chatty.chat.batch_s = 0.02
    chatty.bus.publish(Notified("Connection lost", "first try is throttled", "error", kind="disconnect"))
    await until(lambda: chatty.discord.refused, timeout=5)
    chatty.bus.publish(Notified("Connection restored", "ib is back", "info", kind="disconnect"))
    await until(lambda: texts(chatty.discord), timeout=5, what="the retry after Retry-After")
    assert "first try is throttled" in texts(chatty.discord)[0] and "ib is back" in texts(chatty.discord)[0]


async def test_a_long_burst_is_cut_to_the_service_limit_saying_how_many_more(chatty):
    for n in range(200):
        chatty.bus.publish(Notified("Connection lost", f"link number {n} is down for a while", "error",
                                    kind="disconnect"))
    await until(lambda: texts(chatty.discord) and texts(chatty.telegram), timeout=5)
    discord, telegram = texts(chatty.discord)[0], texts(chatty.telegram)[0]
    assert len(discord) <= 2000 and discord.endswith("more)") and "link number 0 " in discord
    assert len(telegram) <= 4096 and telegram.endswith("more)")


async def test_a_wrong_secret_is_logged_without_it_and_nothing_is_retried(chatty, secrets, caplog):
    caplog.set_level(logging.WARNING, logger="station.notify")
    secrets.set(chat.TELEGRAM_TOKEN, "999:wrong-token")
    chatty.bus.publish(Notified("Connection lost", "x", "error", kind="disconnect"))
    await until(lambda: chatty.telegram.refused, timeout=5)
    await until(lambda: "refused (401)" in caplog.text, timeout=5)
    assert "wrong-token" not in caplog.text and chatty.chat.channels["telegram"].pending == []


def test_compose_keeps_whole_lines():
    lines = [chat.ChatLine("disconnects", "error", f"line {n}") for n in range(10)]
    assert chat.compose(lines, 1000) == "\n".join(f"line {n}" for n in range(10))
    short = chat.compose(lines, 30)
    assert short.startswith("line 0\nline 1") and short.endswith("more)") and len(short) <= 30
