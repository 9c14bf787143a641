"""One API connection to the fake TWS: the handshake, then one handler per request message id."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import TYPE_CHECKING

from . import wire
from .securities import Security
from .wire import FakeOrder, frame

if TYPE_CHECKING:
    from .server import FakeTWS

CONTRACT_KEYS = ("conId", "symbol", "secType", "lastTradeDateOrContractMonth", "strike", "right", "multiplier",
                 "exchange", "primaryExchange", "currency", "localSymbol", "tradingClass")


def contract_query(fields: list[str], start: int) -> dict[str, str]:
    """The 12 contract fields a client sends (conId … tradingClass), by name."""
    return dict(zip(CONTRACT_KEYS, fields[start:start + 12]))


class Session:
    """Reads a client's requests and answers them from the server's book."""

    def __init__(self, tws: "FakeTWS", reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.tws, self.reader, self.writer = tws, reader, writer
        self.client_id: int | None = None
        self.ready = False
        self.closed = False
        self.positions_subscribed = False
        self.account_subscribed = False
        self.pnl_requests: list[int] = []
        self.market_data: dict[int, Security] = {}
        self.bars: dict[int, Security] = {}
        self.handlers = {
            71: self.start_api, 61: self.req_positions, 64: self.cancel_positions, 5: self.req_open_orders,
            16: self.req_all_open_orders, 99: self.req_completed_orders, 6: self.req_account_updates,
            76: self.req_account_updates_multi, 7: self.req_executions, 8: self.req_ids, 9: self.req_contract_details,
            78: self.req_sec_def_opt_params, 1: self.req_mkt_data, 2: self.cancel_mkt_data, 50: self.req_rt_bars,
            51: self.cancel_rt_bars, 3: self.place_order, 4: self.cancel_order, 49: self.req_current_time,
            58: self.req_global_cancel, 17: self.req_managed_accounts, 92: self.req_pnl, 93: self.cancel_pnl,
        }

    # ---- connection ---------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        if not self.closed:
            self.writer.write(data)

    def close(self) -> None:
        self.closed = True
        self.ready = False
        self.writer.transport.abort()

    async def run(self) -> None:
        try:
            if await self.reader.readexactly(4) != b"API\0":
                return self.close()
            await wire.read_message(self.reader)  # "v157..178": the client's version range
            if self.tws.frozen:
                await self.reader.read()  # a hung TWS: takes the connection, never answers
                return
            self.send(frame(wire.SERVER_VERSION, datetime.now().strftime("%Y%m%d %H:%M:%S EST")))
            while not self.closed:
                fields = await wire.read_message(self.reader)
                msg_id = int(fields[0])
                self.tws.received.append((time.monotonic(), self.client_id or -1, msg_id, fields))
                handler = self.handlers.get(msg_id)
                if handler and not self.tws.frozen:
                    handler(fields)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.closed, self.ready = True, False
            if not self.writer.transport.is_closing():
                self.writer.close()

    def start_api(self, f: list[str]) -> None:
        client_id = int(f[2])
        if self.tws.client_in_use(client_id):
            self.send(wire.error(-1, 326, "Unable to connect as the client id is already in use. "
                                          "Retry with a unique client id."))
            asyncio.get_running_loop().call_later(0.01, self.close)
            return
        self.client_id, self.ready = client_id, True
        self.send(frame(15, 1, self.tws.account))
        self.send(frame(9, 1, self.tws.valid_id_for(client_id)))
        for code, text in ((2104, "Market data farm connection is OK:usfarm"),
                           (2106, "HMDS data farm connection is OK:ushmds"),
                           (2158, "Sec-def data farm connection is OK:secdefnj")):
            self.send(wire.error(-1, code, text))

    # ---- the book -----------------------------------------------------------------------------

    def req_positions(self, f: list[str]) -> None:
        self.positions_subscribed = True
        for con_id, (qty, avg) in self.tws.positions.items():
            self.send(wire.position(self.tws.account, self.tws.securities.by_con_id(con_id), qty, avg))
        self.send(frame(62, 1))

    def cancel_positions(self, f: list[str]) -> None:
        self.positions_subscribed = False

    def position_changed(self, sec: Security, qty: float, avg: float) -> None:
        if self.positions_subscribed:
            self.send(wire.position(self.tws.account, sec, qty, avg))
        if self.account_subscribed:
            realized = self.tws.realized.get(sec.con_id, 0.0)
            self.send(wire.portfolio(self.tws.account, sec, qty, self.tws.prices.get(sec.symbol, 0.0), avg, realized))

    def _send_open(self, orders: list[FakeOrder]) -> None:
        for order in orders:
            if order.transmit and not order.is_done:
                self.send(wire.open_order(order))
                self.send(wire.order_status(order))
        self.send(frame(53, 1))

    def req_open_orders(self, f: list[str]) -> None:
        self._send_open([o for o in self.tws.placed() if o.client_id == self.client_id])

    def req_all_open_orders(self, f: list[str]) -> None:
        self._send_open(self.tws.placed())

    def req_completed_orders(self, f: list[str]) -> None:
        for order in self.tws.placed():
            if order.is_done:
                stamp = datetime.now().strftime("%Y%m%d %H:%M:%S US/Eastern")
                self.send(wire.completed_order(order, stamp))
        self.send(frame(102))

    def req_account_updates(self, f: list[str]) -> None:
        self.account_subscribed = f[2] == "1"
        if not self.account_subscribed:
            return
        account = self.tws.account
        for key, value in self.tws.money.items():
            self.send(frame(6, 2, key, value, "USD", account))
        for con_id, (qty, avg) in self.tws.positions.items():
            sec = self.tws.securities.by_con_id(con_id)
            self.send(wire.portfolio(account, sec, qty, self.tws.prices.get(sec.symbol, 0.0), avg,
                                     self.tws.realized.get(con_id, 0.0)))
        self.send(frame(8, 1, datetime.now().strftime("%H:%M")))
        self.send(frame(54, 1, account))

    def req_pnl(self, f: list[str]) -> None:
        req_id = int(f[1])
        self.pnl_requests.append(req_id)
        self._send_pnl(req_id)

    def cancel_pnl(self, f: list[str]) -> None:
        if int(f[1]) in self.pnl_requests:
            self.pnl_requests.remove(int(f[1]))

    def _send_pnl(self, req_id: int) -> None:
        unrealized = float(self.tws.money.get("UnrealizedPnL", "0"))
        self.send(frame(94, req_id, self.tws.daily_pnl, unrealized, float(self.tws.money.get("RealizedPnL", "0"))))

    def account_changed(self, values: dict[str, str], pnl: bool) -> None:
        if self.account_subscribed:
            for key, value in values.items():
                self.send(frame(6, 2, key, value, "USD", self.tws.account))
        if pnl:
            for req_id in self.pnl_requests:
                self._send_pnl(req_id)

    def req_account_updates_multi(self, f: list[str]) -> None:
        self.send(frame(74, 1, f[2]))

    def req_executions(self, f: list[str]) -> None:
        req_id, client_filter, symbol = int(f[2]), int(f[3] or 0), f[6]
        for execution in self.tws.executions:
            if client_filter and execution.order.client_id != client_filter:
                continue
            if symbol and execution.order.sec.symbol != symbol:
                continue
            self.send(wire.exec_details(req_id, execution))
            self.send(wire.commission_report(execution))
        self.send(frame(55, 1, req_id))

    def req_ids(self, f: list[str]) -> None:
        self.send(frame(9, 1, self.tws.valid_id_for(self.client_id or 0)))

    def req_current_time(self, f: list[str]) -> None:
        self.send(frame(49, 1, int(time.time())))

    def req_managed_accounts(self, f: list[str]) -> None:
        self.send(frame(15, 1, self.tws.account))

    # ---- contracts ----------------------------------------------------------------------------

    def req_contract_details(self, f: list[str]) -> None:
        req_id = int(f[2])
        hits = self.tws.securities.match(contract_query(f, 3))
        if not hits:
            self.tws.send_error(self, req_id, 200, "No security definition has been found for the request")
            return
        for sec in hits:
            self.send(wire.contract_details(req_id, sec))
        self.send(frame(52, 1, req_id))

    def req_sec_def_opt_params(self, f: list[str]) -> None:
        req_id, underlying = int(f[1]), f[2]
        master = self.tws.securities
        if underlying == "SPX":
            daily = [f"{d:%Y%m%d}" for d in master.daily_expiries()]
            monthly = [d for d in daily if d.endswith(("15", "16", "17", "18", "19", "20", "21"))]
            strikes = master.spxw_strikes()
            for trading_class, expiries in (("SPX", monthly), ("SPXW", daily)):
                self.send(frame(75, req_id, "SMART", 416904, trading_class, 100, len(expiries), *expiries,
                                len(strikes), *strikes))
        self.send(frame(76, req_id))

    # ---- market data --------------------------------------------------------------------------

    def _security(self, query: dict) -> Security | None:
        hits = self.tws.securities.match(query)
        return hits[0] if hits else None

    def req_mkt_data(self, f: list[str]) -> None:
        req_id = int(f[2])
        sec = self._security(contract_query(f, 3))
        snapshot = f[17] == "1" if len(f) > 17 else False
        if sec is None:
            self.tws.send_error(self, req_id, 200, "No security definition has been found for the request")
            return
        self.send(frame(58, 1, req_id, 1))
        price = self.tws.prices.get(sec.symbol)
        if price is not None:
            for tick_type in (4, 9) if snapshot else (4,):
                self.send(frame(1, 6, req_id, tick_type, price, 0 if tick_type == 9 else 1, 0))
        if snapshot:
            self.send(frame(57, 1, req_id))
        else:
            self.market_data[req_id] = sec

    def cancel_mkt_data(self, f: list[str]) -> None:
        self.market_data.pop(int(f[2]), None)

    def tick(self, symbol: str, ticks: list[tuple[int, float, float]]) -> None:
        for req_id, sec in self.market_data.items():
            if symbol in (sec.symbol, sec.local_symbol):
                for tick_type, price, size in ticks:
                    self.send(frame(1, 6, req_id, tick_type, price, size, 0))
                    if tick_type == 4:
                        self.send(frame(2, 6, req_id, 5, size))

    def req_rt_bars(self, f: list[str]) -> None:
        sec = self._security(contract_query(f, 3))
        if sec is None:
            self.tws.send_error(self, int(f[2]), 200, "No security definition has been found for the request")
            return
        self.bars[int(f[2])] = sec

    def cancel_rt_bars(self, f: list[str]) -> None:
        self.bars.pop(int(f[2]), None)

    def realtime_bar(self, symbol: str, epoch: int, o: float, h: float, low: float, c: float, volume: float) -> None:
        for req_id, sec in self.bars.items():
            if symbol in (sec.symbol, sec.local_symbol):
                self.send(frame(50, 3, req_id, epoch, o, h, low, c, volume, (h + low) / 2, 10))

    # ---- orders -------------------------------------------------------------------------------

    def place_order(self, f: list[str]) -> None:
        order_id = int(f[1])
        query = contract_query(f, 2)
        hits = self.tws.securities.match(query)
        if len(hits) != 1:
            self.tws.send_error(self, order_id, 200, "No security definition has been found for the request")
            return

        def price(text: str) -> float | None:
            return float(text) if text not in ("", wire.UNSET_DOUBLE) else None

        order = FakeOrder(
            client_id=self.client_id or 0, order_id=order_id, perm_id=0, sec=hits[0], action=f[16],
            qty=float(f[17]), order_type=f[18], lmt=price(f[19]), aux=price(f[20]), tif=f[21], oca_group=f[22],
            account=f[23] or self.tws.account, order_ref=f[26], transmit=f[27] == "1", parent_id=int(f[28] or 0),
            oca_type=int(f[47] or 0))
        if not f[65]:  # no delta-neutral fields: trailStopPrice and trailingPercent follow at 69 and 70
            order.trail_stop, order.trailing_percent = price(f[69]), price(f[70])
        self.tws.place(self, order)

    def cancel_order(self, f: list[str]) -> None:
        order_id = int(f[2])
        order = self.tws.orders.get((self.client_id, order_id))
        if order is None:
            self.tws.send_error(self, order_id, 10147, f"OrderId {order_id} that needs to be cancelled is not found.")
        elif order.is_done:
            self.tws.send_error(self, order_id, 10148, f"OrderId {order_id} that needs to be cancelled cannot be "
                                                       f"cancelled, state: {order.status}.")
        else:
            self.tws.cancel(order)

    def req_global_cancel(self, f: list[str]) -> None:
        for order in self.tws.placed():
            if not order.is_done:
                self.tws.cancel(order)
