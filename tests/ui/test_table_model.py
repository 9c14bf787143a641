from dataclasses import dataclass

from station.ui.table_model import Column, RecordTableModel


@dataclass
class Row:
    key: int
    text: str


COLUMNS = [Column("Key", lambda r: r.key), Column("Text", lambda r: r.text)]


def cells(model):
    return [(model.data(model.index(r, 0)), model.data(model.index(r, 1))) for r in range(model.rowCount())]


def test_newest_first_with_in_place_updates(qtbot):
    model = RecordTableModel(COLUMNS, key=lambda r: r.key, cap=10)
    changed = []
    model.dataChanged.connect(lambda a, b: changed.append(a.row()))
    model.upsert([Row(1, "a"), Row(2, "b")])
    model.upsert([Row(1, "A"), Row(3, "c")])
    assert cells(model) == [("3", "c"), ("2", "b"), ("1", "A")]
    assert changed == [1]  # row 1 updated in place (before row 3 was added on top)


def test_a_key_repeated_in_one_batch_makes_one_row(qtbot):
    model = RecordTableModel(COLUMNS, key=lambda r: r.key)
    model.upsert([Row(1, "a"), Row(1, "b"), Row(2, "c")])
    assert cells(model) == [("2", "c"), ("1", "b")]


def test_cap_drops_the_oldest_and_forgets_their_keys(qtbot):
    model = RecordTableModel(COLUMNS, key=lambda r: r.key, cap=3)
    model.upsert([Row(i, str(i)) for i in range(5)])
    assert cells(model) == [("4", "4"), ("3", "3"), ("2", "2")]
    model.upsert([Row(0, "again"), Row(3, "updated")])
    assert cells(model) == [("0", "again"), ("4", "4"), ("3", "updated")]


def test_oldest_first_mode(qtbot):
    model = RecordTableModel(COLUMNS, cap=2, newest_first=False)
    model.upsert([Row(1, "a"), Row(2, "b"), Row(3, "c")])
    assert cells(model) == [("2", "b"), ("3", "c")]
    assert model.records()[0].key == 2
