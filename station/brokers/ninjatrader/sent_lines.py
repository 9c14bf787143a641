"""Which lines a NinjaTrader port may not have read, and so are written again after its connection ends.

The rule (CONTRACT.md "NinjaTrader"): while connected each line is written once; after a
connection ends, every line the receiver has not acknowledged is written again when it
is back, and to a receiver that never acknowledges, every line of the last
`resend_window_s` — and, whatever the window, every line since the last one it provably read.

What proves that a receiver read a line:
- its ack of the line's id, which proves that line only: the contract writes again every
  line the receiver has not acknowledged, also one it read and did not take while it
  acknowledged later ones. For a receiver that never acknowledges, an order reply about an
  id proves that one line. This holds on every OS and is what makes the rule exact for the
  add-on.
- for a receiver that never acknowledges, a connection it closed cleanly (a FIN, not a
  reset) with every byte acknowledged by its kernel: a program that closes a socket with unread bytes makes its kernel reset
  the connection, so a clean close after full acknowledgement means it read them all.
  How many bytes the peer's kernel acknowledged is known only where the OS tells
  (`unconfirmed_bytes`: Linux's SIOCOUTQ); elsewhere (Windows) a clean close proves
  nothing and those lines count as unread.

Bytes the peer's kernel acknowledged are *not* proof: a receiver that froze holds them
unread in its buffer and loses them when it resets. So nothing is ever dropped from here
for being acknowledged by TCP alone, only for being proven read.
"""

from __future__ import annotations

import logging
import struct
import sys
from collections import OrderedDict, deque
from dataclasses import dataclass

log = logging.getLogger("station.ninjatrader")

MAX_UNREAD = 100_000  # lines kept for re-sending beyond the window; past it the oldest go (and it is said)


@dataclass(frozen=True, slots=True)
class Line:
    """One order's bytes for the port."""

    client_order_id: str
    data: bytes


@dataclass(frozen=True, slots=True)
class SentLine:
    """A line as written on one connection: its place in the port's sequence and on that connection."""

    seq: int
    line: Line
    at: float  # monotonic seconds when written
    connection: int
    end: int  # bytes written on that connection up to and including this line


class SentJournal:
    """The lines of one port that are written and not proven read, and those of the last window."""

    def __init__(self, max_unread: int = MAX_UNREAD) -> None:
        self.max_unread = max_unread
        self.acknowledging = False  # the receiver has acknowledged a line: acknowledgements alone decide
        self._seq = 0
        self._unread: OrderedDict[int, SentLine] = OrderedDict()  # by seq
        self._latest: dict[str, SentLine] = {}  # client order id -> its latest write, while unread
        self._recent: deque[SentLine] = deque()  # every line of the last window, read or not
        self._dropped = 0

    def __len__(self) -> int:
        return len(self._unread)

    @property
    def unread_ids(self) -> list[str]:
        """Client order ids written and not proven read, oldest first."""
        return [sent.line.client_order_id for sent in self._unread.values()]

    def unread_lines(self) -> list[Line]:
        """The lines written and not proven read, oldest first."""
        return [sent.line for sent in self._unread.values()]

    def oldest_unread_at(self) -> float | None:
        """When the oldest line not proven read was written (monotonic seconds), or None."""
        return next(iter(self._unread.values())).at if self._unread else None

    def written(self, line: Line, at: float, connection: int, end: int) -> SentLine:
        """Note a line handed to a connection (it may or may not reach the peer)."""
        self._seq += 1
        sent = SentLine(self._seq, line, at, connection, end)
        self._unread[sent.seq] = sent
        self._latest[line.client_order_id] = sent
        if not self.acknowledging:  # only a receiver that never acknowledges gets the window again
            self._recent.append(sent)
        while len(self._unread) > self.max_unread:
            _, oldest = self._unread.popitem(last=False)
            self._forget(oldest)
            self._dropped += 1
            if self._dropped == 1 or self._dropped % 10_000 == 0:
                log.warning("more than %d lines written and not proven read; the oldest (%s) will not be written "
                            "again after a reset (%d so far)", self.max_unread, oldest.line.client_order_id,
                            self._dropped)
        return sent

    def acknowledged(self, client_order_id: str) -> bool:
        """The receiver acknowledged the line with this id: that line is read, and from now on acknowledgements
        alone decide what is written again. An ack says nothing of the lines before it: one the receiver read
        and did not acknowledge is written again (CONTRACT.md). True if this proved anything new."""
        if not self.acknowledging:
            self.acknowledging = True
            self._recent.clear()
        sent = self._latest.get(client_order_id)
        return sent is not None and self._read(sent) is not None

    def heard_of(self, client_order_id: str) -> bool:
        """The receiver spoke of this line's order (an order reply, maybe re-sent after a reconnect): that one
        line is read, nothing is said of the others. True if this proved it. Not for a receiver that
        acknowledges: it acknowledges each line it takes, and one it answers about without an ack (the add-on,
        when it cannot record the id) is to come again."""
        if self.acknowledging:
            return False
        sent = self._latest.get(client_order_id)
        return sent is not None and self._read(sent) is not None

    def read_through(self, connection: int, end: int) -> None:
        """Every byte up to `end` on `connection` is proven read (a clean close, all acknowledged by the kernel).
        Not for a receiver that acknowledges: read is not taken, and its acknowledgements alone decide."""
        if self.acknowledging:
            return
        for sent in [s for s in self._unread.values() if s.connection == connection and s.end <= end]:
            self._read(sent)

    def to_resend(self, now: float, window_s: float) -> list[Line]:
        """The lines to write again after a connection ended, oldest first; they leave the journal (written
        again, they are noted again)."""
        self.prune(now, window_s)
        chosen = dict(self._unread)
        if not self.acknowledging:
            chosen.update((sent.seq, sent) for sent in self._recent)
        lines, seen = [], set()
        for seq in sorted(chosen):
            cid = chosen[seq].line.client_order_id
            if cid not in seen:  # a line written twice (across connections) goes out once, in its first place
                seen.add(cid)
                lines.append(chosen[seq].line)
        self._unread.clear()
        self._latest.clear()
        self._recent.clear()
        return lines

    def prune(self, now: float, window_s: float) -> None:
        """Forget the window's lines older than `window_s` (unread ones stay until proven read)."""
        while self._recent and now - self._recent[0].at > window_s:
            self._recent.popleft()

    def _read(self, sent: SentLine) -> SentLine | None:
        removed = self._unread.pop(sent.seq, None)
        if removed is not None:
            self._forget(removed)
        return removed

    def _forget(self, sent: SentLine) -> None:
        if self._latest.get(sent.line.client_order_id) is sent:
            del self._latest[sent.line.client_order_id]


def unconfirmed_bytes(writer) -> int | None:
    """Bytes written to `writer` that the peer's TCP has not acknowledged (Linux SIOCOUTQ plus what is still
    buffered in the transport); None where the OS does not say (Windows, macOS)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import fcntl
        import termios

        sock = writer.get_extra_info("socket")
        if sock is None or sock.fileno() < 0:
            return None
        queued = struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0" * 4))[0]
        return queued + writer.transport.get_write_buffer_size()
    except (OSError, ImportError, AttributeError):
        return None
