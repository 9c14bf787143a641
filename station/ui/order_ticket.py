"""The order part of the Manual Trading ticket: destination, order type, limit and stop prices on the instrument's
tick grid, time in force and a bracket template; and the sentence a confirmation states.

Orders are read by the contract's own rules (`domain.instructions.read_instructions`, as alerts and
`POST /api/orders` are): the ticket writes the fields an alert would carry and the domain judges them.
Chart trading (`ui/chart/trading.py`) places its orders with the same choices, through `TicketChoice`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable

from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QGridLayout, QHBoxLayout, QToolButton, QWidget

from station.domain.commands import ManualOrder
from station.domain.enums import OrderRole, OrderType, Side, TimeInForce
from station.domain.exits import exit_price
from station.domain.instructions import OrderInstructions, Offset, read_instructions
from station.domain.config import RoutingConfig
from station.domain.ticks import round_to_tick, tick_size
from station.ui.bracket_templates import BracketTemplate
from station.ui.trading_format import ticker_root

ORDER_TYPES = (("Market", OrderType.MARKET), ("Limit", OrderType.LIMIT), ("Stop", OrderType.STOP),
               ("Stop-limit", OrderType.STOP_LIMIT))
EVERY_DESTINATION = "All"  # every destination of the ticker (the word fits the ticket's narrow column)
TYPE_WORDS = {OrderType.MARKET: "market", OrderType.LIMIT: "limit", OrderType.STOP: "stop",
              OrderType.STOP_LIMIT: "stop-limit"}


def configured_tick(config: RoutingConfig, symbol: str) -> Decimal:
    """A symbol's tick: a ticker of the same root with a `tick_size` setting, else the domain's table, else a cent."""
    root = ticker_root(symbol)
    for strategy in config.strategies:
        for entry in strategy.tickers:
            if ticker_root(entry.ticker) == root and entry.options.get("tick_size"):
                return tick_size(entry.ticker, None, entry.options["tick_size"])
    return tick_size(symbol)


def tick_decimals(tick: Decimal) -> int:
    """How many decimals prices on a `tick` grid need (2 at least below 1: ES 0.25 → 2, ZN 0.015625 → 6)."""
    exponent = tick.normalize().as_tuple().exponent
    decimals = max(0, -int(exponent))
    return max(decimals, 2) if tick < 1 else decimals


def tick_price(value: Decimal, tick: Decimal) -> str:
    """A price written with its tick's decimals (`5,012.25`)."""
    return f"{value:,.{tick_decimals(tick)}f}"


