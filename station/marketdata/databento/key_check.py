""""Test key" for the Databento key: one metadata call (the datasets the key may use), which costs nothing.

Handed to the credential checks by the composition root (kind `databento`); the key is
read from the keyring handed in, the call runs in a worker thread (databento's
historical client is blocking).
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable

KEY_NAME = "databento-key"


class KeyRefused(RuntimeError):
    """The key is missing, refused, or Databento could not be reached; the message says which."""


def databento_key_check(secrets, gateway: Callable[[], str | None] = lambda: None):
    """A check (params -> what worked) listing the datasets the stored key may use."""

    async def check(params: dict[str, Any]) -> str:
        key = await asyncio.to_thread(secrets.get, KEY_NAME)
        if key is None:
            raise KeyRefused(f"no Databento key is set: enter it above (or `station secret set {KEY_NAME}`)")
        datasets = await asyncio.to_thread(_list_datasets, key.reveal(), params.get("gateway") or gateway())
        shown = ", ".join(datasets[:4]) + (f" and {len(datasets) - 4} more" if len(datasets) > 4 else "")
        return f"key accepted: {len(datasets)} datasets available ({shown or 'none'}); nothing was charged"

    return check


def _list_datasets(key: str, gateway: str | None) -> list[str]:
    import databento
    from databento.common.error import BentoClientError, BentoError

    try:
        client = databento.Historical(key=key, **({"gateway": gateway} if gateway else {}))
        return list(client.metadata.list_datasets())
    except BentoClientError as exc:
        if exc.http_status in (401, 403):
            raise KeyRefused(f"Databento refused the key ({exc.http_status}: {_message(exc)}); check it at "
                             "databento.com → Portal → API keys") from None
        raise KeyRefused(f"Databento: {_message(exc)}") from None
    except (BentoError, ValueError, OSError) as exc:
        raise KeyRefused(f"Databento could not be reached: {_message(exc)}") from None


def _message(exc: Exception) -> str:
    return getattr(exc, "message", None) or str(exc) or type(exc).__name__
