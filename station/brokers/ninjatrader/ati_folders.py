"""The ATI's two folders as Station watches them: usable or not, order files NinjaTrader leaves unread,
and what changed in `outgoing`. Everything here blocks on the file system: run it in a thread.

NinjaTrader's `outgoing` folder is polled rather than watched with OS notifications:
polling needs no extra dependency, behaves the same on every OS and on folders that
notifications miss (network drives, OneDrive-synced Documents, where NinjaTrader's
folder often lives), and costs one directory listing per interval. A file is read when
its size or time changed, or while it is younger than `RECENT_S` (NinjaTrader may
rewrite it within the file system's time resolution).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from station.brokers.ninjatrader.files import OIF_NAME

RECENT_S = 2.0
# where a trader switches the ATI on, said whenever NinjaTrader seems not to listen
ENABLE_ATI = "NinjaTrader 8: Control Center › Tools › Options › Automated trading interface › AT Interface"


@dataclass(frozen=True, slots=True)
class OutgoingFile:
    """One file of `outgoing` as read: name, text, modification time (epoch seconds)."""

    name: str
    text: str
    mtime: float


class OutgoingScanner:
    """Lists `outgoing` and returns the files that changed."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._signatures: dict[str, tuple[int, int]] = {}

    def scan(self, reread: set[str]) -> list[OutgoingFile]:
        seen: dict[str, tuple[int, int]] = {}
        changed: list[OutgoingFile] = []
        now = time.time()
        with os.scandir(self.folder) as entries:
            for entry in entries:
                if not entry.name.lower().endswith(".txt"):
                    continue
                try:
                    stat = entry.stat()
                    signature = (stat.st_mtime_ns, stat.st_size)
                    if (self._signatures.get(entry.name) == signature and entry.name not in reread
                            and now - stat.st_mtime > RECENT_S):
                        seen[entry.name] = signature
                        continue
                    with open(entry.path, encoding="utf-8", errors="replace") as handle:
                        text = handle.read(4096)
                except OSError:  # being written (Windows locks it) or just deleted: next time
                    continue
                seen[entry.name] = signature
                changed.append(OutgoingFile(entry.name, text, stat.st_mtime))
        self._signatures = seen
        return changed


def folder_problem(incoming: Path, outgoing: Path) -> str | None:
    """Why Station cannot use the folders (missing, not writable), or None."""
    if not incoming.is_dir():
        return f"incoming folder not found: {incoming}"
    if not os.access(incoming, os.W_OK):
        return f"incoming folder is not writable: {incoming}"
    if not outgoing.is_dir():
        return f"outgoing folder not found: {outgoing}"
    return None


def oldest_unread(incoming: Path, after_s: float) -> str | None:
    """What NinjaTrader has left unread in `incoming` for more than `after_s` seconds (the ATI is off), or None."""
    now, oldest = time.time(), None
    with os.scandir(incoming) as entries:
        for entry in entries:
            if OIF_NAME.match(entry.name):
                try:
                    age = now - entry.stat().st_mtime
                except FileNotFoundError:  # consumed just now
                    continue
                if age > after_s and (oldest is None or age > oldest[0]):
                    oldest = (age, entry.name)
    if oldest is None:
        return None
    return f"NinjaTrader has not read {oldest[1]} for {oldest[0]:.0f} s (is the ATI enabled?)"
