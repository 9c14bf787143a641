"""What a config document may contain: settings sections, destination types, strategy fields.

Each capability registers its own keys here (a settings section, a destination
type's parameters), so import, export and the Settings dialog all see them.
"""

from __future__ import annotations

from station.store import validation as v

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
}

# Destination types and their parameters; credentials never appear here (they live in the keyring).
DESTINATION_TYPES: dict[str, tuple[v.Fields, tuple[str, ...]]] = {
    "paper": (v.Fields({}), ()),
    "ninjatrader-ati": (v.Fields({
        "account": (v.text, None),
        "incoming": (v.text, None),
        "outgoing": (v.text, None),
        "order_type": (v.choice("market", "limit"), "market"),
        "tif": (v.choice("day", "gtc"), "day"),
    }), ("account", "incoming", "outgoing")),
    "ib": (v.Fields({
        "host": (v.text, "127.0.0.1"),
        "port": (v.port, 7497),
        "client_id": (v.integer(0, 2**31 - 1), 1),
        "account": (v.optional(v.text), None),
    }), ()),
    "schwab": (v.Fields({
        "account": (v.optional(v.text), None),
        "base_url": (v.text, "https://api.schwabapi.com"),
    }), ()),
    "tastytrade": (v.Fields({
        "account": (v.optional(v.text), None),
        "sandbox": (v.boolean, False),
    }), ()),
}

STRATEGY = v.Fields({
    "enabled": (v.boolean, True),
    "accounts": (v.mapping, {}),
    "tickers": (v.mapping, {}),
    "delay_s": (v.number(0, 3600), 0),
    "order_type": (v.choice("market", "limit"), "market"),
})

TICKER = v.Fields({
    "enabled": (v.boolean, True),
    "ports": (v.list_of(v.port, unique=True), []),
    "destinations": (v.mapping, {}),
})

TICKER_DESTINATION = v.Fields({
    "qty": (v.decimal(), None),
    "multiplier": (v.decimal(), None),
    "instrument": (v.text, None),
})

# Keys kept in the `options` column rather than a column of their own.
STRATEGY_OPTION_KEYS = tuple(k for k in STRATEGY.fields if k not in ("enabled", "accounts", "tickers"))
TICKER_OPTION_KEYS = tuple(k for k in TICKER.fields if k not in ("enabled", "ports", "destinations"))
TICKER_DESTINATION_OPTION_KEYS = tuple(k for k in TICKER_DESTINATION.fields if k not in ("qty", "multiplier", "instrument"))

SECRET_WORDS = ("password", "secret", "token", "app_key", "api_key", "apikey", "passphrase", "refresh")
