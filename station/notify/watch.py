"""Lost and restored connections become notifications (the tray shows them; e-mail sends them)."""

from __future__ import annotations

from station.bus import Bus
from station.domain.enums import ConnectionState
from station.domain.events import ConnectionChanged, Notified

LOST = (ConnectionState.DISCONNECTED, ConnectionState.ERROR, ConnectionState.STALE)
UP = (ConnectionState.CONNECTED, ConnectionState.REPLAYING)


class ConnectionNotices:
    """Says when a link that was up goes down, and when it is back."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self._up: set[str] = set()
        self._lost: set[str] = set()
        bus.subscribe(ConnectionChanged, self.on_connection)

    def on_connection(self, event: ConnectionChanged) -> None:
        name = event.name
        if event.state in UP:
            self._up.add(name)
            if name in self._lost:
                self._lost.discard(name)
                self.bus.publish(Notified("Connection restored", f"{name} ({event.kind}) is back", "info",
                                         kind="disconnect"))
        elif event.state in LOST and name in self._up:
            self._up.discard(name)
            self._lost.add(name)
            detail = f": {event.detail}" if event.detail else ""
            self.bus.publish(Notified("Connection lost", f"{name} ({event.kind}) is {event.state}{detail}", "error",
                                     kind="disconnect"))
