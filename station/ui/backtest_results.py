"""What the Backtest dock shows of a run: the summary, equity and drawdown curves, the trades, and a sweep's rows
as a sortable table with a heat map of net PnL over two parameters. Widgets only: the dock feeds them."""

from __future__ import annotations

import math
from datetime import datetime, timezone

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from station.domain.timeutil import EASTERN
from station.ui import theme

FIGURES = (("trades", "Round trips", "{:,.0f}"), ("net_pnl", "Net PnL", "{:,.2f}"),
           ("gross_profit", "Gross profit", "{:,.2f}"), ("gross_loss", "Gross loss", "{:,.2f}"),
           ("win_rate", "Win rate", "{:.1%}"), ("profit_factor", "Profit factor", "{:.2f}"),
           ("avg_win", "Average win", "{:,.2f}"), ("avg_loss", "Average loss", "{:,.2f}"),
           ("expectancy", "Expectancy", "{:,.2f}"), ("max_drawdown", "Max drawdown", "{:,.2f}"),
           ("sharpe", "Sharpe", "{:.2f}"), ("sortino", "Sortino", "{:.2f}"), ("exposure", "Exposure", "{:.1%}"),
           ("commission", "Commission", "{:,.2f}"))
# a sweep row's figures, in the table's order: (key, header, format)
SWEEP_FIGURES = tuple({f[0]: f for f in FIGURES}[key] for key in (
    "net_pnl", "trades", "win_rate", "profit_factor", "max_drawdown", "sharpe")) + (
    ("is_net_pnl", "In-sample net PnL", "{:,.2f}"), ("oos_net_pnl", "Out-of-sample net PnL", "{:,.2f}"))
PNL_KEYS = ("net_pnl", "is_net_pnl", "oos_net_pnl")
TRADE_COLUMNS = (("entry_time", "Entry (ET)"), ("exit_time", "Exit (ET)"), ("ticker", "Ticker"), ("side", "Side"),
                 ("qty", "Qty"), ("entry_price", "Entry"), ("exit_price", "Exit"), ("pnl_points", "Points"),
                 ("pnl", "PnL"))


def figure_text(value, fmt: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return fmt.format(value)


def _price_text(value: float) -> str:
    """A price, points or money: 4,990.50, -6.00; more decimals only where the value has them (0.0625)."""
    return f"{value:,.2f}" if round(value, 2) == value else f"{value:,.6g}"


def et_text(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, timezone.utc).astimezone(EASTERN).strftime("%Y-%m-%d %H:%M:%S")


class NumberItem(QTableWidgetItem):
    """A cell that sorts by its number, shows it formatted."""

    def __init__(self, value, text: str) -> None:
        super().__init__(text)
        self.value = value
        self.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)

    def __lt__(self, other) -> bool:
        mine = self.value if isinstance(self.value, (int, float)) else -math.inf
        theirs = getattr(other, "value", None)
        theirs = theirs if isinstance(theirs, (int, float)) else -math.inf
        return mine < theirs


