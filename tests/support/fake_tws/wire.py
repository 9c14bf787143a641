"""The TWS socket protocol as the fake speaks it (server version 176): framing and message layouts.

Every message is a 4-byte big-endian length and NUL-terminated text fields. The
layouts below follow ib_async's `decoder.py` for server version 176 (so the
`faProfile` field is still present and executions carry no `pendingPriceRevision`).
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass, field

from .securities import Security

SERVER_VERSION = 176
UNSET_DOUBLE = "1.7976931348623157E308"  # what TWS writes for an unset double


def frame(*fields) -> bytes:
    """One message: length prefix and NUL-terminated fields."""
    body = "".join(f"{_text(f)}\0" for f in fields).encode()
    return struct.pack(">I", len(body)) + body


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return repr(value) if value != int(value) else str(int(value)) if abs(value) < 1e15 else repr(value)
    return str(value)


async def read_message(reader: asyncio.StreamReader) -> list[str]:
    """The fields of the next length-prefixed message."""
    size = struct.unpack(">I", await reader.readexactly(4))[0]
    return (await reader.readexactly(size)).decode(errors="replace").split("\0")[:-1]


@dataclass
class FakeOrder:
    """An order as TWS holds it."""

    client_id: int
    order_id: int
    perm_id: int
    sec: Security
    action: str
    qty: float
    order_type: str
    lmt: float | None
    aux: float | None
    tif: str
    oca_group: str
    account: str
    order_ref: str
    transmit: bool
    parent_id: int
    oca_type: int
    trail_stop: float | None = None  # a TRAIL order's stop (trailStopPrice); auxPrice is its trailing amount
    trailing_percent: float | None = None
    status: str = "PendingSubmit"
    filled: float = 0.0
    avg_price: float = 0.0
    last_price: float = 0.0
    children: list["FakeOrder"] = field(default_factory=list)

    @property
    def remaining(self) -> float:
        return self.qty - self.filled

    @property
    def is_done(self) -> bool:
        return self.status in ("Filled", "Cancelled", "ApiCancelled", "Inactive")


@dataclass
class FakeExecution:
    """One fill as TWS reports it."""

    exec_id: str
    order: FakeOrder
    time: str
    shares: float
    price: float
    cum_qty: float
    avg_price: float
    commission: float


def order_status(o: FakeOrder) -> bytes:
    return frame(3, o.order_id, o.status, o.filled, o.remaining, o.avg_price, o.perm_id, o.parent_id,
                 o.last_price, o.client_id, "", 0)


def _opt(value: float | None):
    return "" if value is None else value


def open_order(o: FakeOrder) -> bytes:
    """The openOrder message (id 5), every field in decoder order for server 176."""
    s = o.sec
    fields = [5, o.order_id, *s.contract_fields,
              o.action, o.qty, o.order_type, _opt(o.lmt), _opt(o.aux), o.tif, o.oca_group, o.account, "O", 0,
              o.order_ref, o.client_id, o.perm_id, 0, 0, 0, "", "", "", "", "",
              "",  # faProfile (server < 177)
              "", "", "", "", "", 0, "", -1, 0, "", "", "", "", "", 0, 0, 0, 0, "", o.oca_type, 0, 0, "",
              o.parent_id, 0, "", 0, "", "",  # … parentId, triggerMethod, volatility, volatilityType, dnType, dnAux
              0, 0, _opt(o.trail_stop), _opt(o.trailing_percent), "", "", "",  # continuousUpdate … comboLegsDescrip
              0, 0, 0,  # combo legs, order combo legs, smart combo params
              "", "", "",  # scale init/subs level size, price increment
              "",  # hedgeType
              0, "", "", 0, 0,  # optOutSmartRouting, clearingAccount, clearingIntent, notHeld, dnc present
              "",  # algoStrategy
              0, 0, o.status, "", "", "", "", "", "", "", "", "", UNSET_DOUBLE, UNSET_DOUBLE, UNSET_DOUBLE, "", "",
              0, 0,  # randomizeSize, randomizePrice
              0,  # conditions
              "", "", "", "", "", "", "", 0, "", "", "", "", 0, 0, "", 0,  # adjusted… usePriceMgmtAlgo
              "", 0, 0,  # duration, postToAts, autoCancelParent
              "", "", "", "", ""]  # minTradeQty … midOffsetAtHalf
    return frame(*fields)


def completed_order(o: FakeOrder, completed_time: str) -> bytes:
    """The completedOrder message (id 101) for server 176."""
    s = o.sec
    fields = [101, *s.contract_fields,
              o.action, o.qty, o.order_type, _opt(o.lmt), _opt(o.aux), o.tif, o.oca_group, o.account, "O", 0,
              o.order_ref, o.perm_id, 0, 0, 0, "", "", "", "",
              "",  # faProfile
              "", "", "", "", "", 0, "", "", "", "", "", "", "", 0, 0, 0, "", o.oca_type, 0, "", 0, "", "",
              0, 0, "", "", "",  # continuousUpdate … comboLegsDescrip
              0, 0, 0, "", "", "", "",  # legs, order legs, params, scale x3, hedgeType
              "", "", 0, 0,  # clearingAccount, clearingIntent, notHeld, dnc present
              "",  # algoStrategy
              0, o.status, 0, 0,  # solicited, status, randomizeSize, randomizePrice
              0,  # conditions
              "", "", "", 0, 0, "", o.filled, 0, 0, "", 0, 0, "", completed_time, o.status,
              "", "", "", "", ""]
    return frame(*fields)


def exec_details(req_id: int, e: FakeExecution) -> bytes:
    o = e.order
    return frame(11, req_id, o.order_id, *o.sec.contract_fields, e.exec_id, e.time, o.account,
                 o.sec.primary_exchange or o.sec.exchange, "BOT" if o.action == "BUY" else "SLD", e.shares, e.price,
                 o.perm_id, o.client_id, 0, e.cum_qty, e.avg_price, o.order_ref, "", "", "", 1)


def commission_report(e: FakeExecution) -> bytes:
    return frame(59, 1, e.exec_id, e.commission, "USD", UNSET_DOUBLE, UNSET_DOUBLE, "")


def contract_details(req_id: int, s: Security) -> bytes:
    """contractDetails (id 10) for server ≥ 164: no version field, no mdSizeMultiplier."""
    last = f"{s.last_trade} 16:00 US/Eastern" if s.last_trade else ""
    return frame(10, req_id, s.symbol, s.sec_type, last, _num(s.strike), s.right, s.exchange, s.currency,
                 s.local_symbol, s.trading_class, s.trading_class, s.con_id, s.min_tick, s.multiplier,
                 "ACTIVETIM,LMT,MKT,STP,STPLMT,TRAIL", f"SMART,{s.primary_exchange or s.exchange}", 1, 0, s.long_name,
                 s.primary_exchange or s.exchange, s.last_trade[:6], "", "", "", "US/Eastern",
                 "20250303:0930-20250303:1600", "20250303:0930-20250303:1600", "", "", 0,
                 "", "", "", "26,26", s.last_trade, "COMMON" if s.sec_type == "STK" else "", "1", "1", "1")


def position(account: str, s: Security, qty: float, avg_cost: float) -> bytes:
    return frame(61, 3, account, *s.contract_fields, qty, avg_cost)


def portfolio(account: str, s: Security, qty: float, price: float, avg_cost: float, realized: float) -> bytes:
    value = qty * price * s.multiplier_value
    unrealized = value - qty * avg_cost
    c = s.contract_fields
    return frame(7, 8, c[0], c[1], c[2], c[3], c[4], c[5], c[6], s.primary_exchange, s.currency, s.local_symbol,
                 s.trading_class, qty, price, value, avg_cost, unrealized, realized, account)


def error(req_id: int, code: int, text: str) -> bytes:
    return frame(4, 2, req_id, code, text, "")


def _num(value: float) -> str:
    return "0" if not value else repr(float(value))
