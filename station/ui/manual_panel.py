"""The Manual Trading panel: Buy, Sell, Close, Reverse, Flatten All, 0DTE and the Kill Switch.

Every button publishes a command with a fresh click id (the cause of its orders) and says
what became of it once the core answers (`ManualActionCompleted`), never a guess. Questions
before orders, Flatten All and the kill switch are switched off each on its own
(`ui/confirm.py`); every button has a keyboard shortcut. The ticker follows the chart.

Just past 400 lines: the panel's one grid of fields and buttons and a short handler per button; the order's
fields, prices on the tick grid and the bracket templates are in `order_ticket.py`.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from html import escape

from PySide6.QtCore import QSettings, QSize, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from station.domain.commands import (
    ClosePosition,
    FlattenAll,
    BuyZeroDte,
    ReversePosition,
    SetKillSwitch,
)
from station.domain.config import RoutingConfig
from station.domain.enums import OptionRight, Side
from station.domain.events import (
    BarUpdated,
    ConfigChanged,
    KillSwitchChanged,
    ManualActionCompleted,
    StrategySignalled,
    TickReceived,
)
from station.domain.ticks import tick_size
from station.queries import PriceQueries
from station.ui import theme
from station.ui.bracket_templates import TemplatesDialog, load_templates
from station.ui.bridge import UiBridge
from station.ui.confirm import asks, confirm, key, set_asks
from station.ui.context import SymbolFocus
from station.ui.order_ticket import OrderFields, TicketChoice, tick_price, ticket_order
from station.ui.slots import connect
from station.ui.trading_format import ticker_root

CONFIRM_KEY = key("order")
SHORTCUTS = {"buy": "Ctrl+Alt+B", "sell": "Ctrl+Alt+S", "close": "Ctrl+Alt+C", "reverse": "Ctrl+Alt+R",
             "flatten": "Ctrl+Alt+F", "kill": "Ctrl+Alt+K", "call": "Ctrl+Alt+Up", "put": "Ctrl+Alt+Down"}


def _label(text: str) -> QLabel:
    label = QLabel(text)
    label.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
    return label


def _button(text: str, color: str | None = None) -> QPushButton:
    button = QPushButton(text)
    button.setMinimumHeight(30)
    if color:
        button.setStyleSheet(f"QPushButton {{ background: {color}; color: white; font-weight: 600; border: none; "
                             f"padding: 4px 6px; }}"
                             f"QPushButton:disabled {{ background: #3a424e; color: {theme.GREY}; }}")
    return button


class ManualTradingDock(QWidget):
    """Manual orders for the selected strategy and ticker."""

    def __init__(self, bridge: UiBridge, config_source, settings: QSettings, kill_reason: str | None = None,
                 parent: QWidget | None = None, *, focus: SymbolFocus | None = None,
                 prices: PriceQueries | None = None, choice: TicketChoice | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self._config_source = config_source  # () -> RoutingConfig
        self.settings = settings
        self.prices = prices  # the last price of each symbol (prefills limit and stop prices)
        self.choice = choice if choice is not None else TicketChoice()
        self.choice.confirm = self.ask
        self.fields = OrderFields(self)
        self.fields.edit_templates.connect(self.edit_templates)
        self.fields.changed.connect(self._sync_choice)
        self.fields.last.clicked.connect(lambda: self.fields.prefill(self.mark()))
        self.fields.order_type.currentIndexChanged.connect(lambda _: self._prefill_if_empty())
        self.templates_dialog: TemplatesDialog | None = None
        self.pending: dict[str, str] = {}  # click id -> label, until the oms answers
        self.signalling: dict[str, str] = {}  # click id -> label, until the 0DTE strategy signals
        self.strategy = QComboBox()
        self.ticker = QComboBox()
        self.qty = QDoubleSpinBox()
        self.qty.setDecimals(0)
        self.qty.setRange(1, 99_999)
        self.qty.setValue(1)
        self.confirm = QCheckBox("Confirm orders")
        self.confirm.setChecked(asks(settings, "order"))
        self.confirm.toggled.connect(lambda on: set_asks(settings, "order", on))

        self.confirm.setToolTip("Ask before every manual order (the dialog can turn this off)")
        # label | field | label | field: the ticket stays whole in the right column of a laptop's window
        for box, width in ((self.strategy, 100), (self.ticker, 60), (self.qty, 64)):
            if isinstance(box, QComboBox):
                box.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumWidth(width)
        self.confirm.setText("Confirm")
        form = QGridLayout()
        form.setVerticalSpacing(4)
        form.setHorizontalSpacing(4)
        form.setColumnStretch(1, 1)
        form.setColumnStretch(3, 1)
        form.addWidget(_label("Strategy"), 0, 0)
        form.addWidget(self.strategy, 0, 1, 1, 2)
        form.addWidget(self.confirm, 0, 3)
        form.addWidget(_label("Ticker"), 1, 0)
        form.addWidget(self.ticker, 1, 1)
        form.addWidget(_label("Qty"), 1, 2)
        form.addWidget(self.qty, 1, 3)
        self.fields.add_to(form, 2, _label)
        self.qty.valueChanged.connect(lambda _: self._sync_choice())

        self.buttons = {
            "buy": _button("Buy", "#15803d"), "sell": _button("Sell", "#b91c1c"),
            "close": _button("Close"), "reverse": _button("Reverse"),
            "call": _button("0DTE Call"), "put": _button("0DTE Put"),
            "flatten": _button("Flatten All", "#b45309"), "kill": _button("KILL SWITCH", "#7f1d1d"),
        }
        grid = QGridLayout()
        grid.setSpacing(4)
        grid.addWidget(self.buttons["buy"], 0, 0, 1, 3)
        grid.addWidget(self.buttons["sell"], 0, 3, 1, 3)
        for column, key in enumerate(("close", "reverse", "flatten")):
            grid.addWidget(self.buttons[key], 1, 2 * column, 1, 2)
        grid.addWidget(self.buttons["call"], 2, 0, 1, 3)
        grid.addWidget(self.buttons["put"], 2, 3, 1, 3)
        grid.addWidget(self.buttons["kill"], 3, 0, 1, 6)
        self.buttons["kill"].setMinimumHeight(32)
        for key in ("close", "reverse", "flatten", "call", "put"):
            self.buttons[key].setMinimumHeight(26)
        actions = {"buy": lambda: self.order(Side.BUY), "sell": lambda: self.order(Side.SELL),
                   "close": self.close_position, "reverse": self.reverse, "flatten": self.flatten_all,
                   "kill": self.toggle_kill_switch, "call": lambda: self.zero_dte(OptionRight.CALL),
                   "put": lambda: self.zero_dte(OptionRight.PUT)}
        self.actions_by_key = actions
        self.shortcuts = []
        for name, action in actions.items():
            connect(self.buttons[name].clicked, action)
            self.buttons[name].setToolTip(f"{self.buttons[name].text()} ({SHORTCUTS[name]})")
            shortcut = QShortcut(QKeySequence(SHORTCUTS[name]), self, context=Qt.WindowShortcut)
            connect(shortcut.activated, action)
            self.shortcuts.append(shortcut)

        self.result = QLabel("")
        self.result.setWordWrap(True)
        self.content = content = QWidget()
        scroll = QScrollArea()  # the dock may be made small; the panel scrolls instead of forcing its size
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.NoFrame)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        layout = QVBoxLayout(content)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(form)
        layout.addSpacing(4)
        layout.addLayout(grid)
        layout.addWidget(self.result)
        layout.addStretch(1)

        self.kill_engaged = False
        self.show_kill_switch(kill_reason is not None, kill_reason or "")
        self.strategy.currentTextChanged.connect(self._fill_tickers)
        self.ticker.currentTextChanged.connect(lambda _: self._ticker_changed())
        self.reload()
        self.fields.set_templates(load_templates(settings))
        bridge.on(ConfigChanged, lambda batch: self.reload())
        bridge.on(ManualActionCompleted, self._on_completed)
        bridge.on(StrategySignalled, self._on_signals)
        bridge.on(KillSwitchChanged, lambda batch: self.show_kill_switch(batch[-1].engaged, batch[-1].reason))
        bridge.on(TickReceived, lambda batch: self._on_prices({e.tick.symbol for e in batch}))
        bridge.on(BarUpdated, lambda batch: self._on_prices({e.bar.symbol for e in batch}))
        if focus is not None:
            focus.changed.connect(self.follow)

    def sizeHint(self) -> QSize:  # noqa: N802 - all of the panel, so the default layout shows it unscrolled
        return self.content.sizeHint()

    # ---- choices ---------------------------------------------------------------------------------

    def reload(self) -> None:
        """Offer the configured strategies and their tickers (keeping the selection)."""
        self.config: RoutingConfig = self._config_source()
        current = self.strategy.currentText()
        self.strategy.blockSignals(True)
        self.strategy.clear()
        self.strategy.addItems([s.name for s in self.config.strategies])
        if current:
            self.strategy.setCurrentText(current)
        self.strategy.blockSignals(False)
        self._fill_tickers()

    def _fill_tickers(self) -> None:
        current = self.ticker.currentText()
        strategy = self.config.strategy(self.strategy.currentText())
        self.ticker.clear()
        if strategy:
            self.ticker.addItems([t.ticker for t in strategy.tickers])
            if current:
                self.ticker.setCurrentText(current)

    def follow(self, symbol: str) -> bool:
        """Select `symbol` (the chart's): in the chosen strategy if it lists it, else in the first that does."""
        wanted = ticker_root(symbol)
        strategies = [self.strategy.currentText()] + [s.name for s in self.config.strategies]
        for name in strategies:
            strategy = self.config.strategy(name)
            entry = next((t.ticker for t in strategy.tickers if ticker_root(t.ticker) == wanted), None) if strategy else None
            if entry is not None:
                if name != self.strategy.currentText():
                    self.strategy.setCurrentText(name)
                self.ticker.setCurrentText(entry)
                return True
        return False

    # ---- the order's details -------------------------------------------------------------------------

    def tick(self) -> Decimal:
        """The selected ticker's tick (its `tick_size` setting, else the futures table's, else a cent)."""
        strategy = self.config.strategy(self.strategy.currentText())
        entry = strategy.ticker(self.ticker.currentText()) if strategy else None
        return tick_size(self.ticker.currentText(), None, entry.options.get("tick_size") if entry else None)

    def mark(self) -> Decimal | None:
        """The selected ticker's last price, when one was seen."""
        ticker = self.ticker.currentText()
        return self.prices.price(ticker) if self.prices is not None and ticker else None

    def _ticker_changed(self) -> None:
        strategy = self.config.strategy(self.strategy.currentText())
        entry = strategy.ticker(self.ticker.currentText()) if strategy else None
        self.fields.set_destinations(entry.destination_names() if entry else [])
        self.fields.set_tick(self.tick())
        self.fields.prefill(self.mark())
        self._show_last()
        self._sync_choice()

    def _prefill_if_empty(self) -> None:
        if self.fields.limit.price() is None or self.fields.stop.price() is None:
            self.fields.prefill(self.mark())

    def _on_prices(self, symbols: set[str]) -> None:
        ticker = self.ticker.currentText()
        if ticker and any(ticker_root(s) == ticker_root(ticker) for s in symbols):
            self._show_last()
            self._prefill_if_empty()

    def _show_last(self) -> None:
        mark = self.mark()
        self.fields.last.setText("—" if mark is None else tick_price(mark, self.tick()))

    def _sync_choice(self) -> None:
        choice = self.choice
        choice.strategy, choice.ticker = self.strategy.currentText(), self.ticker.currentText()
        choice.destination = self.fields.destination.currentData()
        choice.qty = Decimal(int(self.qty.value()))
        choice.tif = self.fields.time_in_force
        choice.template = self.fields.template.currentData()
        choice.tick = self.tick() if choice.ticker else choice.tick

    def edit_templates(self) -> TemplatesDialog:
        """The bracket templates dialog (not modal: the ticket stays usable); saving reloads the choice."""
        if self.templates_dialog is None:
            self.templates_dialog = TemplatesDialog(self.settings, self, self.fields.template.currentText())
            self.templates_dialog.saved.connect(lambda: self.fields.set_templates(load_templates(self.settings)))
        self.templates_dialog.show()
        self.templates_dialog.raise_()
        return self.templates_dialog

    # ---- actions ----------------------------------------------------------------------------------

    def ask(self, text: str, kind: str = "order") -> bool:
        """Confirm an action unless questions of its `kind` are off ("Don't ask again" switches off that kind only)."""
        accepted = confirm(self, self.settings, kind, text)
        self.confirm.setChecked(asks(self.settings, "order"))
        return accepted

    def _selection(self) -> tuple[str, str] | None:
        strategy, ticker = self.strategy.currentText(), self.ticker.currentText()
        if not strategy or not ticker:
            self._say("Choose a strategy and a ticker first.", theme.AMBER)
            return None
        return strategy, ticker

    def _send(self, command, label: str) -> None:
        self.pending[command.click_id] = label
        self._say(f"{label}: sent…", theme.MUTED)
        self.bridge.publish(command)

    def order(self, side: Side) -> None:
        """Buy or Sell with the ticket's type, prices, TIF, destination and bracket (the question states them all)."""
        chosen = self._selection()
        if chosen is None:
            return
        self._sync_choice()
        command, text = ticket_order(_click(), side, self.choice, self.fields.kind, self.fields.limit.price(),
                                     self.fields.stop.price(), self.mark())
        if command is None:
            self._say(f"Not sent: {text}", theme.RED)
            return
        where = "" if command.destination else " at every destination of the strategy's ticker"
        if self.ask(f"<b>{escape(text)}</b>{where} ({escape(chosen[0])})?"):
            self._send(command, text)

    def close_position(self) -> None:
        chosen = self._selection()
        if chosen and self.ask(f"<b>Close</b> {chosen[0]}'s position in {chosen[1]}?"):
            self._send(ClosePosition(_click(), *chosen), f"Close {chosen[1]} ({chosen[0]})")

    def reverse(self) -> None:
        chosen = self._selection()
        if chosen and self.ask(f"<b>Reverse</b> {chosen[0]}'s position in {chosen[1]}?"):
            self._send(ReversePosition(_click(), *chosen), f"Reverse {chosen[1]} ({chosen[0]})")

    def zero_dte(self, right: OptionRight) -> None:
        strategy = self.config.zero_dte_strategy(self.strategy.currentText()) or self.config.zero_dte_strategy()
        if strategy is None:
            self._say("0DTE orders need a 0DTE strategy (add one in the Engine dock).", theme.AMBER)
            return
        if not self.bridge.handles(BuyZeroDte):
            self._say("0DTE orders need the strategy engine, which is not running.", theme.AMBER)
            return
        if self.ask(f"Buy the <b>0DTE SPX {right.value}</b> of {strategy.name}?"):
            click = _click()
            self.signalling[click] = f"0DTE {right.value}"
            self.bridge.publish(BuyZeroDte(click, strategy.name, right))
            self._say(f"0DTE {right.value}: sent to {strategy.name}…", theme.MUTED)

    def flatten_all(self) -> None:
        if self.ask("<b>Flatten All</b>: cancel every working order and close every position?", "flatten"):
            self._send(FlattenAll(reason="manual", click_id=_click()), "Flatten All")

    def toggle_kill_switch(self) -> None:
        if self.kill_engaged:
            if self.ask("<b>Re-arm</b>: let strategies and orders trade again?", "kill"):
                self.bridge.publish(SetKillSwitch(False, "manual"))
                self._say("Re-arming…", theme.MUTED)
        elif self.ask("<b>Kill switch</b>: flatten everything and halt every strategy until re-armed?", "kill"):
            self.bridge.publish(SetKillSwitch(True, "manual"))
            self._say("Engaging the kill switch…", theme.AMBER)

    # ---- results ----------------------------------------------------------------------------------

    def show_kill_switch(self, engaged: bool, reason: str) -> None:
        """The button, the order buttons and the status line as the kill switch now is."""
        was_engaged, self.kill_engaged = getattr(self, "kill_engaged", False), engaged
        button = self.buttons["kill"]
        button.setText("KILL SWITCH ENGAGED — re-arm" if engaged else "KILL SWITCH")
        button.setStyleSheet(button.styleSheet().replace("#7f1d1d", "#dc2626") if engaged
                             else button.styleSheet().replace("#dc2626", "#7f1d1d"))
        for key in ("buy", "sell", "reverse", "call", "put"):
            self.buttons[key].setEnabled(not engaged)
        if engaged:
            self._say(f"Trading halted ({reason}).", theme.RED)
        elif was_engaged:
            self._say("Kill switch re-armed: trading resumes.", theme.GREEN)

    def _on_completed(self, batch: list[ManualActionCompleted]) -> None:
        for event in batch:
            label = self.pending.pop(event.click_id, None)
            if label is None:
                continue
            count = len(event.client_order_ids)
            if event.error:
                self._say(f"{label}: {event.error}", theme.RED)
            elif label == "Flatten All":
                self._say(f"Flatten All: done, {count} closing order{'s' if count != 1 else ''} placed"
                          if count else "Flatten All: done, no position was open", theme.GREEN)
            else:
                self._say(f"{label}: {count} order{'s' if count != 1 else ''} placed", theme.GREEN)

    def _on_signals(self, batch: list[StrategySignalled]) -> None:
        """A 0DTE press answered by its strategy: the option it signalled, or why it sent nothing."""
        for event in batch:
            click = next((c for c in self.signalling if f":manual:{c}:" in event.signal_id), None)
            if click is None:
                continue
            label = self.signalling[click]
            if event.traded:
                self._say(f"{label}: {event.action} {event.ticker} signalled ({event.reason})", theme.GREEN)
            else:
                self._say(f"{label}: not sent — {event.note or event.reason}", theme.AMBER)
            if event.action.lower() == "buy" or not event.traded:  # the close before the buy keeps waiting
                del self.signalling[click]

    def _say(self, text: str, color: str) -> None:
        self.result.setText(text)
        self.result.setStyleSheet(f"color: {color}")


def _click() -> str:
    return uuid.uuid4().hex[:16]
