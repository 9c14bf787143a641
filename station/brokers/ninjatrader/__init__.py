"""NinjaTrader destinations: TCP ports (JSON lines) and ATI accounts (order instruction files).

`build(destination, context)` makes them:

- a port is the destination `port:<PORT>` (type `ninjatrader-port`, `registry.port_destination(5001)`):
  a `TcpPortBroker`. It reports `OrderReported(SUBMITTED)` once a line is written to the
  socket and never reports fills. Lines handed over while the port is down wait in the
  broker and go out, in order, before it reports CONNECTED.
- an ATI account is a named destination of type `ninjatrader-ati` (`account`, `incoming`,
  `outgoing`, optional `order_type`, `tif`): an `AtiBroker`. It reports SUBMITTED once
  the order file is in place, WORKING / CANCELLED / REJECTED from NinjaTrader's
  order state files, every execution as `FillReported` (fill id
  `<destination>:<order id>:<cumulative filled>`, stable across restarts; a fill is
  reported as a fill only, the order's filled status follows from it) and positions
  as `PositionReported`.

Both report their link as `ConnectionChanged(kind="broker")` under their destination name.
"""

from __future__ import annotations

from pathlib import Path

from station.brokers.ninjatrader.ati import AtiBroker
from station.brokers.ninjatrader.tcp import TcpPortBroker
from station.brokers.protocol import Broker
from station.brokers.registry import ATI_TYPE, PORT_TYPE, BrokerContext
from station.domain.config import DestinationConfig

__all__ = ["AtiBroker", "TcpPortBroker", "build"]


def build(destination: DestinationConfig, context: BrokerContext) -> Broker:
    """The broker for a NinjaTrader destination config (a port or an ATI account)."""
    params = destination.params
    if destination.type == PORT_TYPE:
        return TcpPortBroker(int(params["port"]), context.bus, host=params.get("host", "127.0.0.1"),
                             data_dir=Path(context.data_dir))
    if destination.type == ATI_TYPE:
        missing = [key for key in ("account", "incoming", "outgoing") if not params.get(key)]
        if missing:
            raise ValueError(f"destination {destination.name!r} lacks {', '.join(missing)}")
        return AtiBroker(destination.name, context.bus, account=params["account"], incoming=Path(params["incoming"]),
                         outgoing=Path(params["outgoing"]), data_dir=Path(context.data_dir),
                         order_type=params.get("order_type", "market"), tif=params.get("tif", "day"))
    raise ValueError(f"{destination.type!r} is not a NinjaTrader destination type")
