import sqlite3
import threading
import time

import pytest

from station.store import Store
from station.store.migrations import available
from support.wait import wait_until


def test_migrates_an_empty_database_and_reopens_without_rerunning(data_dir):
    store = Store(data_dir)
    newest = available()[-1][0]
    assert store.schema_version == newest
    mode = store.query("PRAGMA journal_mode")[0][0]
    assert mode == "wal"
    store.writer.call(lambda c: c.execute("INSERT INTO meta (key, value) VALUES ('probe', 'kept')"))
    store.close()
    again = Store(data_dir)
    assert again.schema_version == newest
    assert again.query("SELECT value FROM meta WHERE key = 'probe'")[0][0] == "kept"
    again.close()


def test_refuses_a_database_from_a_newer_station(data_dir):
    Store(data_dir).close()
    conn = sqlite3.connect(data_dir / "station.db")
    conn.execute("PRAGMA user_version = 9999")
    conn.close()
    with pytest.raises(RuntimeError, match="newer than this Station"):
        Store(data_dir)


def test_a_job_is_resolved_only_after_its_commit_is_visible(data_dir):
    store = Store(data_dir)
    store.writer.call(lambda c: c.execute("CREATE TABLE t (n INTEGER)"))
    futures = [store.writer.submit(lambda c, i=i: c.execute("INSERT INTO t VALUES (?)", (i,)).lastrowid)
               for i in range(500)]
    seen = []
    for future in futures:
        future.result(10)
        seen.append(store.query("SELECT COUNT(*) FROM t")[0][0])
    # every resolved job is already visible to another connection
    assert all(count >= index + 1 for index, count in enumerate(seen))
    assert store.writer.commits < 500  # jobs were committed in groups
    store.close()


def test_a_failing_job_is_rolled_back_alone(data_dir):
    store = Store(data_dir)
    store.writer.call(lambda c: c.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)"))

    def bad(conn):
        conn.execute("INSERT INTO t VALUES (100)")
        raise ValueError("nope")

    good = store.writer.submit(lambda c: c.execute("INSERT INTO t VALUES (1)"))
    failing = store.writer.submit(bad)
    after = store.writer.submit(lambda c: c.execute("INSERT INTO t VALUES (2)"))
    good.result(5)
    after.result(5)
    with pytest.raises(ValueError, match="nope"):
        failing.result(5)
    assert [r[0] for r in store.query("SELECT n FROM t ORDER BY n")] == [1, 2]
    store.close()


def test_a_failing_single_statement_job_in_a_group_changes_nothing_and_spares_the_others(data_dir):
    store = Store(data_dir)
    store.writer.call(lambda c: c.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)"))
    gate, running = threading.Event(), threading.Event()
    blocker = store.writer.submit(lambda c: (running.set(), gate.wait(5)))  # holds the writer: the next three group
    running.wait(5)
    commits = store.writer.commits
    good = store.writer.submit(lambda c: c.execute("INSERT INTO t VALUES (1)"), single_statement=True)
    failing = store.writer.submit(lambda c: c.execute("INSERT INTO t VALUES (2), (1)"), single_statement=True)
    after = store.writer.submit(lambda c: c.execute("INSERT INTO t VALUES (3)"))
    gate.set()
    blocker.result(5)
    good.result(5)
    after.result(5)
    with pytest.raises(sqlite3.IntegrityError):
        failing.result(5)
    assert [r[0] for r in store.query("SELECT n FROM t ORDER BY n")] == [1, 3]  # no 2: its statement was undone
    assert store.writer.commits == commits + 2  # the blocker's, then one for the group
    store.close()


def test_jobs_submitted_together_share_one_commit_and_fail_alone(data_dir):
    store = Store(data_dir)
    store.writer.call(lambda c: c.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)"))

    def bad(conn):
        conn.execute("INSERT INTO t VALUES (100)")
        raise ValueError("nope")

    before = store.writer.commits
    first, failing, last = store.writer.submit_together(
        [(lambda c: c.execute("INSERT INTO t VALUES (1)"), False), (bad, False),
         (lambda c: c.execute("INSERT INTO t VALUES (2)"), False)])
    first.result(5)
    last.result(5)
    with pytest.raises(ValueError, match="nope"):
        failing.result(5)
    assert store.writer.commits - before == 1  # a fill and the exits it arms: one disk flush
    assert [r[0] for r in store.query("SELECT n FROM t ORDER BY n")] == [1, 2]
    store.close()


def test_a_job_alone_in_its_group_is_rolled_back_when_it_fails(data_dir):
    store = Store(data_dir)
    store.writer.call(lambda c: c.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)"))
    commits = store.writer.commits

    def bad(conn):
        conn.execute("INSERT INTO t VALUES (100)")
        raise ValueError("nope")

    with pytest.raises(ValueError, match="nope"):
        store.writer.call(bad)
    with pytest.raises(Exception, match="UNIQUE"):
        store.writer.call(lambda c: c.execute("INSERT INTO t VALUES (1), (1)"))
    assert store.writer.commits == commits  # nothing was committed for them
    store.writer.call(lambda c: c.execute("INSERT INTO t VALUES (2)"))
    assert [r[0] for r in store.query("SELECT n FROM t")] == [2]
    store.close()


