"""An alert with stop and target, end to end in one Station: the real oms and dispatcher, the real Tastytrade and
Schwab brokers, their loopback doubles. Native where the broker takes the bracket (an OTOCO at Tastytrade, a
TRIGGER with OCO at Schwab, its trailing stop Schwab's own); where it does not, or refuses it, the entry goes alone
and Station works the exits on its prices, visibly."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from support.oms import journal, make_alert
from support.schwab_double import ACCOUNT as SCHWAB_ACCOUNT, APP_KEY, APP_SECRET, SchwabDouble
from support.tastytrade_double import ACCOUNT as TASTY_ACCOUNT, CLIENT_SECRET, TastytradeDouble
from support.wait import until
from station.app import Options, Station
from station.domain.events import Notified, TickReceived
from station.domain.instructions import ExitLevel, Offset, OrderInstructions
from station.domain.marketdata import Tick
from station.domain.timeutil import utc_now


@pytest.fixture
async def tasty():
    server = await TastytradeDouble().start()
    yield server
    await server.stop()


@pytest.fixture
async def schwab():
    server = await SchwabDouble().start()
    yield server
    await server.stop()


@pytest.fixture
async def station(tasty, schwab, data_dir, secrets):
    secrets.set("tastytrade-client-secret", CLIENT_SECRET)
    secrets.set("tastytrade-refresh-token", tasty.issue_refresh_token())
    secrets.set("schwab-app-key", APP_KEY)
    secrets.set("schwab-app-secret", APP_SECRET)
    secrets.set("schwab-refresh-token", schwab.issue_refresh_token())
    core = Station(Options(data_dir=data_dir, port=0), secrets)
    core.config.import_document({
        "destinations": {
            "tt": {"type": "tastytrade", "account": TASTY_ACCOUNT, "base_url": tasty.url, "poll_s": 0.2},
            "sw": {"type": "schwab", "account": SCHWAB_ACCOUNT, "base_url": schwab.url, "poll_s": 0.2}},
        "strategies": {"Momentum": {"tickers": {"AAPL": {"destinations": {"tt": {}}},
                                                "TSLA": {"destinations": {"sw": {}}}}}},
    })
    notices = []
    core.bus.subscribe(Notified, notices.append)
    core.notices = notices
    await core.start()
    for name in ("tt", "sw"):
        await until(lambda: core.connections.get(name) and str(core.connections[name].state) == "connected",
                    timeout=10, what=f"{name} connected")
    yield core
    await core.stop()


def rows(station, alert_id) -> dict[str, dict]:
    found = station.store.query("SELECT * FROM orders WHERE alert_id = ? ORDER BY seq", (alert_id,))
    return {r["role"]: r for r in found}


def brackets(stop=None, target=None, trail=None):
    return OrderInstructions(stop_loss=stop, take_profit=target, trailing_stop=trail)


async def test_an_alert_with_stop_and_target_is_one_otoco_at_tastytrade(station, tasty):
    alert = await journal(station, make_alert("AAPL", "buy", qty="10", price="150", strategy="Momentum",
                                              instructions=brackets(ExitLevel(price=D(145)),
                                                                    ExitLevel(offset=Offset("points", D(10))))))
    await until(lambda: tasty.complex_orders, timeout=10, what="the OTOCO at Tastytrade")
    trigger, stop, target = tasty.components(next(iter(tasty.complex_orders)))
    entry = f"a{alert.alert_id}-Momentum-tt"
    assert (trigger["external-identifier"], trigger["order-type"], trigger["legs"][0]["action"]) == \
        (entry, "Market", "Buy to Open")
    assert (stop["external-identifier"], stop["stop-trigger"]) == (f"{entry}-sl", "145")
    assert (target["external-identifier"], target["price"]) == (f"{entry}-tp", "160")  # 10 points from the alert
    await until(lambda: rows(station, alert.alert_id)["entry"]["status"] == "working", timeout=5, what="entry working")
    made = rows(station, alert.alert_id)
    assert {made[r]["status"] for r in ("stop_loss", "take_profit")} == {"held"}
    assert {made[r]["exit_mode"] for r in ("stop_loss", "take_profit")} == {"native_bracket"}
    assert {made[r]["oco_group"] for r in ("stop_loss", "take_profit")} == {f"{entry}-oco"}

    tasty.fill(trigger["id"], 10, "150.20")
    await until(lambda: station.oms.book.position("tt", "AAPL", "Momentum") == 10, timeout=10, what="long 10")
    await until(lambda: rows(station, alert.alert_id)["take_profit"]["status"] == "working", timeout=5,
                what="the exits armed, Tastytrade's to work")
    tasty.fill(target["id"], 10, "160")
    await until(lambda: rows(station, alert.alert_id)["stop_loss"]["status"] == "cancelled", timeout=10,
                what="the stop cancelled by Tastytrade's OCO")
    made = rows(station, alert.alert_id)
    assert (made["entry"]["status"], made["take_profit"]["status"], made["take_profit"]["avg_price"]) == \
        ("filled", "filled", "160")
    assert station.oms.book.position("tt", "AAPL", "Momentum") == 0
    assert tasty.count("POST", "/orders") == 0  # nothing went on its own


async def test_an_alert_with_target_and_trailing_stop_is_a_trigger_with_oco_at_schwab(station, schwab):
    alert = await journal(station, make_alert("TSLA", "sell", qty="5", price="250", strategy="Momentum",
                                              instructions=brackets(target=ExitLevel(price=D(240)),
                                                                    trail=Offset("percent", D(1)))))
    await until(lambda: schwab.orders, timeout=10, what="the TRIGGER at Schwab")
    [body] = schwab.bodies
    assert (body["orderStrategyType"], body["orderType"], body["orderLegCollection"][0]["instruction"]) == \
        ("TRIGGER", "MARKET", "SELL_SHORT")
    [oco] = body["childOrderStrategies"]
    target, trailing = oco["childOrderStrategies"]
    assert (oco["orderStrategyType"], target["orderType"], target["price"]) == ("OCO", "LIMIT", "240")
    assert (trailing["orderType"], trailing["stopPriceLinkBasis"], trailing["stopPriceLinkType"],
            trailing["stopPriceOffset"]) == ("TRAILING_STOP", "ASK", "PERCENT", 1.0)
    parent, _, placed_target, placed_trailing = schwab.trigger_tree(max(schwab.orders))
    await until(lambda: rows(station, alert.alert_id)["trailing_stop"]["broker_order_id"] == str(placed_trailing["orderId"]),
                timeout=10, what="the exits found nested in their entry")
    schwab.fill(parent["orderId"], 5, "249.5")
    await until(lambda: station.oms.book.position("sw", "TSLA", "Momentum") == -5, timeout=10, what="short 5")
    schwab.fill(placed_trailing["orderId"], 5, "252")
    await until(lambda: rows(station, alert.alert_id)["take_profit"]["status"] == "cancelled", timeout=10,
                what="the target cancelled by Schwab's OCO")
    assert rows(station, alert.alert_id)["trailing_stop"]["status"] == "filled"
    assert station.oms.book.position("sw", "TSLA", "Momentum") == 0


async def test_refused_in_its_native_form_the_entry_goes_alone_and_station_works_the_exits(station, tasty):
    tasty.refuse_complex = ("complex_order_not_permitted", "Complex orders are not permitted for this account")
    alert = await journal(station, make_alert("AAPL", "buy", qty="3", price="150", strategy="Momentum",
                                              instructions=brackets(ExitLevel(price=D(145)), ExitLevel(price=D(160)))))
    entry = f"a{alert.alert_id}-Momentum-tt"
    await until(lambda: any(o.get("external-identifier") == entry for o in tasty.orders.values()), timeout=10,
                what="the entry, alone")
    assert len(tasty.complex_bodies) == 1 and not tasty.complex_orders
    notice = next(n for n in station.notices if n.title == "Bracket sent without its exits")
    assert "not permitted for this account" in notice.message and entry in notice.message
    await until(lambda: rows(station, alert.alert_id)["stop_loss"]["exit_mode"] is None, timeout=5, what="given back")

    tasty.fill(tasty.by_external_id(entry)["id"], 3, "150")
    await until(lambda: rows(station, alert.alert_id)["stop_loss"]["status"] == "working", timeout=10,
                what="the exits armed on the fill, worked by Station")
    assert rows(station, alert.alert_id)["stop_loss"]["exit_mode"] == "station"
    station.bus.publish(TickReceived(Tick("AAPL", utc_now(), 144.9)))
    await until(lambda: any(o.get("external-identifier") == f"{entry}-sl" for o in tasty.orders.values()),
                timeout=10, what="the stop reached: sent at market")
    sent = tasty.by_external_id(f"{entry}-sl")
    assert (sent["order-type"], sent["legs"][0]["action"], sent["legs"][0]["quantity"]) == ("Market", "Sell to Close", 3)
    await until(lambda: rows(station, alert.alert_id)["take_profit"]["status"] == "cancelled", timeout=5,
                what="its sibling cancelled by Station")


async def test_a_single_stop_at_tastytrade_is_worked_by_station(station, tasty):
    alert = await journal(station, make_alert("AAPL", "buy", qty="2", price="150", strategy="Momentum",
                                              instructions=brackets(ExitLevel(offset=Offset("ticks", D(50))))))
    entry = f"a{alert.alert_id}-Momentum-tt"
    await until(lambda: any(o.get("external-identifier") == entry for o in tasty.orders.values()), timeout=10,
                what="the entry, alone")
    assert not tasty.complex_bodies  # an OTOCO cannot carry one exit: nothing of the kind was sent
    tasty.fill(tasty.by_external_id(entry)["id"], 2, "150.10")
    await until(lambda: rows(station, alert.alert_id)["stop_loss"]["status"] == "working", timeout=10, what="armed")
    made = rows(station, alert.alert_id)["stop_loss"]
    assert (made["exit_mode"], made["stop_price"]) == ("station", "149.6")  # 50 ticks from the actual fill
