"""Sweeps on a real Dask cluster on loopback: a scheduler and two workers as separate processes (`dask` CLI), the
sweep run by `station backtest --cluster` as a subprocess. The rows equal local processes' rows; a worker killed
mid-sweep has its task re-run on the other and the sweep completes with the same rows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from support.backtest import data_dir_with, random_walk, strategy_config
from support.launch import free_port, run_cli, station_cmd
from support.wait import wait_until

pytestmark = pytest.mark.slow
distributed = pytest.importorskip("distributed")

ENGINE = {"kind": "crossover", "timeframe": "1m", "line1": {"type": "ema", "period": 3},
          "line2": {"type": "sma", "period": 8}}
SWEEP = ("--sweep", "line1.period=2,3,4", "--sweep", "line2.period=6,9")


def dask(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"})


@pytest.fixture(scope="module")
def cluster():
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    processes = [dask("distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port),
                      "--dashboard-address", ":0")]
    for name in ("w1", "w2"):
        processes.append(dask("distributed.cli.dask_worker", address, "--name", name, "--nthreads", "1", "--no-nanny",
                              "--host", "127.0.0.1", "--dashboard-address", ":0"))
    client = distributed.Client(address, timeout=30)
    try:
        wait_until(lambda: len(client.scheduler_info()["workers"]) == 2, 60, what="two Dask workers")
        yield address, client, {name: p for name, p in zip(("w1", "w2"), processes[1:])}
    finally:
        client.close()
        for process in reversed(processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dask")
    data = random_walk(tmp / "walk.dbn", "ES", 40_000, seconds_apart=0.5)
    return tmp, data, data_dir_with(tmp, strategy_config("Cross", "ES", ENGINE))


def sweep(setup, out: Path, *where: str) -> bytes:
    tmp, data, data_dir = setup
    result = run_cli("backtest", "--data-dir", str(data_dir), "--strategy", "Cross", "--data", str(data), "--out",
                     str(out), *SWEEP, "--split", "0.7", *where, timeout=300)
    assert result.returncode == 0, result.stderr
    return (out / "sweep.csv").read_bytes()


def test_a_sweep_on_the_cluster_gives_the_rows_local_processes_give(cluster, setup, tmp_path):
    address, _, _ = cluster
    local = sweep(setup, tmp_path / "local", "--workers", "2")
    assert sweep(setup, tmp_path / "dask", "--cluster", address) == local
    assert sweep(setup, tmp_path / "shipped", "--cluster", address, "--ship-data") == local
    assert local.count(b"\n") == 7  # the header and six combinations


def test_a_worker_killed_mid_sweep_has_its_task_rerun_and_the_sweep_completes_alike(cluster, setup, tmp_path):
    address, client, workers = cluster
    local = sweep(setup, tmp_path / "local", "--workers", "2")
    tmp, data, data_dir = setup
    out = tmp_path / "dask"
    run = subprocess.Popen(station_cmd("backtest", "--data-dir", str(data_dir), "--strategy", "Cross", "--data",
                                       str(data), "--out", str(out), *SWEEP, "--split", "0.7", "--cluster", address),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        victim = {}

        def busy() -> bool:  # a task of the sweep running on w1
            for worker, info in client.scheduler_info()["workers"].items():
                if info.get("name") == "w1" and client.processing().get(worker):
                    victim["address"] = worker
                    return True
            return False

        wait_until(busy, 120, interval=0.01, what="a sweep task on worker w1")
        workers["w1"].send_signal(signal.SIGKILL)
        stdout, stderr = run.communicate(timeout=300)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 0, stderr
    assert (out / "sweep.csv").read_bytes() == local
    assert victim["address"] not in client.scheduler_info()["workers"]
