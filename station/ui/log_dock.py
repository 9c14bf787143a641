"""The Log dock: Station's log records, live, filterable by level, source and text, capped."""

from __future__ import annotations

import logging
import threading
from collections import deque
from datetime import datetime, timezone

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLineEdit, QVBoxLayout, QWidget

from station.domain.timeutil import EASTERN
from station.logs import add_handler
from station.ui import theme
from station.ui.table_model import Column, RecordTableModel, TextFilterProxy, make_table

LEVELS = {"Debug": logging.DEBUG, "Info": logging.INFO, "Warning": logging.WARNING, "Error": logging.ERROR}
LEVEL_COLORS = {logging.WARNING: theme.AMBER, logging.ERROR: theme.RED, logging.CRITICAL: theme.RED,
                logging.DEBUG: theme.MUTED}
CAP = 5000


class LogBuffer(logging.Handler):
    """Collects records from any thread until the dock takes them (bounded)."""

    def __init__(self, maxlen: int = CAP) -> None:
        super().__init__(logging.DEBUG)
        self._records: deque[logging.LogRecord] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        record.message = record.getMessage()
        with self._lock:
            self._records.append(record)

    def take(self) -> list[logging.LogRecord]:
        with self._lock:
            records = list(self._records)
            self._records.clear()
        return records


def _source(record: logging.LogRecord) -> str:
    name = record.name
    return name.split(".", 1)[1] if name.startswith("station.") else name


def _time(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, timezone.utc).astimezone(EASTERN).strftime("%H:%M:%S.%f")[:-3]


COLUMNS = [
    Column("Time (ET)", _time, width=100),
    Column("Level", lambda r: r.levelname, color=lambda r: LEVEL_COLORS.get(r.levelno), width=70),
    Column("Source", _source, width=110),
    Column("Message", lambda r: r.message + (f"  [{r.exc_info[0].__name__}]" if r.exc_info else ""),
           tooltip=lambda r: r.message),
]


class LogDock(QWidget):
    """Live log table with level/source/text filters.

    `buffer`: a LogBuffer attached before Station started, so the dock shows start-up too.
    """

    def __init__(self, parent: QWidget | None = None, buffer: LogBuffer | None = None) -> None:
        super().__init__(parent)
        self.buffer = buffer if buffer is not None else add_handler(LogBuffer())
        self.model = RecordTableModel(COLUMNS, cap=CAP)
        self.proxy = TextFilterProxy(self)
        self.proxy.setSourceModel(self.model)

        self.level = QComboBox()
        self.level.addItems(list(LEVELS))
        self.level.setCurrentText("Info")
        self.source = QComboBox()
        self.source.addItem("All sources")
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search log…")
        self.search.setClearButtonEnabled(True)
        filters = QHBoxLayout()
        filters.setContentsMargins(0, 0, 0, 0)
        filters.addWidget(self.level)
        filters.addWidget(self.source)
        filters.addWidget(self.search, 1)

        self.table = make_table(self.proxy, COLUMNS)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(filters)
        layout.addWidget(self.table)

        self.level.currentTextChanged.connect(self._refilter)
        self.source.currentTextChanged.connect(self._refilter)
        self.search.textChanged.connect(self.proxy.set_text)
        self._refilter()
        self._timer = QTimer(self)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self.pull)
        self._timer.start()

    def pull(self) -> None:
        """Move buffered records into the table (called on a timer)."""
        records = self.buffer.take()
        if not records:
            return
        known = {self.source.itemText(i) for i in range(self.source.count())}
        for source in sorted({_source(r) for r in records} - known):
            self.source.addItem(source)
        self.model.upsert(records)

    def _refilter(self) -> None:
        minimum = LEVELS[self.level.currentText()]
        source = self.source.currentText()
        any_source = source == "All sources"
        self.proxy.set_predicate(lambda r: r.levelno >= minimum and (any_source or _source(r) == source))

    def closeEvent(self, event) -> None:  # noqa: N802
        logging.getLogger("station").removeHandler(self.buffer)
        super().closeEvent(event)

    def detach(self) -> None:
        """Stop collecting records (the window is closing)."""
        self._timer.stop()
        logging.getLogger("station").removeHandler(self.buffer)
