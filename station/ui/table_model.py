"""A capped, keyed table model: every dock's table is a list of Columns over plain records.

Rows are kept oldest-first in a deque and shown newest-first. A row with a key
already present is updated in place; new rows are inserted in one block per
batch; past the cap the oldest rows go. Updates arrive in batches from the bus
bridge, so a flood costs one model reset-free insert per tick of the timer.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Hashable, Iterable

from PySide6.QtCore import QAbstractTableModel, QEvent, QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableView

from station.ui import theme

ALIGN_LEFT = Qt.AlignLeft | Qt.AlignVCenter
ALIGN_RIGHT = Qt.AlignRight | Qt.AlignVCenter
TITLE_PADDING = 18  # the theme's header padding and border, around a column's title
CELL_PADDING = 14  # a cell's margins around its text
SORT_ARROW = 16
FILTERED = "Nothing matches the filter."


@dataclass(frozen=True)
class Column:
    """One column: its title, how to get the shown text from a record, and optional style."""

    title: str
    text: Callable[[Any], Any]
    align: Qt.AlignmentFlag = ALIGN_LEFT
    color: Callable[[Any], str | None] | None = None
    tooltip: Callable[[Any], str | None] | None = None
    width: int | None = None
    sample: str | None = None  # the widest text it usually shows: the column is at least that wide in any font


class RecordTableModel(QAbstractTableModel):
    """Shows records (any objects) through Columns; keyed in-place updates; capped."""

    def __init__(self, columns: list[Column], *, key: Callable[[Any], Hashable] | None = None,
                 cap: int = 5000, newest_first: bool = True, parent=None) -> None:
        super().__init__(parent)
        self.columns = columns
        self.cap = cap
        self._key = key
        self._newest_first = newest_first
        self._rows: deque = deque()
        self._base = 0  # sequence number of self._rows[0]
        self._seq_of: dict[Hashable, int] = {}

    # ---- Qt model interface -----------------------------------------------------------------

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation, role=Qt.DisplayRole):  # noqa: N802
        if orientation == Qt.Horizontal and role == Qt.DisplayRole:
            return self.columns[section].title
        if orientation == Qt.Horizontal and role == Qt.TextAlignmentRole:
            return int(self.columns[section].align)
        return None

    def data(self, index: QModelIndex, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        record = self.record(index.row())
        column = self.columns[index.column()]
        if role == Qt.DisplayRole:
            value = column.text(record)
            return "" if value is None else str(value)
        if role == Qt.TextAlignmentRole:
            return int(column.align)
        if role == Qt.ForegroundRole and column.color is not None:
            color = column.color(record)
            return QColor(color) if color else None
        if role == Qt.ToolTipRole and column.tooltip is not None:
            return column.tooltip(record)
        if role == Qt.UserRole:
            return record
        return None

    # ---- records ------------------------------------------------------------------------------

    def record(self, row: int) -> Any:
        """The record shown at view row `row`."""
        index = len(self._rows) - 1 - row if self._newest_first else row
        return self._rows[index]

    def records(self) -> list:
        """Every record, in view order."""
        rows = list(self._rows)
        return rows[::-1] if self._newest_first else rows

    def _view_row(self, seq: int) -> int:
        index = seq - self._base
        return len(self._rows) - 1 - index if self._newest_first else index

    def upsert(self, records: Iterable[Any]) -> None:
        """Update rows whose key is present, add the others as the newest, trim to the cap."""
        fresh: list[tuple[Hashable, Any]] = []
        pending: dict[Hashable, int] = {}
        for record in records:
            key = self._key(record) if self._key else None
            seq = self._seq_of.get(key) if key is not None else None
            if key is not None and key in pending:
                fresh[pending[key]] = (key, record)
            elif seq is not None:
                self._rows[seq - self._base] = record
                row = self._view_row(seq)
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.columns) - 1))
            else:
                if key is not None:
                    pending[key] = len(fresh)
                fresh.append((key, record))
        if fresh:
            self._append(fresh)

    def _append(self, fresh: list[tuple[Hashable, Any]]) -> None:
        if len(fresh) > self.cap:
            fresh = fresh[-self.cap:]
        count, size = len(fresh), len(self._rows)
        first = 0 if self._newest_first else size
        self.beginInsertRows(QModelIndex(), first, first + count - 1)
        for key, record in fresh:
            if key is not None:
                self._seq_of[key] = self._base + len(self._rows)
            self._rows.append(record)
        self.endInsertRows()
        self._trim()

    def _trim(self) -> None:
        over = len(self._rows) - self.cap
        if over <= 0:
            return
        size = len(self._rows)
        first = size - over if self._newest_first else 0
        self.beginRemoveRows(QModelIndex(), first, first + over - 1)
        for _ in range(over):
            record = self._rows.popleft()
            if self._key is not None:
                key = self._key(record)
                if self._seq_of.get(key) == self._base:
                    del self._seq_of[key]
            self._base += 1
        self.endRemoveRows()

    def clear(self) -> None:
        self.beginResetModel()
        self._rows.clear()
        self._seq_of.clear()
        self._base = 0
        self.endResetModel()


class TextFilterProxy(QSortFilterProxyModel):
    """Filters rows by free text over every column plus any extra predicate."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._needle = ""
        self._predicate: Callable[[Any], bool] | None = None
        self.setSortRole(Qt.DisplayRole)

    def set_text(self, text: str) -> None:
        self._refilter(lambda: setattr(self, "_needle", text.strip().lower()))

    def set_predicate(self, predicate: Callable[[Any], bool] | None) -> None:
        self._refilter(lambda: setattr(self, "_predicate", predicate))

    def _refilter(self, change: Callable[[], None]) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt >= 6.9; invalidateFilter is deprecated there
            self.beginFilterChange()
            change()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            change()
            self.invalidateFilter()

    def filterAcceptsRow(self, row: int, parent: QModelIndex) -> bool:  # noqa: N802
        model = self.sourceModel()
        if self._predicate is not None and not self._predicate(model.record(row)):
            return False
        if not self._needle:
            return True
        return any(self._needle in str(model.data(model.index(row, c), Qt.DisplayRole)).lower()
                   for c in range(model.columnCount()))


