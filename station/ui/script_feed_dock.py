"""The Script Feed dock: trades and market data sent by external scripts, and PnL per strategy."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget

from station.domain.events import ScriptDataReceived
from station.domain.marketdata import MarketDataRow
from station.domain.script_feed import ScriptTrade
from station.domain.timeutil import to_eastern
from station.queries import ScriptFeedQueries
from station.ui import theme
from station.ui.table_model import ALIGN_RIGHT, Column, RecordTableModel, make_table

CAP = 5000


def _et(value) -> str:
    return to_eastern(value).strftime("%m-%d %H:%M:%S")


def _num(value, places: int = 2) -> str:
    return "" if value is None else f"{value:,.{places}f}"


def _pnl_color(value) -> str | None:
    if value is None or value == 0:
        return None
    return theme.GREEN if value > 0 else theme.RED


TRADE_COLUMNS = [
    Column("Time (ET)", lambda t: _et(t.timestamp), width=110),
    Column("Strategy", lambda t: t.strategy or "", width=120),
    Column("Symbol", lambda t: t.symbol, width=80),
    Column("Side", lambda t: t.side.value.upper(), width=50,
           color=lambda t: theme.GREEN if t.side.value == "buy" else theme.RED),
    Column("Qty", lambda t: f"{t.quantity:,}", ALIGN_RIGHT, width=70),
    Column("Price", lambda t: _num(t.price), ALIGN_RIGHT, width=90),
    Column("P/L", lambda t: _num(t.profit_loss), ALIGN_RIGHT, width=90, color=lambda t: _pnl_color(t.profit_loss)),
]

BAR_COLUMNS = [
    Column("Time (ET)", lambda b: _et(b.time), width=110),
    Column("Symbol", lambda b: b.symbol, width=80),
    Column("Open", lambda b: _num(b.open), ALIGN_RIGHT, width=80),
    Column("High", lambda b: _num(b.high), ALIGN_RIGHT, width=80),
    Column("Low", lambda b: _num(b.low), ALIGN_RIGHT, width=80),
    Column("Close", lambda b: _num(b.close), ALIGN_RIGHT, width=80),
    Column("Volume", lambda b: _num(b.volume, 0), ALIGN_RIGHT, width=90),
    Column("RSI", lambda b: _num(b.rsi, 1), ALIGN_RIGHT, width=60),
    Column("Signal", lambda b: _num(b.signal_strength), ALIGN_RIGHT, width=70),
]


class ScriptFeedDock(QWidget):
    """Live tables of script trades and market data, with a PnL summary per strategy."""

    def __init__(self, uploads: ScriptFeedQueries, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.trades = RecordTableModel(TRADE_COLUMNS, cap=CAP)
        self.bars = RecordTableModel(BAR_COLUMNS, cap=CAP)
        self.pnl: dict[str, Decimal] = defaultdict(Decimal)
        self.summary = QLabel()
        self.summary.setStyleSheet(f"color: {theme.MUTED}; padding: 2px 4px;")
        tabs = QTabWidget()
        tabs.addTab(make_table(self.trades, TRADE_COLUMNS, stretch_last=False), "Trades")
        tabs.addTab(make_table(self.bars, BAR_COLUMNS, stretch_last=False), "Market data")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary)
        layout.addWidget(tabs)
        self._add(list(reversed(uploads.recent_trades(CAP))), list(reversed(uploads.recent_bars(CAP))))

    def on_uploads(self, events: list[ScriptDataReceived]) -> None:
        """Bridge batch handler: add every upload's rows."""
        trades = [t for e in events for t in e.upload.trades]
        bars = [b for e in events for b in e.upload.bars]
        self._add(trades, bars)

    def _add(self, trades: list[ScriptTrade], bars: list[MarketDataRow]) -> None:
        self.trades.upsert(trades)
        self.bars.upsert(bars)
        for trade in trades:
            if trade.profit_loss is not None:
                self.pnl[trade.strategy or "(none)"] += trade.profit_loss
        self._show_summary()

    def _show_summary(self) -> None:
        if not self.pnl:
            self.summary.setText("No script trades yet — scripts POST /api/trading-data or use Socket.IO.")
            return
        total = sum(self.pnl.values())
        parts = [f"{name}: <span style='color:{_pnl_color(v) or theme.TEXT}'>{v:,.2f}</span>"
                 for name, v in sorted(self.pnl.items())]
        self.summary.setText(f"P/L total <b style='color:{_pnl_color(total) or theme.TEXT}'>{total:,.2f}</b>"
                             f" &nbsp;·&nbsp; " + " &nbsp;·&nbsp; ".join(parts))
