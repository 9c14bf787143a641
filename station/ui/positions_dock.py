"""The Positions & PnL dock: positions per strategy, destination and ticker at live marks; totals."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable

from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget
from PySide6.QtCore import Qt

from station.domain.events import PositionsMarked
from station.domain.pnl import MarkedPosition
from station.ui import theme
from station.ui.bridge import UiBridge
from station.ui.table_model import ALIGN_RIGHT, Column, RecordTableModel, TextFilterProxy, make_table
from station.ui.trading_format import money, pnl_color, price, qty

ZERO = Decimal(0)

POSITION_COLUMNS = [
    Column("Ticker", lambda m: m.position.ticker, width=52, tooltip=lambda m: m.position.ticker),
    Column("Strategy", lambda m: m.position.strategy or "(unattributed)", width=80,
           tooltip=lambda m: m.position.strategy),
    Column("Qty", lambda m: qty(m.position.qty), ALIGN_RIGHT, sample="-10",
           color=lambda m: theme.GREEN if m.position.qty > 0 else theme.RED if m.position.qty < 0 else theme.MUTED),
    Column("Avg", lambda m: price(m.position.avg_price) if m.position.qty else "", ALIGN_RIGHT, sample="21,265.25"),
    Column("Mark", lambda m: price(m.mark), ALIGN_RIGHT, sample="21,265.25",
           tooltip=lambda m: None if m.mark is not None else "no price yet"),
    Column("Unrealized", lambda m: money(m.unrealized_pnl), ALIGN_RIGHT, color=lambda m: pnl_color(m.unrealized_pnl),
           sample="-12,345.00"),
    Column("Realized", lambda m: money(m.position.realized_pnl), ALIGN_RIGHT,
           color=lambda m: pnl_color(m.position.realized_pnl), sample="-12,345.00"),
    Column("Total", lambda m: money(m.total_pnl), ALIGN_RIGHT, color=lambda m: pnl_color(m.total_pnl),
           sample="-12,345.00"),
    Column("Destination", lambda m: m.position.destination, sample="paper", color=lambda m: theme.MUTED),
]

STRATEGY_COLUMNS = [
    Column("Strategy", lambda r: r["strategy"], width=110),
    Column("Open", lambda r: str(r["open"]), ALIGN_RIGHT, sample="10"),
    Column("Unrealized", lambda r: money(r["unrealized"]), ALIGN_RIGHT, color=lambda r: pnl_color(r["unrealized"]),
           sample="-12,345.00"),
    Column("Realized", lambda r: money(r["realized"]), ALIGN_RIGHT, color=lambda r: pnl_color(r["realized"]),
           sample="-12,345.00"),
    Column("Total", lambda r: money(r["total"]), ALIGN_RIGHT, color=lambda r: pnl_color(r["total"]),
           sample="-12,345.00"),
]
ROOM_FOR_BOTH = 300  # below this height the per-strategy table folds away (By strategy shows it)


@dataclass(frozen=True)
class PnlSummary:
    """Totals over a snapshot of positions: what the status bar and the dock's headline show."""

    total: Decimal = ZERO
    unrealized: Decimal = ZERO
    realized: Decimal = ZERO
    open: int = 0

    @classmethod
    def of(cls, positions: Iterable[MarkedPosition]) -> "PnlSummary":
        total = unrealized = realized = ZERO
        count = 0
        for marked in positions:
            total += marked.total_pnl
            unrealized += marked.unrealized_pnl
            realized += marked.position.realized_pnl
            count += 0 if marked.position.is_flat else 1
        return cls(total, unrealized, realized, count)

    def detail(self) -> str:
        return f"unrealized {money(self.unrealized)} · realized {money(self.realized)} · {self.open} open"


def _key(marked: MarkedPosition):
    p = marked.position
    return p.destination, p.ticker, p.strategy or ""


class PositionsDock(QWidget):
    """Live positions and PnL, per strategy and in total."""

    def __init__(self, bridge: UiBridge, positions: list[MarkedPosition] = (), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = RecordTableModel(POSITION_COLUMNS, key=_key, cap=2000, newest_first=False)
        self.proxy = TextFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.table = make_table(self.proxy, POSITION_COLUMNS, empty="No positions yet. Fills open them here.",
                                filtered="No open positions (Show flat lists the closed ones).")
        self.strategies = RecordTableModel(STRATEGY_COLUMNS, key=lambda r: r["strategy"], newest_first=False)
        self.strategy_table = make_table(self.strategies, STRATEGY_COLUMNS, empty="PnL per strategy shows here.")
        self.total = QLabel()
        self.total.setTextFormat(Qt.RichText)
        self.total.setWordWrap(True)  # a narrow dock wraps the detail under the total
        self.show_flat = QCheckBox("Show flat")
        self.show_flat.setChecked(False)
        self.show_flat.toggled.connect(self._refilter)
        self.by_strategy = QCheckBox("By strategy")
        self.by_strategy.setChecked(True)  # until the dock's height says otherwise (see resizeEvent)
        self.by_strategy.setToolTip("PnL per strategy under the positions (folded away in a low dock)")
        self.by_strategy.toggled.connect(lambda on: self.strategy_table.setVisible(on))
        self.by_strategy.clicked.connect(lambda: setattr(self, "_by_strategy_chosen", True))  # the trader's click
        self._by_strategy_chosen = False  # the trader's choice wins over the dock's height
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.total, 1)
        top.addWidget(self.by_strategy)
        top.addWidget(self.show_flat)
        splitter = QSplitter(Qt.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(self.strategy_table)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(splitter)
        self._refilter()
        self.show_positions(list(positions))
        bridge.on(PositionsMarked, lambda batch: self.show_positions(list(batch[-1].positions)))

    def show_positions(self, positions: list[MarkedPosition]) -> None:
        """Show a snapshot of every position at its mark (the latest of a batch is enough)."""
        self.model.upsert(sorted(positions, key=lambda m: (m.position.strategy or "", m.position.ticker,
                                                            m.position.destination)))
        rows: dict[str, dict] = {}
        for marked in self.model.records():
            name = marked.position.strategy or "(unattributed)"
            row = rows.setdefault(name, {"strategy": name, "open": 0, "unrealized": ZERO, "realized": ZERO, "total": ZERO})
            row["open"] += 0 if marked.position.is_flat else 1
            row["unrealized"] += marked.unrealized_pnl
            row["realized"] += marked.position.realized_pnl
            row["total"] += marked.total_pnl
        self.strategies.upsert(rows.values())
        summary = PnlSummary.of(self.model.records())
        color = pnl_color(summary.total) or theme.TEXT
        self.total.setText(
            f'<span style="font-size:15px; font-weight:600; color:{color}">Total {money(summary.total)}</span>'
            f'<span style="color:{theme.MUTED}">&nbsp;&nbsp; {summary.detail()}</span>')

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if not self._by_strategy_chosen:  # a low dock gives its rows to the positions
            self.by_strategy.setChecked(self.height() >= ROOM_FOR_BOTH)

    def _refilter(self) -> None:
        flat = self.show_flat.isChecked()
        self.proxy.set_predicate(None if flat else (lambda m: not m.position.is_flat))
