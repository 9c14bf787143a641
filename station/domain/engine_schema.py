"""Config keys of Station's own strategies (`engine`) and of risk (`risk`), checked on import.

A strategy with an `engine` object is run by the engine; its `kind` says which strategy
and which keys apply. `risk` applies to any strategy (engine or TradingView alerts).
Defaults are filled in, so an export shows every parameter in force.
"""

from __future__ import annotations

import re
from typing import Any

from station.domain import validation as v

KINDS = ("crossover", "supertrend", "zero_dte", "pairs")
_TIMEFRAME = re.compile(r"^(\d+)([mhdt])$")
_LIMITS = {"m": 1440, "h": 24, "d": 1, "t": 1_000_000}
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def timeframe(value: Any) -> str:
    """`1m`…`1d` time bars (m, h, d) or tick bars such as `512t`."""
    match = _TIMEFRAME.match(value.strip().lower()) if isinstance(value, str) else None
    if not match or not 1 <= int(match.group(1)) <= _LIMITS[match.group(2)]:
        raise v.Invalid(f"{value!r} is not a timeframe from 1m to 1d (m, h, d) or tick bars such as 512t")
    return f"{int(match.group(1))}{match.group(2)}"


def clock_time(value: Any) -> str:
    """`HH:MM` (24 h) in the exchange's time zone."""
    if not isinstance(value, str) or not _HHMM.match(value.strip()):
        raise v.Invalid(f"{value!r} is not a time HH:MM")
    return value.strip()


def calendar_name(value: Any) -> str:
    """An exchange calendar of the `exchange_calendars` library (XNYS, CMES, XNAS, …)."""
    name = v.text(value).upper()
    import exchange_calendars

    if name not in exchange_calendars.get_calendar_names(include_aliases=True):
        raise v.Invalid(f"{name!r} is not an exchange calendar (e.g. XNYS, XNAS, CMES)")
    return name


def _section(fields: v.Fields, *, required: tuple[str, ...] = ()) -> v.Check:
    """A nested object checked by `fields`, defaults filled in; all problems in one message."""
    def run(value: Any) -> dict:
        errors: dict[str, str] = {}
        clean = fields.check(value, "", errors, required=required)
        if errors:
            raise v.Invalid("; ".join(f"{path}: {why}" for path, why in errors.items()))
        return {**fields.defaults(), **clean}
    return run


line = _section(v.Fields({"type": (v.choice("sma", "ema", "wilder"), "ema"), "period": (v.integer(1, 5000), 9)}),
                required=("type", "period"))
positive = v.number(positive=True, maximum=1e9)
optional_positive = v.optional(positive)

COMMON = {
    "kind": (v.choice(*KINDS), None),
    "timeframe": (timeframe, "1m"),
    "trade_enabled": (v.boolean, True),
    "qty": (positive, 1),
    "sizing": (v.choice("fixed", "risk"), "fixed"),
    "risk_amount": (optional_positive, None),
    "point_value": (optional_positive, None),  # None: the ticker's setting, else the futures table (sizing)
    "warmup_bars": (v.optional(v.integer(1, 100_000)), None),
}
LINES = {"line1": (line, {"type": "ema", "period": 9}), "line2": (line, {"type": "sma", "period": 21})}
KIND_FIELDS: dict[str, dict[str, tuple]] = {
    "crossover": {**LINES, "stop_points": (optional_positive, None)},
    "supertrend": {
        "atr_period": (v.integer(1, 1000), 10), "multiplier": (positive, 3.0), "confirm_bars": (v.integer(1, 100), 3),
        "trail_atr": (optional_positive, None), "take_profit_atr": (optional_positive, None),
    },
    "zero_dte": {
        **LINES, "signal_symbol": (v.text, "SPX"), "underlying": (v.optional(v.text), None),
        "basis": (v.number(-1e6, 1e6), 0.0), "strike_step": (positive, 5), "close_before_min": (v.number(0, 390), 15),
        "calendar": (calendar_name, "XNYS"),
    },
    "pairs": {
        "lookback": (v.integer(2, 100_000), 20), "entry_z": (positive, 2.0), "exit_z": (v.number(0, 100), 0.5),
        "ddof": (v.integer(0, 1), 0),
    },
}
ALL_FIELDS = v.Fields({**COMMON, **{k: f for fields in KIND_FIELDS.values() for k, f in fields.items()}})


def engine_params(value: Any) -> dict:
    """A strategy's `engine` object: its kind, then that kind's keys (defaults filled in)."""
    v.mapping(value)
    kind = value.get("kind")
    if kind not in KINDS:
        raise v.Invalid(f"kind: must be one of {', '.join(KINDS)}")
    clean = _section(v.Fields({**COMMON, **KIND_FIELDS[kind]}))(value)
    _check_combination(clean)
    return clean


def engine_override(value: Any) -> dict:
    """A ticker's `engine` object: some strategy keys with values for this instrument only."""
    errors: dict[str, str] = {}
    clean = ALL_FIELDS.check(value, "", errors)
    if "kind" in clean:
        errors["kind"] = "is the strategy's, not a ticker's"
    if errors:
        raise v.Invalid("; ".join(f"{path}: {why}" for path, why in errors.items()))
    return clean


def _check_combination(params: dict) -> None:
    if params["sizing"] == "risk":
        if params.get("risk_amount") is None:
            raise v.Invalid("sizing 'risk' needs risk_amount")
        if params["kind"] == "crossover" and params.get("stop_points") is None:
            raise v.Invalid("sizing 'risk' of a crossover needs stop_points (the risk per unit)")
    if params["kind"] == "pairs" and params["timeframe"].endswith("t"):
        raise v.Invalid("pairs need time bars (their two legs' tick bars never line up)")
    if params["kind"] == "pairs" and params["exit_z"] >= params["entry_z"]:
        raise v.Invalid("exit_z must be below entry_z")


window = _section(v.Fields({
    "calendar": (calendar_name, "XNYS"), "start": (v.optional(clock_time), None), "end": (v.optional(clock_time), None),
}))

def limits_by_ticker(value: Any) -> dict:
    """{"MES": 5, …}: a positive number per ticker."""
    v.mapping(value)
    out = {}
    for ticker, limit in value.items():
        try:
            out[v.text(ticker)] = positive(limit)
        except v.Invalid as exc:
            raise v.Invalid(f"{ticker}: {exc}") from None
    return out


RISK = v.Fields({
    "daily_loss_limit": (optional_positive, None),
    "max_position": (optional_positive, None),
    "window": (v.optional(window), None),
})
strategy_risk = _section(RISK)

SETTINGS_RISK = v.Fields({
    "daily_loss_limit": (optional_positive, None),
    "max_position_by_ticker": (limits_by_ticker, {}),
    "flatten_on_loss": (v.boolean, True),
})
