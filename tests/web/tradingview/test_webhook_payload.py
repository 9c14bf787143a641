"""Webhook bodies → alerts, without a server: dialects, strings, spreads, times, field-keyed errors."""

import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from station.domain.alert import SpreadTicker
from station.domain.enums import Side
from station.web.tradingview.payload import PayloadError, canonical_text, decode_body, parse_alert, parse_spread

NOW = datetime(2024, 1, 4, 15, 31, tzinfo=timezone.utc)
DIALECT_1 = {"ticker": "AAPL", "trade_id": "Open_Long_ID_123", "action": "buy", "current_position": "short",
             "qty": 10, "price": 150.25, "time": "2024-01-04T15:30:00Z"}
DIALECT_2 = {"passphrase": "pw", "ticker": "AAPL", "order_action": "buy", "order_contracts": "100",
             "order_price": "400.2", "mar_pos": "long", "mar_pos_size": "100", "pre_mar_pos": "flat",
             "pre_mar_pos_size": "0", "order_comment": "Enter Long", "order_status": "waiting"}
DIALECT_3 = {"symbol": "ES", "action": "BUY", "quantity": 1, "price": 4500.50, "timestamp": "2023-05-01T12:34:56Z"}


def parse(body: dict, **kw):
    return parse_alert(decode_body(json.dumps(body).encode()).fields, received_at=NOW, **kw)


def errors_of(body, **kw) -> dict:
    with pytest.raises(PayloadError) as caught:
        parse(body, **kw) if isinstance(body, dict) else decode_body(body)
    return caught.value.errors


def test_dialect_1_as_in_the_contract():
    alert = parse(DIALECT_1)
    assert (alert.dialect, alert.ticker, alert.action, alert.qty, alert.price) == (1, "AAPL", Side.BUY, Decimal(10), Decimal("150.25"))
    assert alert.trade_id == "Open_Long_ID_123" and alert.position == "short" and alert.target_position is None
    assert alert.sent_at == datetime(2024, 1, 4, 15, 30, tzinfo=timezone.utc) and alert.received_at == NOW


def test_dialect_2_numbers_as_strings_and_positions():
    alert = parse(DIALECT_2)
    assert (alert.dialect, alert.qty, alert.price) == (2, Decimal(100), Decimal("400.2"))
    assert (alert.position, alert.target_position, alert.trade_id) == ("flat", "long", "Enter Long")
    assert alert.extra["mar_pos_size"] == Decimal(100) and alert.extra["pre_mar_pos_size"] == Decimal(0)
    assert alert.extra["order_status"] == "waiting"


def test_dialect_3_upper_case_action_and_timestamp():
    alert = parse(DIALECT_3)
    assert (alert.dialect, alert.ticker, alert.action, alert.qty, alert.price) == (3, "ES", Side.BUY, Decimal(1), Decimal("4500.5"))
    assert alert.sent_at == datetime(2023, 5, 1, 12, 34, 56, tzinfo=timezone.utc)


@pytest.mark.parametrize("action,side", [("BUY", Side.BUY), ("Sell", Side.SELL), (" sell ", Side.SELL), ("bUy", Side.BUY)])
def test_actions_are_case_insensitive(action, side):
    assert parse({**DIALECT_1, "action": action}).action is side