class SummaryView(QWidget):
    """The figures, two columns of label and value (and in/out of sample when the run was split)."""

    def __init__(self) -> None:
        super().__init__()
        self.grid = QGridLayout(self)
        self.values: dict[str, QLabel] = {}
        for n, (key, title, _) in enumerate(FIGURES):
            row, col = divmod(n, 2)
            label = QLabel(title)
            label.setStyleSheet(f"color: {theme.MUTED};")
            value = QLabel("—")
            value.setObjectName(key)
            value.setStyleSheet("font-size: 15px; font-weight: 600;")
            self.grid.addWidget(label, row, col * 2)
            self.grid.addWidget(value, row, col * 2 + 1)
            self.values[key] = value
        self.split = QLabel("")
        self.split.setWordWrap(True)
        self.grid.addWidget(self.split, len(FIGURES) // 2 + 1, 0, 1, 4)
        self.grid.setRowStretch(len(FIGURES) // 2 + 2, 1)

    def show_summary(self, summary: dict) -> None:
        for key, _, fmt in FIGURES:
            self.values[key].setText(figure_text(summary.get(key), fmt))
            value = summary.get(key)
            if key == "net_pnl" and isinstance(value, (int, float)):
                self.values[key].setStyleSheet(f"font-size: 15px; font-weight: 600; color: "
                                               f"{theme.GREEN if value >= 0 else theme.RED};")
        halves = [(name, summary.get(key)) for name, key in (("In sample", "in_sample"), ("Out of sample",
                                                                                          "out_of_sample"))]
        self.split.setText("   ".join(
            f"<b>{name}</b>: {half['trades']} trips, net {figure_text(half['net_pnl'], '{:,.2f}')}, win rate "
            f"{figure_text(half['win_rate'], '{:.1%}')}, PF {figure_text(half['profit_factor'], '{:.2f}')}"
            for name, half in halves if half))


class CurvesView(pg.GraphicsLayoutWidget):
    """Equity over time and, under it, the drawdown from the running peak."""

    def __init__(self) -> None:
        super().__init__()
        self.setBackground(theme.BASE)
        axis = pg.DateAxisItem(orientation="bottom")
        self.equity = self.addPlot(row=0, col=0, axisItems={"bottom": axis})
        self.equity.setLabel("left", "equity")
        self.equity.showGrid(x=True, y=True, alpha=0.15)
        self.drawdown = self.addPlot(row=1, col=0, axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
        self.drawdown.setLabel("left", "drawdown")
        self.drawdown.setXLink(self.equity)
        self.drawdown.showGrid(x=True, y=True, alpha=0.15)
        self.ci.layout.setRowStretchFactor(0, 3)
        self.ci.layout.setRowStretchFactor(1, 2)
        # steps: equity changes when a round trip closes and holds until the next one (as report.html draws it)
        self.equity_line = self.equity.plot(stepMode="right", pen=pg.mkPen("#42a5f5", width=2))
        self.drawdown_line = self.drawdown.plot(stepMode="right", pen=pg.mkPen("#ef5350", width=1.5), fillLevel=0,
                                                brush=pg.mkBrush(239, 83, 80, 70))

    def show_curve(self, equity: list[dict]) -> None:
        x = np.array([row["time"] / 1e9 for row in equity], float)
        if len(x):  # the axes read US/Eastern, as every time in the window (pyqtgraph's offset: UTC minus local)
            offset = datetime.fromtimestamp(x[0], timezone.utc).astimezone(EASTERN).utcoffset().total_seconds()
            for plot in (self.equity, self.drawdown):
                plot.getAxis("bottom").utcOffset = -int(offset)
        self.equity_line.setData(x, np.array([row["equity"] for row in equity], float))
        self.drawdown_line.setData(x, np.array([row["drawdown"] for row in equity], float))
        self.equity.enableAutoRange()
        self.drawdown.enableAutoRange()


class TradesView(QTableWidget):
    """The round trips; selecting one emits it (the dock moves the chart to it)."""

    picked = Signal(dict)

    def __init__(self) -> None:
        super().__init__(0, len(TRADE_COLUMNS))
        self.setHorizontalHeaderLabels([title for _, title in TRADE_COLUMNS])
        self.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.setSelectionMode(QAbstractItemView.SingleSelection)
        self.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.verticalHeader().hide()
        self.trips: list[dict] = []
        self.itemSelectionChanged.connect(self._selected)

    def show_trips(self, trips: list[dict]) -> None:
        self.trips = trips
        self.setSortingEnabled(False)
        self.setRowCount(len(trips))
        for r, trip in enumerate(trips):
            for c, (key, _) in enumerate(TRADE_COLUMNS):
                value = trip.get(key)
                if key.endswith("_time"):
                    item = NumberItem(value, et_text(value))
                    item.setTextAlignment(Qt.AlignLeft | Qt.AlignVCenter)
                elif isinstance(value, (int, float)):
                    item = NumberItem(value, f"{value:g}" if key == "qty" else _price_text(value))
                    if key == "pnl":
                        item.setForeground(pg.mkColor(theme.GREEN if value >= 0 else theme.RED))
                else:
                    item = QTableWidgetItem(str(value))
                item.setData(Qt.UserRole, r)
                self.setItem(r, c, item)
        self.setSortingEnabled(True)
        self.sortItems(0, Qt.AscendingOrder)  # by entry, as they happened
        self.resizeColumnsToContents()

    def _selected(self) -> None:
        rows = {item.data(Qt.UserRole) for item in self.selectedItems()}
        if len(rows) == 1:
            self.picked.emit(self.trips[rows.pop()])


class SweepView(QWidget):
    """A sweep's rows (sortable by any column) and a heat map of net PnL over two of its parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.table = QTableWidget(0, 0)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.x_box, self.y_box = QComboBox(), QComboBox()
        self.heat = pg.PlotWidget()
        self.image = pg.ImageItem()
        self.heat.addItem(self.image)
        self.heat.setMinimumHeight(140)
        self.heat.setMinimumWidth(240)
        # losses red, gains green, break-even dark: how a trader reads PnL
        profit_map = pg.ColorMap([0.0, 0.5, 1.0], [theme.RED, theme.PANEL, theme.GREEN])
        self.colorbar = pg.ColorBarItem(colorMap=profit_map, interactive=False)
        self.colorbar.setImageItem(self.image, insert_in=self.heat.getPlotItem())
        axes = QHBoxLayout()
        axes.addWidget(QLabel("Heat map of net PnL: x"))
        axes.addWidget(self.x_box)
        axes.addWidget(QLabel("y"))
        axes.addWidget(self.y_box)
        axes.addStretch(1)
        heat_side = QWidget()
        heat_layout = QVBoxLayout(heat_side)
        heat_layout.setContentsMargins(0, 0, 0, 0)
        heat_layout.addLayout(axes)
        heat_layout.addWidget(self.heat, 1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 3)
        layout.addWidget(heat_side, 2)
        self.rows: list[dict] = []
        self.keys: list[str] = []
        self.x_box.currentIndexChanged.connect(self.draw_heat)
        self.y_box.currentIndexChanged.connect(self.draw_heat)

    def show_rows(self, rows: list[dict], keys: list[str]) -> None:
        """Rows (each its parameters then figures), `keys` the swept parameters."""
        self.rows, self.keys = rows, keys
        figures = [f for f in SWEEP_FIGURES if any(f[0] in row for row in rows)]
        columns = keys + [key for key, _, _ in figures]
        formats = {key: fmt for key, _, fmt in figures}
        self.table.setSortingEnabled(False)
        self.table.setColumnCount(len(columns))
        self.table.setHorizontalHeaderLabels(keys + [title for _, title, _ in figures])
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, key in enumerate(columns):
                value = row.get(key)
                text = figure_text(value, formats[key]) if key in formats else "—" if value is None else str(value)
                numeric = key in formats or isinstance(value, (int, float))  # a figure, even "—", aligns as one
                item = NumberItem(value, text) if numeric else QTableWidgetItem(text)
                if key in PNL_KEYS and isinstance(value, (int, float)) and value:
                    item.setForeground(QColor(theme.GREEN if value > 0 else theme.RED))
                item.setData(Qt.UserRole, r)
                self.table.setItem(r, c, item)
        self.table.setSortingEnabled(True)
        self.table.sortItems(columns.index("net_pnl") if "net_pnl" in columns else 0, Qt.DescendingOrder)
        self.table.resizeColumnsToContents()
        for box, index in ((self.x_box, 0), (self.y_box, 1)):
            box.blockSignals(True)
            box.clear()
            box.addItems(keys)
            box.setCurrentIndex(min(index, len(keys) - 1))
            box.blockSignals(False)
        self.draw_heat()

    def selected(self) -> dict | None:
        """The parameters of the selected row."""
        rows = {item.data(Qt.UserRole) for item in self.table.selectedItems()}
        if len(rows) != 1:
            return None
        row = self.rows[rows.pop()]
        return {key: row[key] for key in self.keys}

    def draw_heat(self, *_) -> None:
        x_key, y_key = self.x_box.currentText(), self.y_box.currentText()
        if not self.rows or not x_key or not y_key or x_key == y_key:
            self.image.clear()
            return
        xs = sorted({row[x_key] for row in self.rows}, key=_order)
        ys = sorted({row[y_key] for row in self.rows}, key=_order)
        grid = np.full((len(xs), len(ys)), np.nan)
        for row in self.rows:
            value = row.get("net_pnl")
            if value is not None:
                grid[xs.index(row[x_key]), ys.index(row[y_key])] = value
        finite = grid[np.isfinite(grid)]
        span = float(np.abs(finite).max()) if finite.size else 1.0
        self.image.setImage(grid, autoLevels=False)
        self.colorbar.setLevels((-span or -1.0, span or 1.0))
        plot = self.heat.getPlotItem()
        plot.setLabel("bottom", x_key)
        plot.setLabel("left", y_key)
        plot.getAxis("bottom").setTicks([[(i + 0.5, str(v)) for i, v in enumerate(xs)]])
        plot.getAxis("left").setTicks([[(i + 0.5, str(v)) for i, v in enumerate(ys)]])
        plot.getViewBox().autoRange(padding=0)


def _order(value):
    return (0, value, "") if isinstance(value, (int, float)) else (1, 0, str(value))
