"""A port's lines kept in `<data dir>/ninjatrader/` across restarts, so neither a stop nor a crash loses one.

Two files, each written whole and put in place (`files.write_atomic`), or removed when empty:
- `port-<N>.outbox.jsonl`: the lines waiting to be written (also those to write again after
  a connection ended), in order, written when the port stops or loses its connection;
- `port-<N>.unacknowledged.jsonl`: the lines an acknowledging receiver has left unacknowledged
  for a while (it froze), written while that lasts, so a crash of Station meanwhile loses none.
At a start both come back as waiting lines, the unacknowledged first (they were written
first), each id once; the receiver drops what it already has by `id`. A third,
`port-<N>.answers`, remembers that the port's receiver answers (it reports fills).
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from station.brokers.ninjatrader.files import read_kept_lines, remove_file, run_file_job, write_atomic
from station.brokers.ninjatrader.sent_lines import Line, SentJournal

log = logging.getLogger("station.ninjatrader")

UNACKNOWLEDGED_AFTER_S = 1.0  # an acknowledging receiver silent this long about a line has frozen


class KeptLines:
    """The two files of one port (none without a data dir)."""

    def __init__(self, folder: Path | None, port: int) -> None:
        self.waiting_path = folder / f"port-{port}.outbox.jsonl" if folder else None
        self.unacknowledged_path = folder / f"port-{port}.unacknowledged.jsonl" if folder else None
        self.answers_path = folder / f"port-{port}.answers" if folder else None
        self._written: dict[Path, bytes] = {}  # what each file holds now (b"": no file)

    def remembers_answers(self) -> bool:
        """The port's receiver answered before (one look at a file, at the port's making)."""
        return bool(self.answers_path and self.answers_path.exists())

    async def remember_answers(self) -> None:
        if self.answers_path is not None:
            await run_file_job(write_atomic, self.answers_path, b"the receiver answers\n")

    def load(self) -> list[Line]:
        """What the last run kept (blocking: a few small files, read once at start)."""
        lines, seen = [], set()
        for path in (self.unacknowledged_path, self.waiting_path):
            if path is None:
                continue
            kept = read_kept_lines(path)
            self._written[path] = b"".join(data for _, data in kept)
            for cid, data in kept:
                if cid not in seen:
                    seen.add(cid)
                    lines.append(Line(cid, data))
        if lines:
            log.info("%s: %d line(s) kept from the last run", self.waiting_path.name, len(lines))
        return lines

    async def keep_waiting(self, lines) -> None:
        """Keep these lines as the ones waiting (none: the file goes)."""
        await self._keep(self.waiting_path, lines)

    async def keep_unacknowledged(self, lines) -> None:
        """Keep these lines as written and not acknowledged (none: the file goes)."""
        await self._keep(self.unacknowledged_path, lines)

    async def guard_unacknowledged(self, journal: SentJournal) -> None:
        """While a connection lasts: when an acknowledging receiver leaves lines unacknowledged for over a second
        (it froze), keep them on disk, so a crash of Station meanwhile loses none; a receiver that answers at once
        costs no disk write."""
        while True:
            await asyncio.sleep(UNACKNOWLEDGED_AFTER_S)
            oldest = journal.oldest_unread_at()
            stuck = journal.acknowledging and oldest is not None and time.monotonic() - oldest > UNACKNOWLEDGED_AFTER_S
            await self.keep_unacknowledged(journal.unread_lines() if stuck else [])

    @property
    def keeps_waiting(self) -> bool:
        return bool(self.waiting_path and self._written.get(self.waiting_path))

    async def _keep(self, path: Path | None, lines) -> None:
        if path is None:
            return
        data = b"".join(line.data for line in lines)
        if data == self._written.get(path, b""):
            return
        self._written[path] = data
        if data:
            await run_file_job(write_atomic, path, data)
        else:
            await run_file_job(remove_file, path)
