"""The destination types this build can trade, registered with the oms's broker factory table.

Each factory imports its broker package only when a destination of that type is
configured, so start-up does not pay for brokers nobody uses.
"""

from __future__ import annotations

from station.brokers.registry import BROKER_FACTORIES, PORT_KIND, BrokerContext
from station.domain.config import DestinationConfig


def _paper(destination: DestinationConfig, context: BrokerContext):
    from station.brokers.paper import paper_factory

    return paper_factory(destination, context)


def _ninjatrader_port(destination: DestinationConfig, context: BrokerContext):
    from station.brokers import ninjatrader

    return ninjatrader.build(ninjatrader.port_destination(destination.params["port"]), context.bus, context.data_dir)


def _ninjatrader_ati(destination: DestinationConfig, context: BrokerContext):
    from station.brokers import ninjatrader

    return ninjatrader.build(destination, context.bus, context.data_dir)


def _rest_broker(package: str):
    def factory(destination: DestinationConfig, context: BrokerContext):
        import importlib

        broker = importlib.import_module(f"station.brokers.{package}").build(destination, context.bus, context.secrets)
        # orders sent before a restart, so the broker's reports find their client order ids again
        broker.resume(context.open_orders(destination.name))
        return broker

    return factory


def _ib(destination: DestinationConfig, context: BrokerContext):
    from station.brokers.ib import build

    # the user's contract table (ib_contracts) lives in the store the oms hands over
    return build(destination, context.bus, context.extras.get("store") or context.data_dir)


BUILTIN = {"paper": _paper, PORT_KIND: _ninjatrader_port, "ninjatrader-ati": _ninjatrader_ati,
           "schwab": _rest_broker("schwab"), "tastytrade": _rest_broker("tastytrade"), "ib": _ib}


def register_builtin_brokers() -> None:
    """Make every destination type of CONTRACT.md buildable (a factory registered already is kept)."""
    for kind, factory in BUILTIN.items():
        BROKER_FACTORIES.setdefault(kind, factory)
