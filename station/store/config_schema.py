"""What a config document may contain: settings sections, destination types, strategy fields.

Each capability registers its own keys here (a settings section, a destination
type's parameters), so import, export and the Settings dialog all see them.
"""

from __future__ import annotations

from station.store import engine_schema as engine
from station.store import validation as v

# Settings sections: key -> (check, default). A key left out of an import keeps its value.
SETTINGS: dict[str, v.Fields] = {
    "webhook": v.Fields({
        "dedup_window_s": (v.number(0, 86400), 30),
        "rate_limits": (v.list_of(v.rate_limit), ["50 per second"]),
        "allowlist": (v.list_of(v.ip_network, unique=True), []),
        "behind_tunnel": (v.boolean, False),
        "delay_s": (v.number(0, 3600), 0),
    }),
    # order management (station/oms): risk limits (0 = no limit) and how long orders wait for a destination
    "risk": v.Fields({
        "max_order_qty": (v.number(0, 1e9), 0),
        "max_position": (v.number(0, 1e9), 0),
        # the engine's: overall daily loss limit, per-ticker position limits, flatten on a breach
        **engine.SETTINGS_RISK.fields,
    }),
    "oms": v.Fields({
        "pending_limit_s": (v.number(1, 7 * 86400), 300),
        "stuck_order_s": (v.number(1, 86400), 30),
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
    "engine": (v.optional(engine.engine_params), None),
    "risk": (engine.strategy_risk, engine.strategy_risk({})),
})

TICKER = v.Fields({
    "enabled": (v.boolean, True),
    "ports": (v.list_of(v.port, unique=True), []),
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
    "instrument": (v.text, None),
    "reversal": (v.choice("single", "close_then_open"), "single"),
})

# Keys kept in the `options` column rather than a column of their own.
STRATEGY_OPTION_KEYS = tuple(k for k in STRATEGY.fields if k not in ("enabled", "accounts", "tickers"))
TICKER_OPTION_KEYS = tuple(k for k in TICKER.fields if k not in ("enabled", "ports", "destinations"))
TICKER_DESTINATION_OPTION_KEYS = tuple(k for k in TICKER_DESTINATION.fields if k not in ("qty", "multiplier", "instrument"))

SECRET_WORDS = ("password", "secret", "token", "app_key", "api_key", "apikey", "passphrase", "refresh")
