"""NinjaTrader destinations: TCP ports (JSON lines) and ATI accounts (order instruction files).

`build(destination, context)` makes them:

- a port is the destination `port:<PORT>` (type `ninjatrader-port`, `registry.port_destination(5001)`):
  a `TcpPortBroker`. It reports `OrderReported(SUBMITTED)` once a line is written to the
  socket. Lines handed over while the port is down wait in the broker and go out, in order,
  before it reports CONNECTED. What its receiver answers (the add-on in
  `resources/ninjatrader/`: acks, order states, positions) becomes order states, fills
  (fill id `<port>:<order id>:<cumulative filled>`) and positions; a receiver that never
  answers leaves its orders SUBMITTED. After a connection ends, what the receiver may not
  have read is written again (`sent_lines`; the window is the `ninjatrader.resend_window_s` setting).
- an ATI account is a named destination of type `ninjatrader-ati` (`account`, optional
  `incoming`, `outgoing` — by default `Documents/NinjaTrader 8/incoming` and `…/outgoing` —
  `order_type`, `tif`): an `AtiBroker`. It reports SUBMITTED once the order file is in
  place, WORKING / CANCELLED / REJECTED from NinjaTrader's order state files, every execution
  as `FillReported` (fill id `<destination>:<order id>:<cumulative filled>`, stable across
  restarts; a fill is reported as a fill only, the order's filled status follows from it)
  and positions as `PositionReported`. Cancels and changes are ATI `CANCEL` and `CHANGE`; an
  order that closes the account's whole position (role `exit`) is `CLOSEPOSITION`.

Both report their link as `ConnectionChanged(kind="broker")` under their destination name.
"""

from __future__ import annotations

from pathlib import Path

from station.brokers.ninjatrader.ati import AtiBroker
from station.brokers.ninjatrader.tcp import RESEND_WINDOW_S, TcpPortBroker
from station.brokers.protocol import Broker
from station.brokers.registry import ATI_TYPE, PORT_TYPE, BrokerContext
from station.domain.config import DestinationConfig
from station.paths import ninjatrader_dir

__all__ = ["AtiBroker", "TcpPortBroker", "build"]


def build(destination: DestinationConfig, context: BrokerContext) -> Broker:
    """The broker for a NinjaTrader destination config (a port or an ATI account)."""
    params = destination.params
    if destination.type == PORT_TYPE:
        return TcpPortBroker(int(params["port"]), context.bus, host=params.get("host", "127.0.0.1"),
                             data_dir=Path(context.data_dir), orders=context.orders,
                             resend_window_s=lambda: resend_window_s(context))
    if destination.type == ATI_TYPE:
        if not params.get("account"):
            raise ValueError(f"destination {destination.name!r} lacks account")
        incoming, outgoing = ati_folders(params)
        return AtiBroker(destination.name, context.bus, account=params["account"], incoming=incoming,
                         outgoing=outgoing, data_dir=Path(context.data_dir),
                         order_type=params.get("order_type", "market"), tif=params.get("tif", "day"),
                         last_price=context.last_price)
    raise ValueError(f"{destination.type!r} is not a NinjaTrader destination type")


def resend_window_s(context: BrokerContext) -> float:
    """The `ninjatrader.resend_window_s` setting (600 s unless set)."""
    try:
        return float(context.settings("ninjatrader").get("resend_window_s", RESEND_WINDOW_S))
    except (KeyError, TypeError, ValueError):
        return RESEND_WINDOW_S


def ati_folders(params: dict) -> tuple[Path, Path]:
    """An ATI destination's `incoming` and `outgoing`, by default NinjaTrader 8's own in the user's Documents."""
    base = ninjatrader_dir()
    return (Path(params.get("incoming") or base / "incoming"), Path(params.get("outgoing") or base / "outgoing"))