def test_numbers_may_be_strings_everywhere():
    alert = parse({"symbol": "ES", "action": "sell", "quantity": " 2.5 ", "price": "0.75", "timestamp": "1704382200"})
    assert (alert.qty, alert.price) == (Decimal("2.5"), Decimal("0.75"))
    assert alert.sent_at == datetime(2024, 1, 4, 15, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize("text,expected", [
    ("2024-01-04T15:30:00Z", datetime(2024, 1, 4, 15, 30, tzinfo=timezone.utc)),
    ("2024-01-04T15:30:00.123Z", datetime(2024, 1, 4, 15, 30, 0, 123000, tzinfo=timezone.utc)),
    ("2024-01-04T10:30:00-05:00", datetime(2024, 1, 4, 15, 30, tzinfo=timezone.utc)),
    ("2024-01-04 15:30:00", datetime(2024, 1, 4, 15, 30, tzinfo=timezone.utc)),  # no zone: TradingView's UTC
    (1704382200000, datetime(2024, 1, 4, 15, 30, tzinfo=timezone.utc)),  # epoch milliseconds
])
def test_tradingview_times_are_utc(text, expected):
    assert parse({**DIALECT_1, "time": text}).sent_at == expected


def test_spread_ticker_is_a_pair_with_exchange_prefixes_removed():
    alert = parse({**DIALECT_2, "ticker": "NMFC-0.72*NASDAQ:ROIC"})
    assert alert.ticker == "NMFC-0.72*NASDAQ:ROIC"
    assert alert.spread == SpreadTicker("NMFC", Decimal("0.72"), "ROIC")
    assert alert.extra["exchange2"] == "NASDAQ"
    assert parse_spread("NYSE:BRK-B-1.5*NASDAQ:AAPL") == SpreadTicker("BRK-B", Decimal("1.5"), "AAPL")
    for plain in ("BRK-B", "ES1!", "NASDAQ:AAPL", "BTC-USD", "A-B*C"):
        assert parse_spread(plain) is None


def test_strategy_from_path_or_body_and_a_conflict_is_an_error():
    assert parse({**DIALECT_1, "strategy": "Momentum"}).strategy == "Momentum"
    assert parse(DIALECT_1, strategy="Momentum").strategy == "Momentum"
    assert parse({**DIALECT_1, "strategy": "momentum"}, strategy="Momentum").strategy == "Momentum"
    assert "strategy" in errors_of({**DIALECT_1, "strategy": "Other"}, strategy="Momentum")


@pytest.mark.parametrize("body,field", [
    ({**DIALECT_1, "qty": 0}, "qty"),
    ({**DIALECT_1, "qty": -1}, "qty"),
    ({**DIALECT_2, "order_contracts": "0"}, "order_contracts"),
    ({**DIALECT_3, "quantity": "-3"}, "quantity"),
    ({**DIALECT_1, "qty": "ten"}, "qty"),
    ({**DIALECT_1, "qty": True}, "qty"),
    ({**DIALECT_1, "qty": [1]}, "qty"),
    ({**DIALECT_1, "qty": "NaN"}, "qty"),
    ({**DIALECT_1, "qty": "Infinity"}, "qty"),
    ({**DIALECT_1, "qty": 1e12}, "qty"),
    ({**DIALECT_1, "price": "1e400"}, "price"),
    ({**DIALECT_2, "order_price": "nan"}, "order_price"),
    ({**DIALECT_1, "action": "hold"}, "action"),
    ({**DIALECT_2, "order_action": "hold"}, "order_action"),
    ({**DIALECT_1, "action": ""}, "action"),
    ({**DIALECT_1, "action": 1}, "action"),
    ({**DIALECT_1, "ticker": 5}, "ticker"),
    ({**DIALECT_1, "ticker": "  "}, "ticker"),
    ({**DIALECT_1, "current_position": "sideways"}, "current_position"),
    ({**DIALECT_1, "time": "yesterday"}, "time"),
    ({**DIALECT_1, "time": "0001-01-01T00:00:00Z"}, "time"),  # no date in US/Eastern, where the port line says it
    ({**DIALECT_3, "timestamp": True}, "timestamp"),
    ({**DIALECT_2, "mar_pos_size": "-1"}, "mar_pos_size"),
    ({k: v for k, v in DIALECT_1.items() if k != "ticker"}, "ticker"),
    ({k: v for k, v in DIALECT_1.items() if k != "action"}, "action"),
    ({k: v for k, v in DIALECT_2.items() if k != "order_action"}, "order_action"),
    ({k: v for k, v in DIALECT_3.items() if k != "symbol"}, "symbol"),
    ({**DIALECT_1, "symbol": "MSFT"}, "symbol"),
])
def test_bad_values_are_keyed_by_the_field_name_as_sent(body, field):
    assert field in errors_of(body)


@pytest.mark.parametrize("raw,why", [
    (b"", "empty"), (b"   ", "empty"), (b"\xff\xfe{}", "UTF-8"), (b"{'a': 1}", "JSON"), (b"[1, 2]", "object"),
    (b"null", "object"), (b'"text"', "object"), (b"[" * 50000 + b"]" * 50000, "deep"),
    (b'{"qty": 1' + b"0" * 5000 + b"}", None),
])
def test_bodies_that_are_not_a_json_object(raw, why):
    if why is None:  # decodes (the huge number becomes a float); refused later as absurd
        fields = decode_body(raw).fields
        with pytest.raises(PayloadError) as caught:
            parse_alert({**fields, "ticker": "A", "action": "buy"}, received_at=NOW)
        assert "qty" in caught.value.errors
        return
    errors = errors_of(raw)
    assert list(errors) == ["body"] and why.lower() in errors["body"].lower()


def test_a_bom_and_any_whitespace_are_fine():
    assert decode_body(b"\xef\xbb\xbf \n{\"ticker\": \"A\"}\n").fields == {"ticker": "A"}


def test_the_passphrase_is_taken_out_and_the_canonical_text_is_stable():
    decoded = decode_body(json.dumps({"b": 1, "passphrase": "secret", "a": "é"}).encode())
    assert decoded.passphrase == "secret" and decoded.has_passphrase
    assert canonical_text(decoded.fields) == '{"a":"é","b":1}'
    assert canonical_text({"a": "é", "b": 1}) == canonical_text({"b": 1, "a": "é"})


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "\ud800"])
def test_values_that_cannot_be_stored_are_refused_by_field(value):
    with pytest.raises(PayloadError) as caught:
        canonical_text({"ticker": "A", "note": value})
    assert list(caught.value.errors) == ["note"]


@pytest.mark.parametrize("field,value", [
    ("price", -1), ("price", 0), ("price", "-0.0001"), ("price", "0"),
    ("qty", "1e999999999"), ("qty", "1_000"), ("qty", "\u0661\u0662"), ("qty", "\uff11"), ("qty", " 1 000"),
    ("price", "1e999999999"), ("qty", "0x10"), ("qty", "1e-999"),
])
def test_absurd_or_foreign_numbers_are_refused_naming_the_field(field, value):
    with pytest.raises(PayloadError) as refused:
        parse({**DIALECT_1, field: value})
    assert list(refused.value.errors) == [field]


def test_a_spread_may_have_a_price_at_or_below_zero():
    alert = parse({**DIALECT_1, "ticker": "NMFC-0.72*NASDAQ:ROIC", "price": "-0.75"})
    assert alert.price == Decimal("-0.75") and alert.spread is not None
