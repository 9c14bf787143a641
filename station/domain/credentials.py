"""Every secret Station knows by name: what it is for, where it comes from, how long it lasts.

The keyring holds the values (`station/secrets.py`); this catalog is what the command
line's error messages and the window's "Accounts & keys" name. Pure data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class Credential:
    """One named secret: the service it belongs to, a label, where the trader gets it, its lifetime if any."""

    name: str
    service: str
    label: str
    hint: str = ""
    lifetime: timedelta | None = None  # from when it was stored (a Schwab refresh token: 7 days)


SCHWAB_REFRESH_LIFETIME = timedelta(days=7)
EXPIRY_WARNING = timedelta(hours=24)  # notified this long before a dated secret expires

CREDENTIALS: tuple[Credential, ...] = (
    Credential("webhook-passphrase", "station", "Webhook passphrase",
               "In every TradingView alert message (or the URL's ?passphrase=); made at first start"),
    Credential("api-token", "station", "REST API token", "Authorization: Bearer … for /api and the dashboard"),
    Credential("smtp-password", "station", "SMTP password", "Your mail server's password, for e-mail notifications"),
    Credential("telegram-bot-token", "station", "Telegram bot token",
               "From @BotFather (/newbot), for Telegram notifications; the chat id goes in the notification settings"),
    Credential("discord-webhook-url", "station", "Discord webhook URL",
               "Discord → channel settings → Integrations → Webhooks → Copy Webhook URL"),
    Credential("databento-key", "databento", "API key", "databento.com → Portal → API keys (starts with db-)"),
    Credential("schwab-app-key", "schwab", "App key", "developer.schwab.com → your app → App Key"),
    Credential("schwab-app-secret", "schwab", "App secret", "developer.schwab.com → your app → Secret"),
    Credential("schwab-refresh-token", "schwab", "Refresh token", "Stored by Authorize…; lasts 7 days",
               lifetime=SCHWAB_REFRESH_LIFETIME),
    Credential("tastytrade-client-secret", "tastytrade", "OAuth client secret",
               "my.tastytrade.com → API → OAuth Applications"),
    Credential("tastytrade-refresh-token", "tastytrade", "OAuth refresh token", "Your OAuth application → Create Grant"),
    Credential("tastytrade-username", "tastytrade", "Login (username)", "Instead of OAuth: the session login"),
    Credential("tastytrade-password", "tastytrade", "Password", "Instead of OAuth: the session login"),
)
BY_NAME = {credential.name: credential for credential in CREDENTIALS}


def expires_at(name: str, stored_at: datetime | None) -> datetime | None:
    """When the secret `name` stored at `stored_at` stops working, or None if it does not expire (or is unknown)."""
    credential = BY_NAME.get(name)
    if credential is None or credential.lifetime is None or stored_at is None:
        return None
    return stored_at + credential.lifetime


def secret_commands(*names: str) -> str:
    """The command lines that store `names`: "`station secret set a` and `station secret set b`"."""
    return " and ".join(f"`station secret set {name}`" for name in names)


def set_hint(*names: str) -> str:
    """Where a trader stores missing secrets: the window's dialog, or the command line on a server."""
    return f"set {'it' if len(names) == 1 else 'them'} in Settings → Accounts & keys (or {secret_commands(*names)})"