def test_a_lone_single_statement_job_commits_by_itself(data_dir):
    store = Store(data_dir)
    store.writer.call(lambda c: c.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)"))
    commits = store.writer.commits
    seen = []

    def insert(conn):
        seen.append(conn.in_transaction)
        return conn.execute("INSERT INTO t VALUES (1), (2)").rowcount

    assert store.writer.submit(insert, single_statement=True).result(5) == 2
    failing = store.writer.submit(lambda c: c.execute("INSERT INTO t VALUES (3), (1)"), single_statement=True)
    with pytest.raises(sqlite3.IntegrityError):
        failing.result(5)
    assert seen == [False] and store.writer.commits == commits + 1
    assert [r[0] for r in store.query("SELECT n FROM t ORDER BY n")] == [1, 2]  # the failed statement changed nothing
    grouped = [store.writer.submit(lambda c, n=n: c.execute("INSERT INTO t VALUES (?)", (n,)), single_statement=True)
               for n in range(10, 40)]
    assert all(f.result(5).rowcount == 1 for f in grouped)
    assert len(store.query("SELECT n FROM t")) == 32
    store.close()


def test_a_lazy_job_shares_the_next_commit_or_commits_alone_soon(data_dir):
    from station.store.writer import LAZY_WAIT_S

    store = Store(data_dir)
    store.writer.call(lambda c: c.execute("CREATE TABLE t (n INTEGER)"))
    commits = store.writer.commits
    lazy = store.writer.submit(lambda c: c.execute("INSERT INTO t VALUES (1)"), lazy=True)
    time.sleep(LAZY_WAIT_S / 4)  # the scenario: a while, though shorter than the lazy wait
    assert not lazy.done()  # waiting for company
    urgent = store.writer.submit(lambda c: c.execute("INSERT INTO t VALUES (2)"), single_statement=True)
    urgent.result(5)
    assert lazy.done() and store.writer.commits == commits + 1  # one commit (one disk flush) for both
    started = time.monotonic()
    alone = store.writer.submit(lambda c: c.execute("INSERT INTO t VALUES (3)"), lazy=True)
    alone.result(5)
    assert LAZY_WAIT_S * 0.9 <= time.monotonic() - started < LAZY_WAIT_S + 2  # nobody came: it committed by itself
    late = store.writer.submit(lambda c: c.execute("INSERT INTO t VALUES (4)"), lazy=True)
    store.close()  # closing commits a held job at once
    assert late.done() and late.exception() is None
    conn = sqlite3.connect(data_dir / "station.db")
    assert [r[0] for r in conn.execute("SELECT n FROM t ORDER BY n")] == [1, 2, 3, 4]
    conn.close()


def test_readers_keep_reading_while_the_writer_commits(data_dir):
    store = Store(data_dir)
    store.writer.call(lambda c: c.execute("CREATE TABLE t (n INTEGER)"))
    stop, errors, reads = threading.Event(), [], {}

    def read():
        mine = reads.setdefault(threading.get_ident(), [])
        try:
            while not stop.is_set():
                mine.append(store.query("SELECT COUNT(*) FROM t")[0][0])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    readers = [threading.Thread(target=read) for _ in range(3)]
    for thread in readers:
        thread.start()
    for i in range(200):
        store.writer.submit(lambda c, i=i: c.execute("INSERT INTO t VALUES (?)", (i,)))
    store.writer.call(lambda c: None)
    wait_until(lambda: len(reads) == 3 and all(counts and counts[-1] == 200 for counts in list(reads.values())),
               what="every reader seeing the last commit")
    stop.set()
    for thread in readers:
        thread.join()
    assert not errors
    assert len(reads) == 3
    for counts in reads.values():  # each reader sees the table only grow, commit by commit
        assert counts and counts == sorted(counts)
    assert store.query("SELECT COUNT(*) FROM t")[0][0] == 200
    store.close()


def test_close_commits_what_is_queued(data_dir):
    store = Store(data_dir)
    store.writer.call(lambda c: c.execute("CREATE TABLE t (n INTEGER)"))
    for i in range(100):
        store.writer.submit(lambda c, i=i: c.execute("INSERT INTO t VALUES (?)", (i,)))
    store.close()
    conn = sqlite3.connect(data_dir / "station.db")
    assert conn.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 100
    conn.close()


def test_a_migration_numbered_below_one_applied_still_runs(data_dir, monkeypatch):
    """Packages own number ranges: a later release may ship 0035 to a database that has 0070."""
    import station.store.migrations as migrations

    Store(data_dir).close()
    shipped = migrations.available()
    extra_ran = []

    class Extra:
        @staticmethod
        def apply(db):
            db.execute("CREATE TABLE late_arrival (n INTEGER)")
            extra_ran.append(True)

    monkeypatch.setattr(migrations, "available", lambda: sorted(shipped + [(35, "m0035_late")]))
    real_import = migrations.importlib.import_module
    monkeypatch.setattr(migrations.importlib, "import_module",
                        lambda name: Extra if name.endswith("m0035_late") else real_import(name))
    store = Store(data_dir)
    assert extra_ran == [True]
    assert store.query("SELECT COUNT(*) FROM schema_migrations WHERE version = 35")[0][0] == 1
    store.close()
    Store(data_dir).close()  # and only once
    assert extra_ran == [True]
