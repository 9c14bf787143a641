"""Logging: rotating files under the data dir, one logger per component, secrets masked.

Components log to `station.<component>` loggers. Every handler carries the
`SecretMask` filter, which replaces any registered secret value by `***`, so a
secret can never reach a log file or the Log dock even by accident.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote, quote_plus

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
ROOT = "station"


class SecretMask(logging.Filter):
    """Replaces registered secret values in a record's final message."""

    _secrets: set[str] = set()
    _lock = threading.Lock()

    @classmethod
    def register(cls, value: str) -> None:
        """Never let `value` appear in a log line, nor its escaped, percent-encoded or JSON-escaped forms."""
        if value and len(value) >= 4:
            with cls._lock:
                cls._secrets = cls._secrets | secret_forms(value)

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = self._secrets
        if secrets:
            message = record.getMessage()
            masked = message
            for secret in secrets:
                masked = masked.replace(secret, "***")
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            if record.exc_text:
                for secret in secrets:
                    record.exc_text = record.exc_text.replace(secret, "***")
            if masked != message:
                record.msg, record.args = masked, ()
        return True


def secret_forms(value: str) -> set[str]:
    """The forms a secret takes when something quotes it: JSON, URLs, Python reprs of str and bytes."""
    raw = value.encode("utf-8", "surrogatepass")
    forms = {
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        quote(value, safe=""),
        quote_plus(value, safe=""),
        repr(value)[1:-1],
        value.encode("unicode_escape").decode("ascii"),
        repr(raw)[2:-1],  # b'...' as aiohttp quotes bytes it could not parse
        raw.decode("latin-1"),  # UTF-8 bytes read as Latin-1 (an HTTP header's fallback)
    }
    return {form for form in forms if len(form) >= 4}


class RateLimit(logging.Filter):
    """At most `burst` records a minute of one kind (logger, level, message template) reach a file or console.

    A flood (a client hammering a refused route, a failing accept loop) must not rotate the
    log's whole history away. The next record of that kind let through says how many were dropped.
    """

    def __init__(self, burst: int = 300, period_s: float = 60.0) -> None:
        super().__init__()
        self.burst, self.period_s = burst, period_s
        self._kinds: dict[tuple, list] = {}  # kind -> [window start, passed, dropped]
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        kind = (record.name, record.levelno, str(record.msg)[:200])
        now = time.monotonic()
        with self._lock:
            state = self._kinds.get(kind)
            if state is None or now - state[0] >= self.period_s:
                dropped = state[2] if state else 0
                if len(self._kinds) > 10_000:
                    self._kinds.clear()
                self._kinds[kind] = [now, 1, 0]
                if dropped:
                    record.msg, record.args = f"{record.getMessage()} ({dropped} more like it dropped)", ()
                return True
            if state[1] < self.burst:
                state[1] += 1
                return True
            state[2] += 1
            return False


class EveryMinute:
    """Says one thing at most once a minute on a logger, counting the times it stayed quiet."""

    def __init__(self, logger: logging.Logger, level: int = logging.WARNING, period_s: float = 60.0) -> None:
        self.logger, self.level, self.period_s = logger, level, period_s
        self._last = -period_s
        self._quiet = 0

    def say(self, message: str, *args) -> bool:
        """Log now if the last one was a minute ago or more; True if it did."""
        now = time.monotonic()
        if now - self._last < self.period_s:
            self._quiet += 1
            return False
        quiet, self._quiet, self._last = self._quiet, 0, now
        self.logger.log(self.level, message + (f" ({quiet} times more in the last minute)" if quiet else ""), *args)
        return True


def add_handler(handler: logging.Handler, *, limited: bool = False) -> logging.Handler:
    """Attach `handler` to Station's root logger, with the secret mask (and the flood limit if `limited`)."""
    handler.addFilter(SecretMask())
    if limited:
        handler.addFilter(RateLimit())
    logging.getLogger(ROOT).addHandler(handler)
    return handler


def setup_logging(data_dir: Path | None, *, console_level: int = logging.WARNING) -> Path | None:
    """Log to `data_dir/logs/station.log` (rotating) and to stderr; returns the log file."""
    root = logging.getLogger(ROOT)
    root.setLevel(logging.DEBUG)
    root.propagate = False
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(console_level)
    console.setFormatter(logging.Formatter("station: %(levelname)s %(name)s: %(message)s"))
    add_handler(console, limited=True)
    for name in ("aiohttp", "ib_async", "databento", "qasync"):
        logging.getLogger(name).setLevel(logging.WARNING)
        logging.getLogger(name).addHandler(_Forward())
        logging.getLogger(name).propagate = False
    if data_dir is None:
        return None
    log_dir = data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / "station.log"
    file_handler = logging.handlers.RotatingFileHandler(path, maxBytes=5_000_000, backupCount=5, encoding="utf-8")
    file_handler.setLevel(logging.INFO)
    file_handler.setFormatter(logging.Formatter(LOG_FORMAT))
    add_handler(file_handler, limited=True)
    return path


class _Forward(logging.Handler):
    """Hands third-party library records to Station's handlers (masked like ours)."""

    def emit(self, record: logging.LogRecord) -> None:
        logging.getLogger(ROOT).handle(record)
