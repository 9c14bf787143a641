"""A backtest or sweep in a process of its own, for the window: progress, rows and the result come back as
messages the window polls, and Cancel stops it.

Research runs outside the live loop: the window's loop never waits on a backtest, and the backtest's
market clock (`domain.timeutil.market_clock`) is that process's alone. The process is spawned (a fresh
interpreter: forking a process running Qt is not safe). Messages, oldest first:

- `("progress", fraction)`;
- `("row", index, row)`: one parameter set of a sweep finished (its summary row);
- `("result", {"summary", "trips", "equity"})`: a single run's figures, trips and equity as records;
- `("error", message)`; `("done",)` last.
"""

from __future__ import annotations

import multiprocessing
import queue as queues
from typing import Any

from station.research.run import BacktestSpec


def _single(spec: BacktestSpec, out, cancel) -> None:
    from station.research.run import run_backtest

    result = run_backtest(spec, cancelled=cancel.is_set, progress=lambda f: out.put(("progress", f)))
    trips = result.trips.copy()
    for column in ("entry_time", "exit_time"):
        trips[column] = _ns(trips[column])
    equity = result.equity.copy()
    equity["time"] = _ns(equity["time"])
    out.put(("result", {"summary": result.summary, "trips": trips.to_dict("records"),
                        "equity": equity.to_dict("records")}))


def _ns(times):
    """Aware times as UTC nanoseconds (whatever unit pandas keeps them in)."""
    import pandas as pd

    return pd.to_datetime(times, utc=True).dt.as_unit("ns").astype("int64")


def _sweep(specs: list[BacktestSpec], workers: int, out, cancel) -> None:
    from station.research.executors import run_local
    from station.research.tasks import run_summary

    if workers <= 1:
        for index, spec in enumerate(specs):
            if cancel.is_set():
                return
            out.put(("row", index, run_summary(spec)))
            out.put(("progress", (index + 1) / len(specs)))
        return
    done = [0]

    def finished(index: int, row: dict) -> None:
        done[0] += 1
        out.put(("row", index, row))
        out.put(("progress", done[0] / len(specs)))

    run_local(specs, workers, done=finished)


def _main(kind: str, payload: Any, workers: int, out, cancel) -> None:
    try:
        if kind == "single":
            _single(payload, out, cancel)
        else:
            _sweep(payload, workers, out, cancel)
    except Exception as exc:  # noqa: BLE001 - reported to the window, which shows it
        from station.research.feed import Cancelled

        if not isinstance(exc, Cancelled):
            out.put(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        out.put(("done",))


class BacktestJob:
    """One backtest (`spec`) or sweep (`specs`) running in a spawned process."""

    def __init__(self, spec: BacktestSpec | None = None, specs: list[BacktestSpec] | None = None,
                 workers: int = 1) -> None:
        context = multiprocessing.get_context("spawn")
        self._out = context.Queue()
        self._cancel = context.Event()
        kind, payload = ("single", spec) if specs is None else ("sweep", specs)
        self._process = context.Process(target=_main, args=(kind, payload, workers, self._out, self._cancel),
                                        name="station-backtest")  # not a daemon: a sweep starts its own workers
        self.finished = False

    def start(self) -> None:
        self._process.start()

    def poll(self) -> list[tuple]:
        """The messages that arrived since the last call (never blocks)."""
        messages = []
        while True:
            try:
                message = self._out.get_nowait()
            except queues.Empty:
                break
            messages.append(message)
            if message[0] == "done":
                self.finished = True
        if not self.finished and not self._process.is_alive() and self._process.exitcode not in (None, 0):
            self.finished = True
            messages.append(("error", f"the backtest process ended with code {self._process.exitcode}"))
            messages.append(("done",))
        return messages

    def cancel(self) -> None:
        """Ask it to stop; a process still running a moment later is ended."""
        self._cancel.set()

    def stop(self, timeout: float = 2.0) -> None:
        """End the process (at window close, or after a cancel it did not heed)."""
        self._cancel.set()
        self._process.join(timeout)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout)