class TickSpinBox(QDoubleSpinBox):
    """A price on the instrument's tick grid: the arrows step one tick, a typed price snaps to the nearest tick."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tick = Decimal("0.01")
        self.setRange(0, 1e9)
        self.setGroupSeparatorShown(True)
        self.setKeyboardTracking(False)
        self.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        self.set_tick(self.tick)
        self.editingFinished.connect(self.snap)

    def set_tick(self, tick: Decimal) -> None:
        self.tick = tick
        self.setDecimals(tick_decimals(tick))
        self.setSingleStep(float(tick))
        self.snap()

    def set_price(self, price: Decimal | None) -> None:
        self.setValue(0 if price is None else float(round_to_tick(price, self.tick)))

    def price(self) -> Decimal | None:
        """The price shown, on the tick grid (None while 0: no price)."""
        if self.value() <= 0:
            return None
        return round_to_tick(Decimal(repr(round(self.value(), self.decimals()))), self.tick)

    def snap(self) -> None:
        price = self.price()
        if price is not None and float(price) != self.value():
            self.setValue(float(price))

    def stepBy(self, steps: int) -> None:  # noqa: N802 - stay on the grid whatever the float sums make
        super().stepBy(steps)
        self.snap()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt sizes a spin box for its largest value; a price is shorter
        hint = super().minimumSizeHint()
        digits = "00,000." + "0" * self.decimals()
        return QSize(min(hint.width(), self.fontMetrics().horizontalAdvance(digits) + 30), hint.height())

    def sizeHint(self) -> QSize:  # noqa: N802
        return self.minimumSizeHint()


@dataclass
class TicketChoice:
    """What the ticket has chosen besides side and price (kept up to date by the ticket): the chart's orders
    use it too."""

    strategy: str = ""
    ticker: str = ""
    destination: str | None = None
    qty: Decimal = Decimal(1)
    tif: TimeInForce = TimeInForce.DAY
    template: BracketTemplate | None = None
    tick: Decimal = Decimal("0.01")
    confirm: Callable[[str], bool] | None = None  # the ticket's question before an order (None: no ticket yet)


def instruction_fields(kind: OrderType, limit: Decimal | None, stop: Decimal | None, tif: TimeInForce,
                       template: BracketTemplate | None) -> dict[str, Any]:
    """The order instructions as an alert would write them (the prices its type takes only)."""
    fields: dict[str, Any] = {"order_type": kind.value, "tif": tif.value}
    if kind in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        fields["limit_price"] = None if limit is None else str(limit)
    if kind in (OrderType.STOP, OrderType.STOP_LIMIT):
        fields["stop_price"] = None if stop is None else str(stop)
    if template is not None:
        fields.update(template.fields())
    return fields


def read_ticket(side: Side, fields: dict[str, Any], mark: Decimal | None) -> tuple[OrderInstructions | None, str | None]:
    """The instructions the fields make, or why they cannot be sent (the contract's words, naming the field)."""
    errors: dict[str, str] = {}
    instructions = read_instructions(fields, errors, action=side, price=mark)
    if errors:
        names = {"limit_price": "limit price", "stop_price": "stop price", "stop_loss": "stop", "take_profit": "target",
                 "trailing_stop": "trailing stop", "order_type": "type", "tif": "TIF"}
        return None, "; ".join(f"{names.get(k, k)} {v}" for k, v in errors.items())
    return instructions, None


def reference_price(instructions: OrderInstructions, mark: Decimal | None) -> Decimal | None:
    """Where the entry is expected to fill: its limit, its stop, else the market."""
    if instructions.kind in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        return instructions.limit_price
    if instructions.kind is OrderType.STOP:
        return instructions.stop_price
    return mark


def describe(side: Side, qty: Decimal, ticker: str, instructions: OrderInstructions, tick: Decimal,
             mark: Decimal | None, template: BracketTemplate | None = None) -> str:
    """The whole order in one line: `Buy 2 ES limit 5,012.25 GTC — stop 8 ticks (5,010.25), target 16 ticks
    (5,016.25)`; a market entry's exits are priced from the last price (`~`)."""
    kind = instructions.kind
    prices = {OrderType.LIMIT: f" {tick_price(instructions.limit_price, tick)}" if instructions.limit_price else "",
              OrderType.STOP: f" {tick_price(instructions.stop_price, tick)}" if instructions.stop_price else "",
              OrderType.STOP_LIMIT: (f" stop {tick_price(instructions.stop_price, tick)} limit "
                                     f"{tick_price(instructions.limit_price, tick)}")
              if instructions.stop_price and instructions.limit_price else ""}.get(kind, "")
    text = (f"{side.value.capitalize()} {qty.normalize():f} {ticker} {TYPE_WORDS[kind]}{prices} "
            f"{instructions.time_in_force.value.upper()}")
    if not instructions.is_bracket:
        return text
    reference = reference_price(instructions, mark)
    about = "~" if kind is OrderType.MARKET else ""
    parts = []
    for word, role, level in (("stop", OrderRole.STOP_LOSS, instructions.stop_loss),
                              ("target", OrderRole.TAKE_PROFIT, instructions.take_profit),
                              ("trailing stop", OrderRole.TRAILING_STOP, instructions.trailing_stop)):
        if level is None:
            continue
        offset = level if isinstance(level, Offset) else level.offset
        if offset is None:
            parts.append(f"{word} {tick_price(level.price, tick)}")
            continue
        where = "" if reference is None else \
            f" ({about}{tick_price(exit_price(role, side, reference, offset, tick), tick)})"
        parts.append(f"{word} {offset}{where}")
    named = f"{template.name}: " if template is not None else ""
    return f"{text} — {named}{', '.join(parts)}"


def ticket_order(click_id: str, side: Side, choice: TicketChoice, kind: OrderType, limit: Decimal | None,
                 stop: Decimal | None, mark: Decimal | None) -> tuple[ManualOrder | None, str]:
    """The command one click makes with the ticket's choices, and its sentence (or None and why not)."""
    fields = instruction_fields(kind, limit, stop, choice.tif, choice.template)
    instructions, error = read_ticket(side, fields, mark)
    if instructions is None:
        return None, error or "nothing to send"
    text = describe(side, choice.qty, choice.ticker, instructions, choice.tick, mark, choice.template)
    where = f" at {choice.destination}" if choice.destination else ""
    # a plain market DAY order carries no instructions, as a Buy click always did (a port's line keeps its nulls)
    plain = instructions == OrderInstructions(order_type=OrderType.MARKET, tif=TimeInForce.DAY)
    return ManualOrder(click_id, choice.strategy, choice.ticker, side, choice.qty, None if plain else instructions,
                       choice.destination), f"{text}{where}"


class OrderFields(QObject):
    """Type, TIF, prices, bracket and destination of the ticket (`add_to` puts them in the panel's grid; the panel
    owns the buttons)."""

    edit_templates = Signal()
    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.destination = QComboBox()
        self.destination.setToolTip("Where the order goes: one destination of the ticker, or all of them")
        self.order_type = QComboBox()
        for label, kind in ORDER_TYPES:
            self.order_type.addItem(label, kind)
        self.tif = QToolButton(text="DAY", checkable=True)  # two choices: a toggle is all the room it needs
        self.tif.setToolTip("Time in force — DAY: cancelled at the session's end; GTC (pressed): works until filled "
                            "or cancelled. Click to switch.")
        self.tif.toggled.connect(lambda on: self.tif.setText("GTC" if on else "DAY"))
        self.limit = TickSpinBox()
        self.limit.setToolTip("The limit price (steps by the instrument's tick)")
        self.stop = TickSpinBox()
        self.stop.setToolTip("The stop price (steps by the instrument's tick)")
        self.last = QToolButton(text="—")
        self.last.setObjectName("lastPrice")
        self.last.setToolTip("The last price: click to set the limit and stop prices to it")
        self.template = QComboBox()
        self.template.setToolTip("A bracket template: the stop, target or trailing stop every order of this click gets")
        self.templates_button = QToolButton(text="…")
        self.templates_button.setToolTip("Make, change or delete bracket templates")
        self.templates_button.clicked.connect(self.edit_templates.emit)
        # explicit minimum widths: the ticket stays whole in a 330-pixel column (Qt's hints are for the longest text)
        for box, width in ((self.destination, 72), (self.order_type, 72), (self.template, 60)):
            box.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumWidth(width)
        for box in (self.limit, self.stop):
            box.setMinimumWidth(84)
        for button in (self.last, self.templates_button):  # buttons, not read as plain text
            button.setStyleSheet("QToolButton { border: 1px solid #343b46; background: #1a1d22; }"
                                 "QToolButton:hover { background: #2f3640; }")
        self.order_type.currentIndexChanged.connect(self._type_changed)
        for signal in (self.destination.currentIndexChanged, self.tif.toggled, self.template.currentIndexChanged):
            signal.connect(lambda _index: self.changed.emit())
        self._type_changed()

    def add_to(self, grid: QGridLayout, first: int, label: Callable[[str], QWidget]) -> None:
        """Three rows of the ticket's grid (label, field, label, field) from row `first`: Type (with TIF) and the
        last price, Limit and Stop, Bracket (with its editor) and Route (the destination)."""

        def pair(wide: QWidget, narrow: QWidget) -> QHBoxLayout:
            line = QHBoxLayout()
            line.setContentsMargins(0, 0, 0, 0)
            line.setSpacing(2)
            line.addWidget(wide, 1)
            line.addWidget(narrow)
            return line

        for row, (left, left_field, right, right_field) in enumerate((
                ("Type", pair(self.order_type, self.tif), "Last", self.last), ("Limit", self.limit, "Stop", self.stop),
                ("Bracket", pair(self.template, self.templates_button), "Route", self.destination)), start=first):
            grid.addWidget(label(left), row, 0)
            (grid.addLayout if isinstance(left_field, QHBoxLayout) else grid.addWidget)(left_field, row, 1)
            grid.addWidget(label(right), row, 2)
            grid.addWidget(right_field, row, 3)

    @property
    def kind(self) -> OrderType:
        return OrderType(self.order_type.currentData())  # Qt hands a StrEnum back as a plain str

    @property
    def time_in_force(self) -> TimeInForce:
        return TimeInForce.GTC if self.tif.isChecked() else TimeInForce.DAY

    def set_time_in_force(self, tif: TimeInForce) -> None:
        self.tif.setChecked(tif is TimeInForce.GTC)

    def set_kind(self, kind: OrderType) -> None:
        self.order_type.setCurrentIndex(self.order_type.findData(kind))

    def _type_changed(self) -> None:
        kind = self.kind
        self.limit.setEnabled(kind in (OrderType.LIMIT, OrderType.STOP_LIMIT))
        self.stop.setEnabled(kind in (OrderType.STOP, OrderType.STOP_LIMIT))
        self.last.setEnabled(kind is not OrderType.MARKET)
        self.changed.emit()

    def set_destinations(self, names: list[str]) -> None:
        current = self.destination.currentData()
        self.destination.blockSignals(True)
        self.destination.clear()
        self.destination.addItem(EVERY_DESTINATION, None)
        self.destination.setItemData(0, "Every destination the ticker lists" + (f": {', '.join(names)}" if names else ""),
                                     Qt.ToolTipRole)
        for name in names:
            self.destination.addItem(name, name)
        index = self.destination.findData(current)
        self.destination.setCurrentIndex(max(index, 0))
        self.destination.blockSignals(False)

    def set_templates(self, templates: list[BracketTemplate], keep: str | None = None) -> None:
        keep = keep if keep is not None else self.template.currentText()
        self.template.blockSignals(True)
        self.template.clear()
        self.template.addItem("None", None)
        for template in templates:
            self.template.addItem(template.name, template)
            self.template.setItemData(self.template.count() - 1, template.summary(), Qt.ToolTipRole)
        index = self.template.findText(keep) if keep else 0
        self.template.setCurrentIndex(max(index, 0))
        self.template.blockSignals(False)
        self.changed.emit()

    def set_tick(self, tick: Decimal) -> None:
        self.limit.set_tick(tick)
        self.stop.set_tick(tick)

    def prefill(self, mark: Decimal | None) -> None:
        """Both prices at the last price (on the tick grid)."""
        if mark is not None:
            self.limit.set_price(mark)
            self.stop.set_price(mark)
