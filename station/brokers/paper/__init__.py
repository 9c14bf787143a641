"""The paper broker: simulated fills at the feed's last price (the demo's default destination)."""

from station.brokers.paper.broker import PaperBroker, paper_factory

__all__ = ["PaperBroker", "paper_factory"]