class EmptyHint(QLabel):
    """A muted line centred over an empty table, saying why it is empty and how it fills.

    It listens only to row insertions, removals and resets (never to cell updates), so a
    busy table pays nothing for it.
    """

    def __init__(self, view: QTableView, empty: str, filtered: str = FILTERED) -> None:
        super().__init__(empty, view.viewport())
        self.view, self.empty, self.filtered = view, empty, filtered
        self.setAlignment(Qt.AlignCenter)
        self.setWordWrap(True)
        self.setStyleSheet(f"color: {theme.MUTED}; background: transparent; padding: 12px;")
        self.setAttribute(Qt.WA_TransparentForMouseEvents)
        model = view.model()
        source = model.sourceModel() if isinstance(model, QSortFilterProxyModel) else None
        for shown in (model, source) if source is not None else (model,):
            for signal in (shown.rowsInserted, shown.rowsRemoved, shown.modelReset, shown.layoutChanged):
                signal.connect(self.refresh)
        self._source = source
        view.viewport().installEventFilter(self)
        self.refresh()

    def refresh(self, *_args) -> None:
        """Shown while the table shows no row: "empty" if there is none at all, else "filtered"."""
        if self.view.model().rowCount():
            self.hide()
            return
        self.setText(self.filtered if self._source is not None and self._source.rowCount() else self.empty)
        self.show()

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        if event.type() == QEvent.Resize:
            self.setGeometry(watched.rect())
        return False


def make_table(model, columns: list[Column], *, sortable: bool = False, stretch_last: bool = True,
               empty: str | None = None, filtered: str = FILTERED) -> QTableView:
    """A compact, row-selecting table view over `model` with the columns' widths applied.

    Every column is at least as wide as its title and its `sample`; the last text column takes the spare width
    (numbers keep theirs, right-aligned under right-aligned titles). With `empty`, an empty
    table says so in one muted line (`filtered` where rows exist but a filter hides them all).
    """
    view = QTableView()
    view.setModel(model)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(20)
    view.setSelectionBehavior(QAbstractItemView.SelectRows)
    view.setHorizontalScrollMode(QAbstractItemView.ScrollPerPixel)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.setShowGrid(False)
    view.setSortingEnabled(sortable)
    header = view.horizontalHeader()
    header.setDefaultAlignment(Qt.AlignLeft | Qt.AlignVCenter)
    header.setHighlightSections(False)
    title_font = QFont(view.font())
    title_font.setWeight(QFont.DemiBold)  # as the theme draws titles
    titles, cells = QFontMetrics(title_font), QFontMetrics(view.font())
    for index, column in enumerate(columns):
        fit = titles.horizontalAdvance(column.title) + TITLE_PADDING + (SORT_ARROW if sortable else 0)
        content = cells.horizontalAdvance(column.sample) + CELL_PADDING if column.sample else 0
        header.resizeSection(index, max(column.width or 0, fit, content))
    header.setStretchLastSection(False)
    if stretch_last:
        texts = [i for i, c in enumerate(columns) if not c.align & Qt.AlignRight]
        header.setSectionResizeMode(texts[-1] if texts else len(columns) - 1, QHeaderView.Stretch)
    if empty:
        view.empty_hint = EmptyHint(view, empty, filtered)
    return view
