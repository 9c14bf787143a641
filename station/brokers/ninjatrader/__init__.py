"""NinjaTrader destinations: TCP ports (JSON lines) and ATI accounts (order instruction files).

The oms builds them with `build(destination, bus, data_dir)`:

- a port is the destination `port:<PORT>` (`port_destination(5001)` makes its config,
  type `ninjatrader-port`): a `TcpPortBroker`. It reports `OrderReported(SUBMITTED)` once
  a line is written to the socket and never reports fills. Lines handed over while
  the port is down wait in the broker and go out, in order, before it reports CONNECTED.
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

from station.brokers.protocol import Broker
from station.brokers.ninjatrader.ati import AtiBroker
from station.brokers.ninjatrader.tcp import TcpPortBroker
from station.bus import Bus
from station.domain.config import DestinationConfig

PORT_TYPE = "ninjatrader-port"
ATI_TYPE = "ninjatrader-ati"
PORT_PREFIX = "port:"


def port_destination(port: int) -> DestinationConfig:
    """The destination config of NinjaTrader TCP port `port` (named `port:<PORT>`)."""
    return DestinationConfig(name=f"{PORT_PREFIX}{int(port)}", type=PORT_TYPE, params={"port": int(port)})


def port_of(destination_name: str) -> int | None:
    """5001 for `port:5001`; None for any other destination name."""
    if not destination_name.startswith(PORT_PREFIX):
        return None
    try:
        return int(destination_name[len(PORT_PREFIX):])
    except ValueError:
        return None


def build(destination: DestinationConfig, bus: Bus, data_dir: Path) -> Broker:
    """The broker for a NinjaTrader destination config (a port or an ATI account)."""
    params = destination.params
    if destination.type == PORT_TYPE:
        return TcpPortBroker(int(params["port"]), bus, host=params.get("host", "127.0.0.1"),
                             data_dir=Path(data_dir))
    if destination.type == ATI_TYPE:
        missing = [key for key in ("account", "incoming", "outgoing") if not params.get(key)]
        if missing:
            raise ValueError(f"destination {destination.name!r} lacks {', '.join(missing)}")
        return AtiBroker(destination.name, bus, account=params["account"], incoming=Path(params["incoming"]),
                         outgoing=Path(params["outgoing"]), data_dir=Path(data_dir),
                         order_type=params.get("order_type", "market"), tif=params.get("tif", "day"))
    raise ValueError(f"{destination.type!r} is not a NinjaTrader destination type")


__all__ = ["ATI_TYPE", "PORT_TYPE", "AtiBroker", "TcpPortBroker", "build", "port_destination", "port_of"]
