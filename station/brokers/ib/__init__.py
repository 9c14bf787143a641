"""Interactive Brokers through ib_async: orders, fills, positions, market data, and the daily restart.

`build(destination, context)` makes the broker; the user's contract table reaches it through
`context.contracts` (a `ContractTable`), so the broker never imports the store. ib_async itself
is imported only once a broker starts connecting.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from station.brokers.ib.broker import IBBroker
    from station.brokers.registry import BrokerContext
    from station.domain.config import DestinationConfig


def build(destination: DestinationConfig, context: BrokerContext) -> IBBroker:
    """An `IBBroker` for one `{"type": "ib", …}` destination."""
    from station.brokers.ib.broker import IBBroker
    from station.brokers.ib.config import IBSettings

    mappings = context.contracts.all if context.contracts is not None else tuple
    return IBBroker(destination.name, IBSettings.from_params(destination.params), context.bus, mappings=mappings)
