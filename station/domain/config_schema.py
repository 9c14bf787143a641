"""What a config document may contain: settings sections, destination types, strategy fields.

Each capability registers its own keys here (a settings section, a destination
type's parameters), so import, export and the Settings dialog all see them.
"""

from __future__ import annotations

import re

from station.domain import engine_schema as engine
from station.domain import validation as v


def _timeframe(value):
    """A bar timeframe name such as `1m`, `4h`, `1d` or `512t` (fully checked by the bar hub)."""
    text = v.text(value).lower()
    if not re.fullmatch(r"[1-9]\d{0,6}[smhdt]", text):
        raise v.Invalid(f"{value!r} is not a timeframe such as 1m, 4h, 1d or 512t")
    return text


def _sessions(value):
    """Symbol → trading session name, overriding the built-in guess."""
    names = ("cme-globex", "us-equity", "24x7")
    for symbol, name in v.mapping(value).items():
        if name not in names:
            raise v.Invalid(f"{symbol}: {name!r} is not one of {', '.join(names)}")
    return dict(value)


# Settings sections: key -> (check, default). A key left out of an import keeps its value.
SETTINGS: dict[str, v.Fields] = {
    "webhook": v.Fields({
        "dedup_window_s": (v.number(0, 86400), 30),
        "rate_limits": (v.list_of(v.rate_limit), ["50 per second"]),
        "allowlist": (v.list_of(v.ip_network, unique=True), []),
        "behind_tunnel": (v.boolean, False),
        "delay_s": (v.number(0, 3600), 0),
        # wrong or missing passphrases per source address; past it the address gets 429 for a while
        "failed_passphrase_limits": (v.list_of(v.rate_limit), ["10 per minute"]),
        # the public (tunnel) address TradingView posts to, as the trader pasted it; shown in the setup dialog
        "public_url": (v.optional(v.http_url), None),
    }),
    # order management (station/oms): risk limits (0 = no limit) and how long orders wait for a destination
    "risk": v.Fields({
        "max_order_qty": (v.number(0, 1e9), 0),
        "max_position": (v.number(0, 1e9), 0),
        # per strategy: working orders and held exits open at once (a bracket counts its exits)
        "max_open_orders": (v.number(0, 1e6), 0),
        # the engine's: overall daily loss limit, per-ticker position limits, flatten on a breach
        **engine.SETTINGS_RISK.fields,
    }),
    "oms": v.Fields({
        "pending_limit_s": (v.number(1, 7 * 86400), 300),
        "stuck_order_s": (v.number(1, 86400), 30),
    }),
    # NinjaTrader TCP ports: after a connection ends, a receiver that never acknowledges gets this many
    # seconds of lines again (and every line since the last one it provably read)
    "ninjatrader": v.Fields({
        "resend_window_s": (v.number(0, 7 * 86400), 600),
    }),
    # notifications: the tray always; e-mail through SMTP when enabled (password: secret smtp-password)
    "notifications": v.Fields({
        "email_enabled": (v.boolean, False),
        "smtp_host": (v.text, "localhost"),
        "smtp_port": (v.port, 587),
        "smtp_username": (v.optional(v.text), None),
        "smtp_security": (v.choice("starttls", "tls", "none"), "starttls"),
        "email_from": (v.text, "station@localhost"),
        "email_to": (v.list_of(v.text), []),
        "min_level": (v.choice("info", "warning", "error"), "warning"),
        # chat: Telegram (the bot's token is the secret telegram-bot-token) and Discord (the webhook URL is the
        # secret discord-webhook-url); the API addresses are settings so a test or a proxy can stand in
        "telegram_enabled": (v.boolean, False),
        "telegram_chat_id": (v.optional(v.text), None),
        "telegram_api_url": (v.http_url, "https://api.telegram.org"),
        "discord_enabled": (v.boolean, False),
        # a switch per kind of chat message (notify/chat_kinds.py)
        "chat_fills": (v.boolean, True),
        "chat_rejections": (v.boolean, True),
        "chat_disconnects": (v.boolean, True),
        "chat_refused_alerts": (v.boolean, True),
        "chat_loss_limits": (v.boolean, True),
        "chat_schwab_token": (v.boolean, True),
    }),
    # Market data: bars built for every symbol, the Databento live feed, replay, history.
    "marketdata": v.Fields({
        "timeframes": (v.list_of(_timeframe, unique=True), ["1m"]),
        "sessions": (_sessions, {}),
        "live_dataset": (v.text, "GLBX.MDP3"),
        "live_schemas": (v.list_of(v.choice("trades", "tbbo", "mbp-1", "ohlcv-1s", "ohlcv-1m", "definition"),
                                   unique=True), ["trades"]),
        "live_symbols": (v.list_of(v.text, unique=True), ["ES.c.0", "NQ.c.0"]),
        "live_stype_in": (v.choice("raw_symbol", "continuous", "parent", "instrument_id"), "continuous"),
        "live_gateway": (v.optional(v.text), None),
        "live_port": (v.port, 13000),
        "warmup": (v.choice("none", "session"), "session"),
        "stale_after_s": (v.number(1, 3600), 30),
        "replay_file": (v.optional(v.text), None),
        "replay_speed": (v.number(0, 100000), 10),
        "history_gateway": (v.optional(v.text), None),
        "confirm_above_usd": (v.number(0, 1e6), 1.0),
    }),
}

