"""The Accounts dock: each broker account's balance, buying power and today's PnL, as its destination reports it."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from station.domain.events import AccountReported
from station.queries import AccountQueries
from station.ui import theme
from station.ui.bridge import UiBridge
from station.ui.table_model import ALIGN_RIGHT, Column, RecordTableModel, make_table
from station.ui.trading_format import et_time, money, pnl_color


def _amount(value) -> str:
    return "—" if value is None else f"{value:,.2f}"


COLUMNS = [
    Column("Destination", lambda a: a.destination, sample="paper-2"),
    Column("Account", lambda a: a.account, sample="DU1234567"),
    Column("Balance", lambda a: _amount(a.balance), ALIGN_RIGHT, sample="1,234,567.89",
           tooltip=lambda a: "net liquidation value: cash and positions at market"),
    Column("Buying power", lambda a: _amount(a.buying_power), ALIGN_RIGHT, sample="1,234,567.89"),
    Column("Today", lambda a: "—" if a.day_pnl is None else money(a.day_pnl), ALIGN_RIGHT, sample="-12,345.67",
           color=lambda a: pnl_color(a.day_pnl), tooltip=lambda a: "today's PnL as the broker counts it"),
    Column("Cur.", lambda a: a.currency, sample="USD", color=lambda a: theme.MUTED),
    Column("Updated (ET)", lambda a: et_time(a.at), color=lambda a: theme.MUTED),
]
EMPTY = ("No broker account reports yet. Interactive Brokers, Schwab and Tastytrade destinations show their "
         "balance, buying power and today's PnL here once connected.")


class AccountsDock(QWidget):
    """One row per broker account, updated in place as its destination reports."""

    def __init__(self, bridge: UiBridge, accounts: AccountQueries | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = RecordTableModel(COLUMNS, key=lambda a: (a.destination, a.account), newest_first=False)
        self.table = make_table(self.model, COLUMNS, empty=EMPTY)
        self.note = QLabel("Paper and NinjaTrader destinations keep no account here: their PnL is in Positions.")
        self.note.setStyleSheet(f"color: {theme.MUTED}")
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.table)
        layout.addWidget(self.note)
        if accounts is not None:
            self.show_accounts(accounts.latest_accounts())
        bridge.on(AccountReported, self.show_accounts)

    def show_accounts(self, reports: list[AccountReported]) -> None:
        self.model.upsert(reports)
