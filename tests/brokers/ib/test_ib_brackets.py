"""Native brackets at IB through the fake TWS: the wire as ib_async's `bracketOrder` builds it (parentId, transmit
on the last child) plus one OCA group, a child IB rejects, and IB's own trailing stop (TRAIL) as a child."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from support.ib import fake, limit, make_broker, request, wait_until  # noqa: F401 - fixtures
from station.domain.enums import OrderType, Side
from station.domain.events import Notified
from station.domain.instructions import ExitLevel, Offset, OrderInstructions
from station.oms.brackets import bracket_exits

PLACE_ORDER = 3
TICK = Decimal("0.01")


@pytest.fixture
async def ib(fake, make_broker):
    broker, recorder, bus = await make_broker(fake.port)
    return broker, recorder


def exits_of(entry, *, stop=None, target=None, trail=None, reference=None):
    instructions = OrderInstructions(stop_loss=stop and ExitLevel(price=Decimal(stop)),
                                     take_profit=target and ExitLevel(price=Decimal(target)), trailing_stop=trail)
    return tuple(bracket_exits(entry, instructions, TICK, reference))


def placed_on_the_wire(fake) -> list[dict]:
    """Every placeOrder TWS received, in arrival order, by the fields a bracket is made of."""
    return [{"order_id": int(f[1]), "action": f[16], "qty": float(f[17]), "type": f[18], "lmt": f[19], "aux": f[20],
             "oca": f[22], "ref": f[26], "transmit": f[27] == "1", "parent_id": int(f[28] or 0), "oca_type": int(f[47])}
            for _, _, msg_id, f in fake.received if msg_id == PLACE_ORDER]


async def test_the_wire_is_ib_asyncs_bracket_order_with_one_oca_group(fake, ib):
    broker, rec = ib
    fake.fill_mode = "manual"
    entry = limit("AAPL", "191", qty="5")
    await broker.submit_bracket(entry, exits_of(entry, stop="185", target="200"))  # Station lists the stop first
    await wait_until(lambda: len(placed_on_the_wire(fake)) == 3, what="three placeOrder messages")
    parent, take, stop = placed_on_the_wire(fake)

    reference = broker.link.ib.bracketOrder("BUY", 5, 191.0, takeProfitPrice=200.0, stopLossPrice=185.0)
    for sent, built in zip((parent, take, stop), reference):
        assert (sent["action"], sent["qty"], sent["type"], sent["transmit"]) == \
            (built.action, built.totalQuantity, built.orderType, built.transmit)
        assert (sent["parent_id"] == parent["order_id"]) == (built.parentId == reference.parent.orderId)
    assert (parent["lmt"], take["lmt"], stop["aux"]) == ("191.0", "200.0", "185.0")
    assert [o["ref"] for o in (parent, take, stop)] == [entry.client_order_id, f"{entry.client_order_id}-tp",
                                                         f"{entry.client_order_id}-sl"]
    assert parent["order_id"] < take["order_id"] < stop["order_id"]
    assert take["oca"] == stop["oca"] == f"{entry.client_order_id}-oco" and take["oca_type"] == stop["oca_type"] == 1
    assert parent["oca"] == "" and parent["parent_id"] == 0

    await wait_until(lambda: rec.statuses(entry.client_order_id) == ["working"], what="the family went live")
    assert fake.find(order_ref=f"{entry.client_order_id}-tp").status == "PreSubmitted"  # held until the parent fills
    fake.fill(entry.client_order_id, price=191.0)
    await wait_until(lambda: rec.statuses(f"{entry.client_order_id}-tp")[-1:] == ["working"], what="target live")
    fake.fill(f"{entry.client_order_id}-sl", price=185.0)
    await wait_until(lambda: rec.statuses(f"{entry.client_order_id}-tp")[-1:] == ["cancelled"], what="OCA")
    assert [f.price for f in rec.fills(f"{entry.client_order_id}-sl")] == [Decimal("185.0")]
    await wait_until(lambda: rec.positions("AAPL") and rec.positions("AAPL")[-1].qty == 0, what="flat")


@pytest.mark.parametrize("refused", ["sl", "tp"])
async def test_a_child_ib_rejects_cancels_its_entry_before_anything_trades(fake, ib, refused):
    """The stop transmits the family: refused, TWS keeps the family held; the target refused, the family goes live.
    Either way the entry is cancelled (and its other child with it): nothing opens without its protection."""
    broker, rec = ib
    notices = []
    broker.bus.subscribe(Notified, notices.append)
    entry = limit("AAPL", "150", qty="5")  # below the market: it would rest
    coid = entry.client_order_id
    fake.reject_refs[f"{coid}-{refused}"] = "The stop price is on the wrong side of the market"
    await broker.submit_bracket(entry, exits_of(entry, stop="140", target="170"))
    kept = "tp" if refused == "sl" else "sl"
    await wait_until(lambda: rec.statuses(coid)[-1:] == ["cancelled"] and rec.statuses(f"{coid}-{kept}")[-1:]
                     == ["cancelled"], what="entry and the other exit cancelled")
    [rejected] = rec.reports(f"{coid}-{refused}")
    assert rejected.status.value == "rejected" and "IB 201" in rejected.reason and "wrong side" in rejected.reason
    assert fake.find(order_ref=coid).status == "Cancelled" and fake.find(order_ref=f"{coid}-{kept}").status == "Cancelled"
    assert [n.level for n in notices if "bracket refused" in n.title] == ["error"]
    assert rec.fills() == [] and not fake.executions


async def test_a_child_rejected_as_its_entry_fills_leaves_the_entry_and_the_other_exit(fake, ib):
    """A market entry fills the moment the family goes live: the cancel comes too late (TWS says so, 10148), the
    entry stands and its stop protects it; the oms then says the target is missing."""
    broker, rec = ib
    entry = request("AAPL", qty="2")
    coid = entry.client_order_id
    fake.reject_refs[f"{coid}-tp"] = "Exceeds the price cap"
    await broker.submit_bracket(entry, exits_of(entry, stop="180", target="200"))
    await wait_until(lambda: "filled" in rec.statuses(coid) and rec.statuses(f"{coid}-tp") == ["rejected"],
                     what="entry filled, target rejected")
    await fake.wait_for(lambda: any(code == 10148 for _, code, _ in fake.errors_sent), what="the cancel came late")
    assert fake.find(order_ref=coid).status == "Filled"
    assert fake.find(order_ref=f"{coid}-sl").status == "PreSubmitted"  # the stop still protects the position
    assert "cancelled" not in rec.statuses(f"{coid}-sl")


@pytest.mark.parametrize(("trail", "wire"), [(Offset("ticks", Decimal(8)), {"aux": 0.08, "trailing_percent": None}),
                                             (Offset("percent", Decimal("0.5")), {"aux": None, "trailing_percent": 0.5})])
async def test_a_trailing_stop_child_is_ibs_trail_and_its_stop_can_be_moved(fake, ib, trail, wire):
    broker, rec = ib
    fake.fill_mode = "manual"
    entry = limit("AAPL", "190", qty="3")
    exits = exits_of(entry, target="199", trail=trail, reference=Decimal("190"))
    await broker.submit_bracket(entry, exits)
    await fake.wait_for(lambda: len(fake.placed()) == 3, what="the family placed")
    trailing = fake.find(order_ref=f"{entry.client_order_id}-ts")
    await wait_until(lambda: trailing.status == "PreSubmitted", what="the family live")
    assert (trailing.order_type, trailing.action, trailing.qty, trailing.parent_id) == \
        ("TRAIL", "SELL", 3.0, fake.find(order_ref=entry.client_order_id).order_id)
    assert {"aux": trailing.aux, "trailing_percent": trailing.trailing_percent} == wire
    assert trailing.trail_stop is None  # TWS sets the stop from the market when the child goes live
    assert trailing.transmit and trailing.oca_group == f"{entry.client_order_id}-oco"  # the stop transmits

    fake.fill(entry.client_order_id, price=190.0)
    await wait_until(lambda: rec.statuses(f"{entry.client_order_id}-tp")[-1:] == ["working"], what="target live")
    [ts] = [x for x in exits if x.order_type is OrderType.TRAILING_STOP]
    await broker.replace(dataclasses.replace(ts, stop_price=Decimal("189.5")))
    await wait_until(lambda: fake.modified == [trailing], what="the stop moved in place")
    assert trailing.trail_stop == 189.5 and trailing.order_type == "TRAIL"
    fake.fill(trailing, price=189.4)
    await wait_until(lambda: rec.statuses(f"{entry.client_order_id}-tp")[-1:] == ["cancelled"], what="OCA")
    [fill] = rec.fills(f"{entry.client_order_id}-ts")
    assert (fill.side, fill.qty) == (Side.SELL, Decimal(3))
