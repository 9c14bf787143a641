"""Alert and fill markers of a chart's symbol, at the market time they happened.

Alerts and fills carry the wall clock's time; a chart is drawn in the market's (a replay's
clock during the demo). The market clock (`queries.market`) says which market time each
moment was, so a marker sits on the bar that was forming then. Past markers are read
through the queries when a chart opens or switches symbol; new ones come with events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from station.domain.alert import Alert
from station.domain.fills import Fill
from station.marketdata.trades import to_ns
from station.ui.trading_format import et_time, price, qty, ticker_root

if TYPE_CHECKING:
    from station.queries import Queries

PAST = 2000  # alerts and fills read when a chart opens (each)


@dataclass(frozen=True, slots=True)
class Marker:
    """An alert (triangle) or a fill (diamond) at its market time and price; `text` is its tooltip."""

    time_ns: int
    price: float | None
    side: str  # "buy" or "sell"
    kind: str  # "alert" or "fill"
    text: str = ""


class ChartMarkers:
    """Markers for a chart: past ones through the queries, new ones from alerts and fills as they come."""

    def __init__(self, queries: "Queries | None" = None) -> None:
        self.queries = queries

    def market_ns(self, wall: datetime) -> int | None:
        """The market time (UTC ns) of a wall-clock moment, or None when it is not known."""
        moment = self.queries.market.market_time(wall) if self.queries is not None else wall
        return None if moment is None else to_ns(moment)

    def of_alert(self, alert: Alert, symbol: str) -> Marker | None:
        if ticker_root(alert.ticker) != ticker_root(symbol):
            return None
        at = self.market_ns(alert.received_at)
        price = float(alert.price) if alert.price is not None else None
        text = f"Alert {alert.action} {alert.ticker}" + (f" @ {alert.price.normalize():f}" if alert.price is not None else "") \
            + (f" ({alert.strategy})" if alert.strategy else "")
        return None if at is None else Marker(at, price, str(alert.action), "alert", text)

    def of_fill(self, fill: Fill, symbol: str) -> Marker | None:
        if ticker_root(fill.ticker) != ticker_root(symbol):
            return None
        at = self.market_ns(fill.time)
        text = (f"Fill {str(fill.side).capitalize()} {qty(fill.qty)} {fill.ticker} @ {price(fill.price)} · "
                f"{et_time(fill.time)} ET" + (f" ({fill.strategy} at {fill.destination})" if fill.strategy else ""))
        return None if at is None else Marker(at, float(fill.price), str(fill.side), "fill", text)

    def past(self, symbol: str) -> list[Marker]:
        """The markers of `symbol` from what happened before (the journal's alerts, the fills), oldest first."""
        if self.queries is None:
            return []
        alerts = (self.of_alert(alert, symbol) for alert, _reason in self.queries.alerts.latest_alerts(PAST))
        fills = (self.of_fill(fill, symbol) for fill in self.queries.orders.latest_fills(PAST))
        return sorted((m for m in (*alerts, *fills) if m is not None), key=lambda m: m.time_ns)
