"""One webhook request from bytes to answer: decode, authenticate, limit, parse, de-duplicate, hand to the inbox.

The order matters: what costs nothing and reveals nothing comes first (allow-list,
the block on addresses that keep failing), the passphrase before anything about
strategies or fields is said, and the journal last. Nothing is written unless the
alert is accepted, and "Alert queued" is said only once its row is committed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field, replace
from typing import Any, Awaitable, Callable

from station.domain.alert import Alert
from station.domain.timeutil import utc_now
from station.oms.inbox import AlertInbox, Appended
from station.secrets import Secret
from station.web.tradingview.dedup import DedupIndex, fingerprint
from station.web.limits import RateLimiter, SourceAccess, retry_after_header
from station.web.tradingview.payload import PayloadError, canonical_text, decode_body, parse_alert

log = logging.getLogger("station.web")


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer: status, JSON body bytes, extra headers; `message` says why, for a refusal."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    message: str = ""


def error(status: int, message: str, errors: dict[str, str] | None = None, **headers: str) -> Answer:
    """`{"status": "error", "message": …[, "errors": …]}`."""
    body: dict[str, Any] = {"status": "error", "message": message}
    if errors is not None:
        body["errors"] = errors
    return Answer(status, json.dumps(body).encode(), {k.replace("_", "-"): v for k, v in headers.items()}, message)


def queued(alert_id: int) -> Answer:
    return Answer(200, b'{"status": "success", "message": "Alert queued", "alert_id": %d}' % alert_id)


def skipped(alert_id: int) -> Answer:
    return Answer(200, b'{"status": "skipped", "message": "Duplicate alert", "alert_id": %d}' % alert_id)


def too_many(wait: float, why: str) -> Answer:
    seconds = retry_after_header(wait)
    return error(429, f"{why}; retry after {seconds} s", Retry_After=seconds)


JOURNAL_DOWN = error(503, "the alert journal is unavailable; the alert was NOT accepted, send it again")
PASSPHRASE_REFRESH_S = 5.0


class AlertIntake:
    """Turns request bodies into journaled alerts; settings are changed live by the service."""

    def __init__(self, inbox: AlertInbox, passphrase: Secret | None,
                 on_duplicate: Callable[[int, Alert], None] | None = None,
                 reload_passphrase: Callable[[], Awaitable[Secret | None]] | None = None) -> None:
        self.inbox = inbox
        self.passphrase = passphrase
        self.access = SourceAccess()
        self.limiter = RateLimiter()
        self.failures = RateLimiter()
        self.dedup = DedupIndex(30)
        self.strategies: dict[str, str] = {}  # exact and lower-case name -> configured name
        # called on a name not known: True if it re-read the names (a strategy created a moment ago)
        self.refresh_strategies: Callable[[], bool] = lambda: False
        self._on_duplicate = on_duplicate or (lambda original_id, alert: None)
        self._reload = reload_passphrase
        self._reloading: asyncio.Future | None = None
        self._reloaded_at = 0.0

    # ---- before the body is read -----------------------------------------------------------------

    def admit(self, address: str) -> Answer | None:
        """An answer refusing `address` before its body is read, or None to go on."""
        if not self.access.allowed(address):
            return error(403, f"source address {address} is not on the allow-list")
        wait = self.failures.retry_after(address)
        if wait > 0:
            return too_many(wait, "too many failed passphrases from this address")
        return None

    def strategy_named(self, name: str) -> str | None:
        """The configured strategy `name` refers to (exact, else case-insensitive), or None."""
        found = self.strategies.get(name) or self.strategies.get(name.lower())
        if found is None and self.refresh_strategies():
            found = self.strategies.get(name) or self.strategies.get(name.lower())
        return found

    # ---- the body ----------------------------------------------------------------------------------

    async def receive(self, body: bytes, *, address: str, path_strategy: str | None = None,
                      query_passphrase: str | None = None) -> Answer:
        """The answer for one request body from `address` (to `/webhook[/path_strategy]`).

        The passphrase is the body's field `passphrase`; a body without that field may carry it in
        the URL's query (`query_passphrase`). With both, the body's is judged (CONTRACT.md).
        """
        received_at = utc_now()
        try:
            decoded = decode_body(body)
        except PayloadError as exc:
            return error(400, "the body is not a JSON object", exc.errors)
        wait = self.failures.retry_after(address)  # again: another request may have failed meanwhile
        if wait > 0:
            return too_many(wait, "too many failed passphrases from this address")
        offered = decoded.passphrase if decoded.has_passphrase else query_passphrase
        if not await self._authentic(offered):
            self.failures.hit(address)
            missing = offered is None or offered == ""
            return error(401, "missing passphrase: put it in the body field \"passphrase\" or in the URL "
                         "(?passphrase=…)" if missing else "wrong passphrase")
        wait = self.limiter.hit(address)
        if wait > 0:
            return too_many(wait, "rate limit exceeded")
        strategy = None
        if path_strategy is not None:
            strategy = self.strategy_named(path_strategy)
            if strategy is None:
                return error(404, f"unknown strategy {path_strategy!r} in the URL")
        try:
            alert = parse_alert(decoded.fields, received_at=received_at, strategy=strategy)
            raw = canonical_text(decoded.fields)
        except PayloadError as exc:
            return error(400, f"invalid alert: {exc}", exc.errors)
        if strategy is None and alert.strategy is not None:
            named = self.strategy_named(alert.strategy)
            if named is not None and named != alert.strategy:
                alert = replace(alert, strategy=named)
        # the strategy is content wherever it was given (URL or body): fingerprint it once, by its name
        content = raw if "strategy" not in decoded.fields else canonical_text(
            {k: v for k, v in decoded.fields.items() if k != "strategy"})
        return await self._journal(alert, raw, fingerprint(alert.strategy, content), address)

    async def _journal(self, alert: Alert, raw: str, key: str, address: str) -> Answer:
        while True:
            original = self.dedup.original(key) if self.dedup.window_s > 0 else None
            if original is None:
                break
            if isinstance(original, int):
                self._on_duplicate(original, alert)
                return skipped(original)
            try:
                appended: Appended = await asyncio.shield(original)
            except Exception:  # the original was not journaled: this one may be
                continue
            self._on_duplicate(appended.alert_id, alert)
            return skipped(appended.alert_id)
        future = self.inbox.append(alert, raw=raw, fingerprint=key, source_addr=address)
        if self.dedup.window_s > 0:
            self.dedup.add(key, future)
        try:
            appended = await asyncio.shield(future)
        except Exception:
            return JOURNAL_DOWN
        if self.dedup.window_s > 0:
            self.dedup.settle(key, appended.alert_id)
        return queued(appended.alert_id)

    async def _authentic(self, offered: Any) -> bool:
        if not isinstance(offered, str) or not offered:
            return False
        if self.passphrase is not None and self.passphrase.matches(offered):
            return True
        # The passphrase may have been changed from the command line (`station secret set`): look
        # again, at most every few seconds, so failures cannot make us hammer the keyring.
        if self._reload is None or asyncio.get_running_loop().time() - self._reloaded_at < PASSPHRASE_REFRESH_S:
            return False
        if self._reloading is None:
            self._reloading = asyncio.ensure_future(self._reload_once())
        await asyncio.shield(self._reloading)
        return self.passphrase is not None and self.passphrase.matches(offered)

    async def _reload_once(self) -> None:
        try:
            secret = await self._reload()
            if secret is not None:
                self.passphrase = secret
        except Exception as exc:  # a keyring hiccup must not turn a 401 into a 500
            log.warning("re-reading the webhook passphrase failed: %s", exc)
        finally:
            self._reloaded_at = asyncio.get_running_loop().time()
            self._reloading = None
