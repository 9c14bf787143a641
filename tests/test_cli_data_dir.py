"""A data dir Station cannot use, or one another Station runs on: one line, exit 2, nothing in it changed."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from support.contract import StationProcess, keyring_env
from support.launch import free_port, station_cmd, wait_http


def station(env: dict, data_dir, *extra: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(station_cmd("--headless", "--data-dir", str(data_dir), "--port", str(free_port()), *extra),
                          capture_output=True, text=True, env={**os.environ, **env}, timeout=timeout)


def snapshot(folder) -> dict[str, str]:
    """Every path under `folder` with a digest of its content (folders as 'dir')."""
    found = {}
    for path in sorted(folder.rglob("*")):
        found[str(path.relative_to(folder))] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def refused_unchanged(env, data_dir, needle: str) -> None:
    before = snapshot(data_dir)
    result = station(env, data_dir)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("station: error:") and needle in lines[0], result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert snapshot(data_dir) == before


@pytest.fixture
def env(tmp_path):
    return keyring_env(tmp_path)


@pytest.fixture
def made(tmp_path, env):
    """A data dir with a real database in it, made by a Station that started and stopped."""
    data_dir = tmp_path / "made"
    running = StationProcess(data_dir, env).start()
    assert running.stop()[0] == 0
    (data_dir / "logs").exists() and shutil.rmtree(data_dir / "logs")
    return data_dir


def test_a_corrupt_database_is_refused(tmp_path, env):
    data_dir = tmp_path / "d"
    data_dir.mkdir()
    (data_dir / "station.db").write_bytes(os.urandom(8192))
    refused_unchanged(env, data_dir, "corrupt")


def test_a_truncated_database_is_refused(made, env):
    db = made / "station.db"
    for suffix in ("-wal", "-shm"):
        (made / f"station.db{suffix}").unlink(missing_ok=True)
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2])
    refused_unchanged(env, made, "truncated")


def test_a_folder_in_the_databases_place_is_refused(tmp_path, env):
    data_dir = tmp_path / "d"
    (data_dir / "station.db").mkdir(parents=True)
    refused_unchanged(env, data_dir, "not a database file")


HOLD_LOCK = """
import sqlite3, sys
holder = sqlite3.connect(sys.argv[1], isolation_level=None)
holder.execute("PRAGMA locking_mode = EXCLUSIVE")
holder.execute("BEGIN EXCLUSIVE")
holder.execute("CREATE TABLE held (x)")  # a write: the exclusive lock is taken and kept
print("held", flush=True)
sys.stdin.read()
holder.execute("ROLLBACK")
"""


def test_a_locked_database_is_refused(made, env):
    # another program holds the lock: in its own process, since POSIX locks are per process and
    # reading the file here (the snapshot) would release a lock this process held
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(made / "station.db")], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        refused_unchanged(env, made, "locked")
    finally:
        holder.communicate("", timeout=10)


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions")
def test_a_read_only_database_is_refused(made, env):
    """As the trader's own user: root writes read-only files, so as root the check runs as `nobody`."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="station-ro-"))  # outside pytest's private temp root
    try:
        data_dir = folder / "d"
        shutil.copytree(made, data_dir)
        (data_dir / "station.db").chmod(0o444)
        for path in (folder, data_dir):
            path.chmod(0o755)
        before = snapshot(data_dir)
        command = station_cmd("--headless", "--data-dir", str(data_dir), "--port", str(free_port()))
        if os.geteuid() == 0:
            command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
        result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **env}, timeout=30)
        assert result.returncode == 2 and "read-only" in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and snapshot(data_dir) == before
    finally:
        shutil.rmtree(folder)


def test_a_second_station_on_the_same_data_dir_is_refused(tmp_path, env):
    data_dir = tmp_path / "d"
    first = StationProcess(data_dir, env).start()
    try:
        result = station(env, data_dir)
        assert result.returncode == 2 and "already running" in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert first.request("GET", "/health")[0] == 200  # the first one is untouched
    finally:
        first.stop()
    # once the first has stopped, the lock is free again
    again = StationProcess(data_dir, env).start()
    assert again.stop()[0] == 0


def test_every_subcommand_refuses_a_corrupt_database_in_one_line_changing_nothing(tmp_path, env):
    data_dir = tmp_path / "d"
    data_dir.mkdir()
    (data_dir / "station.db").write_bytes(b"SQLite format 3\x00" + os.urandom(4000))
    config = tmp_path / "c.json"
    config.write_text('{"strategies": {}}')
    before = snapshot(data_dir)
    for args in (("config", "import", str(config)), ("config", "export", str(tmp_path / "out.json")),
                 ("strategy", "list"), ("strategy", "start", "S"), ("analyze",),
                 ("backtest", "--strategy", "S", "--data", str(config))):
        result = subprocess.run(station_cmd(*args, "--data-dir", str(data_dir)), capture_output=True, text=True,
                                env={**os.environ, **env}, timeout=30)
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, (args, result.stderr)
        assert "corrupt" in result.stderr and "Traceback" not in result.stderr, (args, result.stderr)
        assert snapshot(data_dir) == before, args  # analyze made its exports folder first


def test_a_relative_data_dir_works_once_its_database_exists(tmp_path, env):
    """`--data-dir d` from the folder it is in: the database check must not need an absolute path."""
    config = tmp_path / "c.json"
    config.write_text('{"strategies": {"S": {"tickers": {"ES": {"ports": [5000]}}}}}')

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(station_cmd(*args), capture_output=True, text=True, cwd=tmp_path,
                              env={**os.environ, **env}, timeout=60)

    for args in (("config", "import", "c.json", "--data-dir", "d"),  # makes the database
                 ("--data-dir", "d", "config", "import", "c.json"),  # finds it made
                 ("strategy", "list", "--data-dir", "d"), ("config", "export", "-", "--data-dir", "d"),
                 ("analyze", "--data-dir", "d", "--out", "report")):
        result = run(*args)
        assert result.returncode == 0 and "Traceback" not in result.stderr, (args, result.stderr)
    assert (tmp_path / "d" / "station.db").is_file() and (tmp_path / "report" / "report.html").is_file()
    port = free_port()
    headless = subprocess.Popen(station_cmd("--headless", "--data-dir", "d", "--port", str(port)), cwd=tmp_path,
                                env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_http(f"http://127.0.0.1:{port}/health", 15)
        headless.send_signal(signal.SIGTERM)
        assert headless.wait(10) == 0
    finally:
        headless.kill()
        _, stderr = headless.communicate(timeout=10)
    assert "Traceback" not in stderr, stderr
