"""Growable numpy columns: the trade tape and the closed-bar stores behind every series."""

from __future__ import annotations

import numpy as np

from station.marketdata.bars.builders import BarArrays

TAPE_FIELDS = (("ts", np.int64), ("price", np.float64), ("size", np.float64), ("synthetic", np.bool_))
BAR_FIELDS = (("start", np.int64), ("open", np.float64), ("high", np.float64), ("low", np.float64),
              ("close", np.float64), ("volume", np.float64))


class Columns:
    """Parallel columns that grow by doubling; beyond `capacity` rows the oldest quarter is dropped."""

    def __init__(self, fields: tuple[tuple[str, type], ...], capacity: int) -> None:
        self.fields = fields
        self.capacity = max(16, capacity)
        self._data = {name: np.empty(1024, dtype) for name, dtype in fields}
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def column(self, name: str) -> np.ndarray:
        """A view of one column (valid until the next write)."""
        return self._data[name][: self._n]

    def append(self, *arrays: np.ndarray) -> None:
        """Add rows at the end (one array per field, in field order)."""
        add = len(arrays[0])
        if not add:
            return
        if self._n + add > self.capacity:
            keep = max(0, min(self._n, self.capacity * 3 // 4 - add))
            self._drop_oldest(self._n - keep)
            if add > self.capacity:
                arrays = tuple(a[-self.capacity:] for a in arrays)
                add = self.capacity
        self._reserve(self._n + add)
        for (name, _), values in zip(self.fields, arrays):
            self._data[name][self._n:self._n + add] = values
        self._n += add

    def truncate(self, n: int) -> None:
        """Keep only the first `n` rows."""
        self._n = max(0, min(n, self._n))

    def replace_range(self, lo: int, hi: int, *arrays: np.ndarray) -> None:
        """Replace rows whose first column lies in [lo, hi) by `arrays`, keeping the first column sorted."""
        key = self.column(self.fields[0][0])
        left, right = np.searchsorted(key, lo, "left"), np.searchsorted(key, hi, "left")
        merged = [np.concatenate((self.column(name)[:left], values, self.column(name)[right:]))
                  for (name, _), values in zip(self.fields, arrays)]
        order = np.argsort(merged[0], kind="stable")
        self._n = 0
        self.append(*(m[order] for m in merged))

    def _reserve(self, size: int) -> None:
        current = len(self._data[self.fields[0][0]])
        if size <= current:
            return
        grown = max(size, current * 2)
        for name, dtype in self.fields:
            bigger = np.empty(grown, dtype)
            bigger[: self._n] = self._data[name][: self._n]
            self._data[name] = bigger

    def _drop_oldest(self, count: int) -> None:
        if count <= 0:
            return
        for name, _ in self.fields:
            column = self._data[name]
            column[: self._n - count] = column[count: self._n]
        self._n -= count


class BarStore(Columns):
    """The closed bars of one series."""

    def __init__(self, capacity: int) -> None:
        super().__init__(BAR_FIELDS, capacity)

    def add(self, bars: BarArrays) -> None:
        self.append(*bars)

    def arrays(self) -> BarArrays:
        """A copy of every stored bar."""
        return BarArrays(*(self.column(name).copy() for name, _ in BAR_FIELDS))
