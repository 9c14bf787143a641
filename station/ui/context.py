"""What a dock or dialog is given: the bridge, the query interfaces, the edits, this run's facts, settings.

Docks never see `Station` or the main window: they hear events through the bridge, read
through `queries`, act by publishing commands, and change the configuration through
`edits`. Only `ui/launch.py` builds a context (from a `Station`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QObject, QSettings, Signal

from station.queries import Queries
from station.secrets import SecretStore
from station.ui.bridge import UiBridge
from station.ui.config_edits import ConfigEdits
from station.ui.order_ticket import TicketChoice

if TYPE_CHECKING:
    from station.analysis.export import Report
    from station.ui.log_dock import LogBuffer

ReportWriter = Callable[[Path, "datetime | None"], "Report"]  # (out_dir, since) -> the written report; blocking


@dataclass(frozen=True)
class StationInfo:
    """Facts about this run that do not change while the window is open."""

    receiver_url: str
    receiver_port: int
    data_dir: Path
    demo: bool = False
    keyring: str = ""  # which backend holds the secrets
    passphrase_created: bool = False  # the webhook passphrase was made at this start (the window shows it once)


class SymbolFocus(QObject):
    """The symbol the trader is looking at (the chart picked last): the trading ticket follows it."""

    changed = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.symbol = ""

    def set(self, symbol: str) -> None:
        if symbol and symbol != self.symbol:
            self.symbol = symbol
            self.changed.emit(symbol)


@dataclass(frozen=True)
class DockContext:
    """Everything a dock or dialog may use (or the parts of it it needs)."""

    bridge: UiBridge  # events in (batched for Qt), commands out (`bridge.publish`)
    queries: Queries
    edits: ConfigEdits  # config and IB contract table changes, each announced with ConfigChanged
    secrets: SecretStore  # read and set in a worker thread: the keyring may block
    settings: QSettings  # the window's own (layout, chart symbols, confirmations)
    info: StationInfo
    write_report: ReportWriter  # File > Analyze: alerts vs fills
    log_buffer: "LogBuffer | None" = None  # what was logged before the window opened
    focus: SymbolFocus = field(default_factory=SymbolFocus)  # shared by the window's docks
    ticket: TicketChoice = field(default_factory=TicketChoice)  # the ticket's choices, which chart trading uses
