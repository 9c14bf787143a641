"""`check_usable` refuses a damaged database from what it reads and leaves the data dir exactly as it was."""

from __future__ import annotations

import os

import pytest

from station.store.database import DB_FILENAME, Store, check_usable
from station.store.errors import StoreError


def header(*, versions: int = 2) -> bytearray:
    """A 100-byte SQLite header whose fixed fields are right (4096-byte pages, WAL or rollback versions)."""
    head = bytearray(b"SQLite format 3\x00" + bytes(84))
    head[16:18] = (4096).to_bytes(2, "big")
    head[18] = head[19] = versions
    head[21:24] = bytes((64, 32, 32))
    return head


@pytest.mark.parametrize("versions", [1, 2])
def test_garbage_behind_a_sound_header_is_refused_and_leaves_no_wal_files(tmp_path, versions):
    """The case a random file hits one time in 256: a header saying WAL makes even a read-only open
    create -wal and -shm files; the refusal removes them again."""
    (tmp_path / DB_FILENAME).write_bytes(bytes(header(versions=versions)) + b"\xff" * 8092)
    with pytest.raises(StoreError, match="corrupt"):
        check_usable(tmp_path)
    assert sorted(os.listdir(tmp_path)) == [DB_FILENAME]


@pytest.mark.parametrize("field, value", [(18, 3), (19, 0), (21, 65), (23, 0)])
def test_a_damaged_header_is_refused_before_sqlite_opens_the_file(tmp_path, field, value):
    head = header()
    head[field] = value
    (tmp_path / DB_FILENAME).write_bytes(bytes(head) + bytes(3996))
    with pytest.raises(StoreError, match="header is damaged"):
        check_usable(tmp_path)
    assert sorted(os.listdir(tmp_path)) == [DB_FILENAME]


def test_a_database_in_use_keeps_its_wal_files(tmp_path):
    """The removal is only of what a refused check made: a sound database's -wal and -shm stay."""
    store = Store(tmp_path)
    try:
        store.writer.call(lambda conn: conn.execute("CREATE TABLE t (x)"))
        before = sorted(os.listdir(tmp_path))
        check_usable(tmp_path)
        assert sorted(os.listdir(tmp_path)) == before
    finally:
        store.close()
