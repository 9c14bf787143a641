"""Add stop/target to a position held: a stop (or a trailing stop) and/or a target, each as a price or as ticks from
the average price; a trailing stop as ticks behind the best price from now on.

The two fields of each level follow each other (ticks ↔ price, on the tick grid). A stop and a trailing
stop exclude each other (ticking one unticks the other). Accepting sends `ProtectPosition` with the prices
and the trail; the oms checks them against the market and says why not if they are wrong.
"""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from station.domain.commands import ProtectPosition
from station.domain.instructions import ExitLevel, Offset
from station.domain.pnl import MarkedPosition
from station.ui import theme
from station.ui.order_ticket import TickSpinBox, tick_price


class ProtectDialog(QDialog):
    """Stop and target for one position; `command(click_id)` is what accepting it sends."""

    def __init__(self, marked: MarkedPosition, tick: Decimal, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        position = marked.position
        self.position, self.tick = position, tick
        self.long = position.qty > 0
        self.setWindowTitle(f"Add stop/target — {position.ticker}")
        where = f"{position.strategy or '(unattributed)'} at {position.destination}"
        head = QLabel(f"<b>{'Long' if self.long else 'Short'} {abs(position.qty).normalize():f} {position.ticker}</b> "
                      f"@ {tick_price(position.avg_price, tick)} · {where}"
                      + (f"<br><span style='color:{theme.MUTED}'>Last {tick_price(marked.mark, tick)}</span>"
                         if marked.mark is not None else ""))
        head.setTextFormat(Qt.RichText)
        grid = QGridLayout()
        grid.addWidget(QLabel("Ticks from avg"), 0, 1)
        grid.addWidget(QLabel("Price"), 0, 2)
        self.levels = {}
        for row, (name, sign, default) in enumerate((("stop", -1, 8), ("target", 1, 16)), start=1):
            use = QCheckBox(name.capitalize())
            use.setChecked(True)
            ticks = QSpinBox()
            ticks.setRange(1, 100_000)
            ticks.setSuffix(" ticks")
            price = TickSpinBox()
            price.set_tick(tick)
            direction = sign if self.long else -sign
            ticks.valueChanged.connect(lambda n, p=price, d=direction: p.set_price(self._at(n, d)))
            price.valueChanged.connect(lambda _v, p=price, t=ticks, d=direction: self._ticks_from(p, t, d))
            use.toggled.connect(ticks.setEnabled)
            use.toggled.connect(price.setEnabled)
            ticks.setValue(default)
            price.set_price(self._at(default, direction))
            for column, widget in enumerate((use, ticks, price)):
                grid.addWidget(widget, row, column)
            self.levels[name] = (use, ticks, price)
        self.trail_use = QCheckBox("Trailing stop")
        self.trail_ticks = QSpinBox()
        self.trail_ticks.setRange(1, 100_000)
        self.trail_ticks.setSuffix(" ticks")
        self.trail_ticks.setValue(8)
        self.trail_ticks.setEnabled(False)
        self.trail_use.toggled.connect(self.trail_ticks.setEnabled)
        trails = QLabel("behind the best price from now")
        trails.setStyleSheet(f"color: {theme.MUTED}")
        for column, widget in enumerate((self.trail_use, self.trail_ticks, trails)):
            grid.addWidget(widget, 3, column)
        stop_use = self.levels["stop"][0]
        self.trail_use.toggled.connect(lambda on: on and stop_use.setChecked(False))  # one stop or the other
        stop_use.toggled.connect(lambda on: on and self.trail_use.setChecked(False))
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText("Add")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(head)
        layout.addLayout(grid)
        layout.addWidget(buttons)

    def _at(self, ticks: int, direction: int) -> Decimal:
        return self.position.avg_price + direction * ticks * self.tick

    def _ticks_from(self, price: TickSpinBox, ticks: QSpinBox, direction: int) -> None:
        value = price.price()
        if value is None:
            return
        distance = int((value - self.position.avg_price) / self.tick) * direction
        if distance >= 1 and distance != ticks.value():
            ticks.blockSignals(True)
            ticks.setValue(distance)
            ticks.blockSignals(False)

    def price(self, name: str) -> Decimal | None:
        """The level's price, or None when it is not asked for."""
        use, _ticks, price = self.levels[name]
        return price.price() if use.isChecked() else None

    def trail(self) -> int | None:
        """The trailing stop's ticks, or None when it is not asked for."""
        return self.trail_ticks.value() if self.trail_use.isChecked() else None

    def command(self, click_id: str) -> ProtectPosition | None:
        """The command accepting sends (None when no level is asked for)."""
        stop, target, trail = self.price("stop"), self.price("target"), self.trail()
        if stop is None and target is None and trail is None:
            return None
        p = self.position
        return ProtectPosition(click_id, p.strategy, p.ticker, p.destination,
                               None if stop is None else ExitLevel(price=stop),
                               None if target is None else ExitLevel(price=target),
                               None if trail is None else Offset("ticks", Decimal(trail)))

    def summary(self) -> str:
        """`stop 4,998.00, target 5,004.00` or `trailing stop 8 ticks, target …` (what the status line says)."""
        parts = [f"{name} {tick_price(self.price(name), self.tick)}" for name in ("stop", "target")
                 if self.price(name) is not None]
        if self.trail() is not None:
            parts.insert(0, f"trailing stop {self.trail()} ticks")
        return ", ".join(parts)