# Destination types and their parameters; credentials never appear here (they live in the keyring).
DESTINATION_TYPES: dict[str, tuple[v.Fields, tuple[str, ...]]] = {
    "paper": (v.Fields({}), ()),
    "ninjatrader-ati": (v.Fields({
        "account": (v.ati_field, None),
        # left out: `Documents/NinjaTrader 8/incoming` and `…/outgoing` of the user running Station
        "incoming": (v.text, None),
        "outgoing": (v.text, None),
        "order_type": (v.choice("market", "limit"), "market"),
        "tif": (v.choice("day", "gtc"), "day"),
    }), ("account",)),
    "ib": (v.Fields({
        "host": (v.text, "127.0.0.1"),
        "port": (v.port, 7497),
        "client_id": (v.integer(0, 2**31 - 1), 1),
        "account": (v.optional(v.text), None),
        # IB as a market data source: symbols to stream (TradingView style, mapped like orders).
        # Left out, they stay out of the entry (defaults: none; trades; no bars; trades).
        "market_data": (v.optional(v.list_of(v.text, unique=True)), None),
        "ticks": (v.optional(v.choice("trades", "quotes", "off")), None),
        "realtime_bars": (v.optional(v.boolean), None),
        "bar_source": (v.optional(v.choice("trades", "midpoint", "bid", "ask")), None),
    }), ()),
    "schwab": (v.Fields({
        "account": (v.optional(v.text), None),
        "base_url": (v.url, "https://api.schwabapi.com"),
        # where Schwab sends the browser after login; must equal the developer app's callback URL
        "callback_url": (v.url, "https://127.0.0.1"),
        "poll_s": (v.number(0.2, 60), 1),
    }), ()),
    "tastytrade": (v.Fields({
        "account": (v.optional(v.text), None),
        "sandbox": (v.boolean, False),
        "base_url": (v.optional(v.url), None),  # overrides sandbox/production (e.g. a proxy)
        "poll_s": (v.number(0.2, 60), 1),
    }), ()),
}

STRATEGY = v.Fields({
    "enabled": (v.boolean, True),
    "accounts": (v.mapping, {}),
    "tickers": (v.mapping, {}),
    "delay_s": (v.number(0, 3600), 0),
    "order_type": (v.choice("market", "limit"), "market"),
    "engine": (v.optional(engine.engine_params), None),
    "take_alerts": (v.boolean, False),  # a strategy with an engine takes webhook alerts too
    "risk": (engine.strategy_risk, engine.strategy_risk({})),
})

TICKER = v.Fields({
    "enabled": (v.boolean, True),
    "ports": (v.list_of(v.listed_port, unique=True), []),
    "destinations": (v.mapping, {}),
    "engine": (engine.engine_override, {}),
    "point_value": (v.decimal(), None),
    "max_position": (v.decimal(), None),
    # minimum price increment, for slippage in ticks (`station analyze`); known futures need none
    "tick_size": (v.decimal(), None),
})

TICKER_DESTINATION = v.Fields({
    "qty": (v.decimal(), None),
    "multiplier": (v.decimal(), None),
    "instrument": (v.name, None),
    "reversal": (v.choice("single", "close_then_open"), "single"),
})

# Keys kept in the `options` column rather than a column of their own.
STRATEGY_OPTION_KEYS = tuple(k for k in STRATEGY.fields if k not in ("enabled", "accounts", "tickers"))
TICKER_OPTION_KEYS = tuple(k for k in TICKER.fields if k not in ("enabled", "ports", "destinations"))
TICKER_DESTINATION_OPTION_KEYS = tuple(k for k in TICKER_DESTINATION.fields if k not in ("qty", "multiplier", "instrument"))

SECRET_WORDS = ("password", "secret", "token", "app_key", "api_key", "apikey", "passphrase", "refresh")
