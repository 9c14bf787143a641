"""Files written whole, then put in place in one step: kept state (a port's waiting lines, ATI orders) and ATI
order instruction files."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import json
import logging
import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

TEMP_PREFIX = "~station-"  # NinjaTrader only reads oif*.txt, so it never sees a file being written
OIF_NAME = re.compile(r"^oif(\d+)\.txt$", re.IGNORECASE)
_NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK}


# One thread for every NinjaTrader file job: jobs run in the order they were handed over, even
# when the coroutine waiting for one is cancelled, so an older snapshot never lands after a newer.
_FILE_JOBS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ninjatrader-files")


async def run_file_job(job: Callable[..., Any], *args: Any) -> Any:
    """Run a blocking file job off the loop, after every job handed over before it."""
    return await asyncio.get_running_loop().run_in_executor(_FILE_JOBS, job, *args)


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` by `data` so that a reader or a crash sees the old or the new file, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    _write_synced(temp, data)
    os.replace(temp, path)


def remove_file(path: Path) -> None:
    """Delete `path` if it is there."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def read_kept_lines(path: Path) -> list[tuple[str, bytes]]:
    """The port lines kept in `path` (one JSON object per line) as (id, bytes with `\\n`); an unreadable line is
    logged and skipped, a missing file is none."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    kept = []
    for line in raw.splitlines():
        try:
            kept.append((str(json.loads(line)["id"]), line + b"\n"))
        except (ValueError, KeyError, TypeError):
            logging.getLogger("station.ninjatrader").error("skipping an unreadable kept line in %s", path)
    return kept


def _place_new(temp: Path, final: Path) -> bool:
    """Give `temp` the name `final` unless that exists (False then); atomic where the OS allows."""
    try:
        if os.name == "nt":
            os.rename(temp, final)  # Windows refuses to rename onto an existing file
            return True
        try:
            os.link(temp, final)  # fails with EEXIST instead of replacing an unread file
        except OSError as exc:
            if exc.errno not in _NO_HARD_LINKS:
                raise
            if final.exists():  # a file system without hard links: check, then rename
                raise FileExistsError(str(final)) from None
            os.rename(temp, final)
            return True
        os.unlink(temp)
        return True
    except FileExistsError:
        os.unlink(temp)
        return False


class OifWriter:
    """Writes `oif<N>.txt` files into one `incoming` folder; N strictly increases and never repeats.

    NinjaTrader deletes the files it has processed, so the folder alone cannot say
    which N were used: the last N is kept in the data dir, and reserved there
    (written and synced) *before* its file is written. A crash anywhere leaves at
    most an unused N, never a reused one. A file is written whole under a temporary
    name NinjaTrader ignores and then linked in under its final name, which fails
    rather than replace a file NinjaTrader has not read yet (then the next N is taken).
    Destinations sharing an `incoming` folder share one writer (one sequence).
    """

    _shared: dict[tuple[str, str], "OifWriter"] = {}
    _shared_lock = threading.Lock()

    def __init__(self, incoming: Path, counter_path: Path) -> None:
        self.incoming = incoming
        self.counter_path = counter_path
        self._lock = threading.Lock()
        self._last: int | None = None

    @classmethod
    def for_folder(cls, incoming: Path, data_dir: Path) -> "OifWriter":
        """The writer of `incoming`, shared by every destination of this process that uses it."""
        folder = os.path.normcase(os.path.abspath(incoming))
        digest = hashlib.sha1(folder.encode("utf-8")).hexdigest()[:12]
        counter = Path(data_dir) / "ninjatrader" / f"oif-{digest}.counter"
        key = (folder, str(counter))
        with cls._shared_lock:
            writer = cls._shared.get(key)
            if writer is None:
                writer = cls._shared[key] = cls(Path(incoming), counter)
            return writer

    def write(self, line: str) -> Path:
        """Write one instruction line as the next `oif<N>.txt`; returns its path. Blocking (use a thread)."""
        data = (line + "\n").encode("utf-8")
        with self._lock:
            if self._last is None:
                self._last = self._recover()
            while True:
                number = self._last + 1
                write_atomic(self.counter_path, f"{number}\n{self.incoming}\n".encode("utf-8"))
                self._last = number
                final = self.incoming / f"oif{number}.txt"
                temp = self.incoming / f"{TEMP_PREFIX}{final.stem}.tmp"
                _write_synced(temp, data)
                if _place_new(temp, final):
                    return final

    @property
    def last_number(self) -> int:
        """The last N used (reading the kept counter and the folder on first use)."""
        with self._lock:
            if self._last is None:
                self._last = self._recover()
            return self._last

    def _recover(self) -> int:
        last = 0
        try:
            last = int(self.counter_path.read_text(encoding="utf-8").split()[0])
        except (FileNotFoundError, IndexError, ValueError):
            pass
        with os.scandir(self.incoming) as entries:
            for entry in entries:
                match = OIF_NAME.match(entry.name)
                if match:
                    last = max(last, int(match.group(1)))
                elif entry.name.startswith(TEMP_PREFIX) and entry.name.endswith(".tmp"):
                    os.unlink(entry.path)  # left by a crash before its rename; its N is never reused
        return last
