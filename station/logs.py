"""Logging: rotating files under the data dir, one logger per component, secrets masked.

Components log to `station.<component>` loggers. Every handler carries the
`SecretMask` filter, which replaces any registered secret value by `***`, so a
secret can never reach a log file or the Log dock even by accident.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
import threading
from pathlib import Path

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
ROOT = "station"


class SecretMask(logging.Filter):
    """Replaces registered secret values in a record's final message."""

    _secrets: set[str] = set()
    _lock = threading.Lock()

    @classmethod
    def register(cls, value: str) -> None:
        """Never let `value` appear in a log line."""
        if value and len(value) >= 4:
            with cls._lock:
                cls._secrets = cls._secrets | {value}

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


def add_handler(handler: logging.Handler) -> logging.Handler:
    """Attach `handler` to Station's root logger, with the secret mask."""
    handler.addFilter(SecretMask())
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
    add_handler(console)
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
    add_handler(file_handler)
    return path


class _Forward(logging.Handler):
    """Hands third-party library records to Station's handlers (masked like ours)."""

    def emit(self, record: logging.LogRecord) -> None:
        logging.getLogger(ROOT).handle(record)
