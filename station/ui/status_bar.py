"""Status bar: the receiver's address, the total PnL, a red kill-switch light while it is engaged, and one light
per connection (receiver, feeds, brokers, ports)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QStatusBar, QWidget

from station.domain.enums import ConnectionState
from station.domain.events import ConnectionChanged, ErrorRaised, KillSwitchChanged, PositionsMarked
from station.domain.timeutil import to_eastern
from station.ui import theme
from station.ui.positions_dock import PnlSummary
from station.ui.trading_format import money, pnl_color

LIGHT_COLORS = {
    ConnectionState.CONNECTED: theme.GREEN,
    ConnectionState.REPLAYING: theme.ACCENT,
    ConnectionState.CONNECTING: theme.AMBER,
    ConnectionState.STALE: theme.AMBER,
    ConnectionState.DISCONNECTED: theme.GREY,
    ConnectionState.ERROR: theme.RED,
}


class ConnectionLight(QLabel):
    """A coloured dot and a name; the tooltip says the state and detail."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.state = ConnectionState.DISCONNECTED

    def show_state(self, event: ConnectionChanged) -> None:
        self.state = event.state
        color = LIGHT_COLORS.get(event.state, theme.GREY)
        self.setText(f'<span style="color:{color}">●</span> {event.name}')
        self.setToolTip(f"{event.name} ({event.kind}): {event.state}" + (f" — {event.detail}" if event.detail else ""))


class StationStatusBar(QStatusBar):
    """Receiver address on the left, errors in the middle, the total PnL and connection lights on the right."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.receiver = QLabel("Receiver: starting…")
        self.receiver.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.addWidget(self.receiver)
        self.kill_switch = QLabel(f'<span style="color:{theme.RED}">●</span> <b>KILL SWITCH</b>')
        self.kill_switch.setTextFormat(Qt.RichText)
        self.kill_switch.hide()
        self.addPermanentWidget(self.kill_switch)
        self.pnl = QLabel()
        self.pnl.setTextFormat(Qt.RichText)
        self.addPermanentWidget(self.pnl)
        holder = QWidget()
        self._lights_layout = QHBoxLayout(holder)
        self._lights_layout.setContentsMargins(0, 0, 4, 0)
        self._lights_layout.setSpacing(10)
        self.addPermanentWidget(holder)
        self.lights: dict[str, ConnectionLight] = {}

    def on_connections(self, events: list[ConnectionChanged]) -> None:
        for event in events:
            light = self.lights.get(event.name)
            if event.state is ConnectionState.REMOVED:  # no longer configured: no light at all
                if light is not None:
                    self._lights_layout.removeWidget(self.lights.pop(event.name))
                    light.deleteLater()
                continue
            if light is None:
                light = self.lights[event.name] = ConnectionLight(event.name)
                self._lights_layout.addWidget(light)
            light.show_state(event)
            if event.name == "receiver" and event.state is ConnectionState.CONNECTED:
                self.receiver.setText(f"Receiver: {event.detail}")

    def on_kill_switch(self, events: list[KillSwitchChanged]) -> None:
        last = events[-1]
        self.show_kill_switch(last.reason if last.engaged else None, last.at)

    def show_kill_switch(self, reason: str | None, since=None) -> None:
        """The red light while trading is halted (its tooltip says why and since when); nothing otherwise."""
        self.kill_switch.setVisible(reason is not None)
        if reason is not None:
            when = f" since {to_eastern(since):%H:%M:%S} ET" if since is not None else ""
            self.kill_switch.setToolTip(f"Kill switch engaged ({reason}){when}: every order is refused until it is "
                                        "re-armed (Manual Trading, Ctrl+Alt+K)")

    def on_positions(self, events: list[PositionsMarked]) -> None:
        """The total PnL over every position (the latest snapshot of a batch is enough)."""
        self.show_pnl(PnlSummary.of(events[-1].positions))

    def show_pnl(self, summary: PnlSummary) -> None:
        color = pnl_color(summary.total) or theme.TEXT
        self.pnl.setText(f'PnL <b style="color:{color}">{money(summary.total)}</b>')
        self.pnl.setToolTip(f"Total PnL over every position: {summary.detail()} (Positions & PnL dock)")

    def on_errors(self, events: list[ErrorRaised]) -> None:
        last = events[-1]
        more = f" (+{len(events) - 1} more)" if len(events) > 1 else ""
        self.showMessage(f"⚠ {last.source}: {last.message}{more}", 15000)
