"""A fake NinjaTrader ATI: consumes order instruction files and writes information update files.

It behaves as NinjaTrader 8's file interface is documented to: it picks up
`incoming/oif*.txt`, processes every line, deletes the file, and writes
`outgoing/<ORDER ID>.txt` (`STATE;FILLED;AVGPRICE`) on each change of an order's state
and `outgoing/<INSTRUMENT> <EXCHANGE>_<ACCOUNT>_Position.txt` (`LONG|SHORT|FLAT;QTY;AVG`)
on each change of a position. Files are written in place, as NinjaTrader does.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

OIF = re.compile(r"^oif(\d+)\.txt$", re.IGNORECASE)


@dataclass
class FakeOrder:
    order_id: str
    instrument: str
    action: str
    qty: int
    kind: str
    filled: int = 0
    avg: Decimal = Decimal(0)
    state: str = "ACCEPTED"
    oco: str = ""


class FakeNinjaTrader:
    """Polls `incoming`; market orders fill at once at `fill_price`, other types stay WORKING."""

    def __init__(self, incoming: Path, outgoing: Path, *, account: str = "Sim101", exchange: str = "Globex",
                 fill_price: Decimal = Decimal("5000.5"), poll_s: float = 0.01) -> None:
        self.incoming, self.outgoing = incoming, outgoing
        self.account, self.exchange = account, exchange
        self.fill_price = fill_price
        self.poll_s = poll_s
        self.processed: list[tuple[str, list[str]]] = []  # (file name, its lines), in order of N
        self.orders: dict[str, FakeOrder] = {}
        self.positions: dict[str, tuple[int, Decimal]] = {}
        self.changes: list[tuple[str, int, Decimal, Decimal]] = []  # (order id, qty, limit, stop) as changed
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            self.process_incoming()
            await asyncio.sleep(self.poll_s)

    def process_incoming(self) -> None:
        files = sorted((p for p in self.incoming.iterdir() if OIF.match(p.name)),
                       key=lambda p: int(OIF.match(p.name).group(1)))
        for path in files:
            lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            path.unlink()
            self.processed.append((path.name, lines))
            for line in lines:
                self._command(line.split(";"))

    def _command(self, fields: list[str]) -> None:
        assert len(fields) == 13, fields
        command = fields[0]
        if command == "PLACE":
            account, instrument, action, qty, kind = fields[1:6]
            assert account == self.account, account
            order = self.orders[fields[10]] = FakeOrder(fields[10], instrument, action, int(qty), kind, oco=fields[9])
            self.write_state(order.order_id, "ACCEPTED;0;0")
            self.write_state(order.order_id, "WORKING;0;0")
            if kind == "MARKET":
                self.fill(order.order_id, order.qty, self.fill_price)
        elif command == "CHANGE":  # quantity, limit, stop of a working order (0: a price the type does not use)
            order = self.orders.get(fields[10])
            if order is not None and order.state in ("ACCEPTED", "WORKING", "PARTFILLED"):
                order.qty = int(fields[4])
                self.changes.append((order.order_id, int(fields[4]), Decimal(fields[6]), Decimal(fields[7])))
                self.write_state(order.order_id, f"{order.state};{order.filled};{order.avg}")
        elif command == "CANCEL":
            order = self.orders.get(fields[10])
            if order is not None:
                self.cancel(order)
        elif command == "CLOSEPOSITION":  # cancel the instrument's working orders, flatten at `fill_price`
            account, instrument = fields[1:3]
            assert account == self.account and not any(fields[3:]), fields
            for order in list(self.orders.values()):
                if order.instrument == instrument:
                    self.cancel(order)
            held, _ = self.positions.get(instrument, (0, Decimal(0)))
            if held:
                self.positions[instrument] = (0, Decimal(0))
                self.write_outgoing(f"{instrument} {self.exchange}_{self.account}_Position.txt", "FLAT;0;0")

    def cancel(self, order: FakeOrder) -> None:
        if order.state in ("ACCEPTED", "WORKING", "PARTFILLED"):
            order.state = "CANCELLED"
            self.write_state(order.order_id, f"CANCELLED;{order.filled};{order.avg}")

    def fill(self, order_id: str, qty: int, price: Decimal) -> None:
        """Execute `qty` more of an order at `price`: its state file and the position file change."""
        order = self.orders[order_id]
        order.avg = (order.avg * order.filled + price * qty) / (order.filled + qty)
        order.filled += qty
        order.state = "FILLED" if order.filled == order.qty else "PARTFILLED"
        self.write_state(order_id, f"{order.state};{order.filled};{order.avg}")
        if order.oco:  # one of an OCO group filled: NinjaTrader cancels the others
            for other in self.orders.values():
                if other.oco == order.oco and other is not order:
                    self.cancel(other)
        signed = qty if order.action == "BUY" else -qty
        held, avg = self.positions.get(order.instrument, (0, Decimal(0)))
        new = held + signed
        if new == 0:
            avg = Decimal(0)
        elif held == 0 or (held > 0) == (signed > 0):
            avg = (avg * abs(held) + price * qty) / abs(new)
        elif (new > 0) != (held > 0):
            avg = price
        self.positions[order.instrument] = (new, avg)
        side = "FLAT" if new == 0 else "LONG" if new > 0 else "SHORT"
        self.write_outgoing(f"{order.instrument} {self.exchange}_{self.account}_Position.txt",
                            f"{side};{abs(new)};{avg}")

    def write_state(self, order_id: str, text: str) -> None:
        self.write_outgoing(f"{order_id}.txt", text)

    def write_outgoing(self, name: str, text: str) -> None:
        (self.outgoing / name).write_text(text + "\r\n", encoding="utf-8")


def model_request(**fields):
    """An OrderRequest whose `role` may be given by its name."""
    from station.domain import enums
    from station.domain.orders import OrderRequest

    fields["role"] = enums.OrderRole(fields.get("role", "entry"))
    return OrderRequest(**fields)
