"""The dialog that edits one row of the IB contract table (forms/ib_contract.ui)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Callable

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QLabel, QLineEdit, QPushButton, QSpinBox, QWidget

from station.domain import contract_rules
from station.domain.contract_map import DEFAULT_ROLL_DAYS, SEC_TYPES, ContractMapping
from station.ui import theme
from station.ui.forms import child, load_form
from station.ui.slots import connect

TYPE_NAMES = {"STK": "Stock", "FUT": "Future", "OPT": "Option", "IND": "Index", "CASH": "Forex"}
RIGHT_NAMES = {"": "—", "C": "Call", "P": "Put"}
TEXT_FIELDS = {"tvSymbol": "tv_symbol", "symbol": "symbol", "exchange": "exchange", "primaryExchange": "primary_exchange",
               "currency": "currency", "expiry": "expiry", "tradingClass": "trading_class", "multiplier": "multiplier",
               "note": "note"}
ONLY_FOR = {"rollDays": ("FUT",), "right": ("OPT",), "strike": ("OPT",), "strikeOffset": ("OPT",),
            "tradingClass": ("OPT", "FUT")}


class ContractDialog:
    """Loads the form, fills it from a mapping, checks it, and hands a valid mapping to `on_save`."""

    def __init__(self, parent: QWidget | None, on_save: Callable[[ContractMapping, str | None], None],
                 mapping: ContractMapping | None = None) -> None:
        self.dialog: QDialog = load_form("ib_contract", parent)
        self.on_save = on_save
        self.original = mapping.tv_symbol if mapping else None
        self.texts = {name: child(self.dialog, QLineEdit, name) for name in TEXT_FIELDS}
        self.strike = child(self.dialog, QLineEdit, "strike")
        self.sec_type = child(self.dialog, QComboBox, "secType")
        self.right = child(self.dialog, QComboBox, "right")
        self.roll_days = child(self.dialog, QSpinBox, "rollDays")
        self.strike_offset = child(self.dialog, QSpinBox, "strikeOffset")
        self.rule = child(self.dialog, QLabel, "rule")
        self.error = child(self.dialog, QLabel, "error")
        self.error.setStyleSheet(f"color: {theme.RED}")
        self.rule.setStyleSheet(f"color: {theme.MUTED}")
        for code in SEC_TYPES:
            self.sec_type.addItem(f"{TYPE_NAMES[code]} ({code})", code)
        for code, name in RIGHT_NAMES.items():
            self.right.addItem(name, code)
        self.dialog.setWindowTitle("Edit IB contract" if mapping else "Add IB contract")
        if mapping is not None:
            self.fill(mapping)
        else:
            self.texts["exchange"].setText("SMART")
            self.texts["currency"].setText("USD")
            self.roll_days.setValue(DEFAULT_ROLL_DAYS)
        buttons = child(self.dialog, QDialogButtonBox, "buttons")
        connect(buttons.accepted, self.save)
        connect(child(self.dialog, QPushButton, "readSymbol").clicked, self.read_symbol)
        for widget in (*self.texts.values(), self.strike):
            widget.textChanged.connect(self.refresh)
        for combo in (self.sec_type, self.right):
            combo.currentIndexChanged.connect(self.refresh)
        for spin in (self.roll_days, self.strike_offset):
            spin.valueChanged.connect(self.refresh)
        self.refresh()

    def fill(self, m: ContractMapping, *, keep_symbol: bool = False) -> None:
        """Show `m` in the form (`keep_symbol` leaves the typed TradingView symbol alone)."""
        for name, attr in TEXT_FIELDS.items():
            if name == "tvSymbol" and keep_symbol:
                continue
            self.texts[name].setText(getattr(m, attr))
        self.strike.setText("" if m.strike is None else str(m.strike))
        self.sec_type.setCurrentIndex(self.sec_type.findData(m.sec_type))
        self.right.setCurrentIndex(self.right.findData(m.right))
        self.roll_days.setValue(m.roll_days)
        self.strike_offset.setValue(m.strike_offset)

    def read_symbol(self) -> None:
        """Fill the fields the way the built-in rules read the typed symbol."""
        text = self.texts["tvSymbol"].text()
        try:
            self.fill(contract_rules.parse_symbol(text), keep_symbol=True)
        except contract_rules.UnknownSymbol as exc:
            self.error.setText(str(exc))

    def mapping(self) -> ContractMapping:
        """The mapping the form describes; ValueError names each bad field."""
        values = {attr: self.texts[name].text().strip() for name, attr in TEXT_FIELDS.items()}
        values["tv_symbol"] = contract_rules.normalize(values["tv_symbol"])
        values["symbol"] = values["symbol"].upper()
        values["currency"] = values["currency"].upper() or "USD"
        values["exchange"] = values["exchange"].upper() or "SMART"
        values["primary_exchange"] = values["primary_exchange"].upper()
        values["trading_class"] = values["trading_class"].upper()
        sec_type = self.sec_type.currentData()
        strike_text = self.strike.text().strip()
        try:
            strike = Decimal(strike_text) if strike_text and sec_type == "OPT" else None
        except InvalidOperation:
            raise ValueError(f"strike: {strike_text!r} is not a number") from None
        return ContractMapping(
            sec_type=sec_type, strike=strike, right=self.right.currentData() if sec_type == "OPT" else "",
            strike_offset=self.strike_offset.value() if sec_type == "OPT" else 0,
            roll_days=self.roll_days.value() if sec_type == "FUT" else DEFAULT_ROLL_DAYS, **values)

    def refresh(self) -> None:
        """Enable the fields the type uses, and say how the contract will be chosen (or what is wrong)."""
        sec_type = self.sec_type.currentData()
        for name, kinds in ONLY_FOR.items():
            enabled = sec_type in kinds
            widget = self.dialog.findChild(QWidget, name)
            widget.setEnabled(enabled)
            self.dialog.findChild(QLabel, f"{name}Label").setEnabled(enabled)
        try:
            mapping = self.mapping()
        except ValueError as exc:
            self.rule.setText("")
            self.error.setText(str(exc).replace("; ", "\n"))
            return
        self.error.setText("")
        self.rule.setText(f"{mapping.tv_symbol} → {TYPE_NAMES[mapping.sec_type].lower()} {mapping.symbol}: "
                          f"{mapping.rule()}")

    def save(self) -> None:
        try:
            mapping = self.mapping()
        except ValueError as exc:
            self.error.setText(str(exc).replace("; ", "\n"))
            return
        self.on_save(mapping, self.original)
        self.dialog.accept()

    def open(self) -> QDialog:
        self.dialog.open()
        return self.dialog
