"""Pure mapping of the Schwab and Tastytrade wire formats, OCC option symbols and error bodies (no socket)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from support.broker_harness import request
from station.brokers.protocol import BrokerError
from station.brokers.rest.symbols import asset_class, occ_symbol, parse_option, same_symbol
from station.brokers.rest.client import error_text
from station.brokers.schwab import parsing as schwab
from station.brokers.schwab.auth import authorize_url, code_from_redirect
from station.brokers.tastytrade import parsing as tasty
from station.domain.enums import AssetClass, OptionRight, OrderStatus, OrderType, Side, TimeInForce

S = OrderStatus
D = Decimal


@pytest.mark.parametrize("text", ["SPXW  240104C04700000", "SPXW240104C04700000", ".SPXW240104C4700",
                                  "spxw 240104c4700", "SPXW  240104C4700.0"])
def test_option_spellings_give_one_occ_symbol(text):
    option = parse_option(text)
    assert option is not None and option.occ == "SPXW  240104C04700000"
    assert (option.root, option.expiry, option.right, option.strike) == ("SPXW", date(2024, 1, 4), OptionRight.CALL, 4700)


def test_occ_symbols_and_asset_classes():
    assert occ_symbol("spy", date(2025, 3, 21), OptionRight.PUT, D("512.5")) == "SPY   250321P00512500"
    assert parse_option("QQQ 191115C00187000").strike == D("187")
    assert same_symbol("QQQ 191115C00187000", "QQQ   191115C00187000")
    assert [asset_class(s) for s in ("AAPL", "/ESZ5", "/MESH26", "SPX   240104P04650000", "BRK.B")] == [
        AssetClass.STOCK, AssetClass.FUTURE, AssetClass.FUTURE, AssetClass.OPTION, AssetClass.STOCK]
    assert parse_option("SPXW  241340C04700000") is None  # month 13
    with pytest.raises(ValueError):
        occ_symbol("SPX", date(2024, 1, 4), OptionRight.CALL, D("0.0001"))


# ---- Schwab -------------------------------------------------------------------------------

SCHWAB_STATUSES = ["AWAITING_PARENT_ORDER", "AWAITING_CONDITION", "AWAITING_STOP_CONDITION", "AWAITING_MANUAL_REVIEW",
                   "ACCEPTED", "AWAITING_UR_OUT", "PENDING_ACTIVATION", "QUEUED", "WORKING", "REJECTED",
                   "PENDING_CANCEL", "CANCELED", "PENDING_REPLACE", "REPLACED", "FILLED", "EXPIRED", "NEW",
                   "AWAITING_RELEASE_TIME", "PENDING_ACKNOWLEDGEMENT", "PENDING_RECALL"]


def test_every_schwab_status_is_mapped():
    assert set(schwab.MAP_ORDER_STATUS) == set(SCHWAB_STATUSES)
    assert schwab.MAP_ORDER_STATUS["CANCELED"] is S.CANCELLED and schwab.MAP_ORDER_STATUS["QUEUED"] is S.SUBMITTED


@pytest.mark.parametrize("side,position,expected", [
    ("buy", 0, "BUY"), ("buy", 5, "BUY"), ("buy", -10, "BUY_TO_COVER"),
    ("sell", 10, "SELL"), ("sell", 0, "SELL_SHORT"), ("sell", -3, "SELL_SHORT")])
def test_schwab_equity_instruction_follows_the_position(side, position, expected):
    body = schwab.order_json(request("a1", "schwab", "aapl", side, 10), D(position))
    assert body["orderLegCollection"] == [{"instruction": expected, "quantity": 10,
                                           "instrument": {"symbol": "AAPL", "assetType": "EQUITY"}}]


def test_schwab_order_bodies():
    gtc_stop = request("a2", "schwab", "SPX", "sell", 2, order_type=OrderType.STOP_LIMIT, limit="3.05", stop="3.10",
                       instrument="SPXW  240104P04650000")
    gtc_stop = type(gtc_stop)(**{**{f: getattr(gtc_stop, f) for f in gtc_stop.__dataclass_fields__}, "tif": TimeInForce.GTC})
    body = schwab.order_json(gtc_stop, D(2))
    assert body == {"orderType": "STOP_LIMIT", "session": "NORMAL", "duration": "GOOD_TILL_CANCEL",
                    "orderStrategyType": "SINGLE", "price": "3.05", "stopPrice": "3.1",
                    "orderLegCollection": [{"instruction": "SELL_TO_CLOSE", "quantity": 2,
                                            "instrument": {"symbol": "SPXW  240104P04650000", "assetType": "OPTION"}}]}
    with pytest.raises(BrokerError, match="no futures"):
        schwab.order_json(request("a3", "schwab", "ES", instrument="/ESZ5"), D(0))
    with pytest.raises(BrokerError, match="fractional"):
        schwab.check(type(gtc_stop)(client_order_id="a4", destination="schwab", ticker="AAPL", side=Side.BUY, qty=D("1.5")))
    with pytest.raises(BrokerError, match="two orders"):
        schwab.order_json(request("a5", "schwab", "AAPL", "buy", 20), D(-5))


def test_schwab_listed_order_with_partial_fills():
    raw = {"session": "NORMAL", "duration": "DAY", "orderType": "LIMIT", "quantity": 500.0, "filledQuantity": 143.0,
           "remainingQuantity": 357.0, "price": 32.7, "orderStrategyType": "SINGLE", "orderId": 370336378,
           "status": "WORKING", "enteredTime": "2024-08-17T14:55:51+0000",
           "orderLegCollection": [{"orderLegType": "EQUITY", "legId": 1, "instruction": "BUY", "quantity": 500.0,
                                   "instrument": {"assetType": "EQUITY", "symbol": "PENN", "cusip": "707569109"}}],
           "orderActivityCollection": [
               {"activityType": "EXECUTION", "activityId": 11, "executionType": "FILL", "quantity": 43.0,
                "executionLegs": [{"legId": 1, "quantity": 43.0, "price": 32.6999, "time": "2024-08-17T14:55:51+0000"}]},
               {"activityType": "ORDER_ACTION"},
               {"activityType": "EXECUTION", "executionType": "FILL", "quantity": 100.0,
                "executionLegs": [{"legId": 1, "quantity": 100.0, "price": 32.7, "time": "2024-08-17T14:56:02+0000"}]}]}
    snap = schwab.parse_order(raw)
    assert (snap.broker_order_id, snap.symbol, snap.side, snap.qty, snap.status, snap.filled_qty) == (
        "370336378", "PENN", Side.BUY, 500, S.PARTIALLY_FILLED, 143)
    assert [(e.fill_id, e.qty, e.price) for e in snap.executions] == [
        ("370336378-11-0", 43, D("32.6999")), ("370336378-a2-0", 100, D("32.7"))]
    assert snap.entered_at.isoformat() == "2024-08-17T14:55:51+00:00" and snap.limit_price == D("32.7")
    assert schwab.parse_order({**raw, "status": "REJECTED", "statusDescription": "No trading permission"}).reason == \
        "No trading permission"
    assert schwab.parse_order({**raw, "orderLegCollection": raw["orderLegCollection"] * 2}) is None  # a spread


def test_schwab_positions_accounts_and_locations():
    body = {"securitiesAccount": {"positions": [
        {"longQuantity": 0.0, "shortQuantity": 20.0, "averagePrice": 12.5, "instrument": {"symbol": "F"}},
        {"longQuantity": 3.0, "shortQuantity": 0.0, "averagePrice": 4.1,
         "instrument": {"assetType": "OPTION", "symbol": "SPXW  240104C04700000"}}]}}
    assert [(p.symbol, p.qty, p.avg_price) for p in schwab.parse_positions(body)] == [
        ("F", -20, D("12.5")), ("SPXW  240104C04700000", 3, D("4.1"))]
    assert schwab.pick_account([{"accountNumber": "123456789", "hashValue": "H1"}], None) == ("123456789", "H1")
    two = [{"accountNumber": "111122223333", "hashValue": "A"}, {"accountNumber": "444455556666", "hashValue": "B"}]
    assert schwab.pick_account(two, "444455556666") == ("444455556666", "B")
    with pytest.raises(ValueError, match="several accounts .…3333, …6666"):
        schwab.pick_account(two, None)
    assert schwab.order_id_from_location("https://api.schwabapi.com/trader/v1/accounts/H/orders/1000321") == "1000321"
    assert schwab.order_id_from_location(None) is None


def test_schwab_authorize_url_and_redirect_code():
    url = authorize_url("https://api.schwabapi.com", "KEY", "https://127.0.0.1:8182")
    assert url == "https://api.schwabapi.com/v1/oauth/authorize?client_id=KEY&redirect_uri=https%3A%2F%2F127.0.0.1%3A8182"
    assert code_from_redirect("https://127.0.0.1:8182/?code=C0.b2F1dGg%40&session=abc") == "C0.b2F1dGg@"
    with pytest.raises(ValueError, match="no \\?code="):
        code_from_redirect("https://127.0.0.1:8182/?error=access_denied")


# ---- Tastytrade ---------------------------------------------------------------------------

def test_tastytrade_order_bodies():
    body = tasty.order_json(request("a1-M-tt", "tt", "SPX", "sell", 1, order_type=OrderType.LIMIT, limit="2.40",
                                    instrument=".SPXW240104C4700"), D(0))
    assert body == {"time-in-force": "Day", "order-type": "Limit", "external-identifier": "a1-M-tt",
                    "automated-source": True, "price": "2.4", "price-effect": "Credit",
                    "legs": [{"instrument-type": "Equity Option", "symbol": "SPXW  240104C04700000", "quantity": 1,
                              "action": "Sell to Open"}]}
    future = tasty.order_json(request("a2", "tt", "ES", "buy", 3, order_type=OrderType.STOP, stop="5000.25",
                                      instrument="/ESZ5"), D(-3))
    assert future["legs"][0] == {"instrument-type": "Future", "symbol": "/ESZ5", "quantity": 3, "action": "Buy"}
    assert future["stop-trigger"] == "5000.25" and "price" not in future
    assert tasty.order_json(request("a3", "tt", "AAPL", "buy", 5), D(-5))["legs"][0]["action"] == "Buy to Close"
    assert not tasty.needs_position(request("a2", "tt", "ES", instrument="/ESZ5"))


def test_tastytrade_listed_order_and_positions():
    raw = {"id": 54758826, "account-number": "5WT00001", "time-in-force": "GTC", "order-type": "Limit", "size": 4,
           "price": "3.0", "price-effect": "Debit", "status": "Live", "external-identifier": "a9-M-tt",
           "received-at": "2024-01-04T15:30:00.123+00:00",
           "legs": [{"instrument-type": "Equity Option", "symbol": "QQQ 191115C00187000", "quantity": 4,
                     "remaining-quantity": 1, "action": "Buy to Close",
                     "fills": [{"fill-id": "F1", "quantity": "3", "fill-price": "2.95",
                                "filled-at": "2024-01-04T15:31:00.000Z"}]}]}
    snap = tasty.parse_order(raw)
    assert (snap.client_order_id, snap.side, snap.qty, snap.filled_qty, snap.status) == (
        "a9-M-tt", Side.BUY, 4, 3, S.PARTIALLY_FILLED)
    assert [(e.fill_id, e.qty, e.price) for e in snap.executions] == [("F1", 3, D("2.95"))]
    assert set(tasty.MAP_ORDER_STATUS) >= {"Received", "Routed", "In Flight", "Live", "Cancel Requested", "Filled",
                                          "Cancelled", "Expired", "Rejected", "Removed", "Partially Removed"}
    rejected = tasty.parse_order({**raw, "status": "Rejected", "reject-reason": "Insufficient buying power"})
    assert rejected.status is S.REJECTED and rejected.reason == "Insufficient buying power"
    positions = tasty.parse_positions({"data": {"items": [
        {"symbol": "/MESZ5", "quantity": "2", "quantity-direction": "Short", "average-open-price": "5001.25"},
        {"symbol": "AAPL", "quantity": "10", "quantity-direction": "Long", "average-open-price": "150.1"}]}})
    assert [(p.symbol, p.qty) for p in positions] == [("/MESZ5", -2), ("AAPL", 10)]
    assert tasty.placed_order_id({"data": {"order": {"id": 7}}}) == "7"


def test_error_bodies_become_the_brokers_words():
    assert error_text({"error": {"code": "preflight_check_failure", "message": "One or more preflight checks failed",
                                 "errors": [{"code": "x", "message": "Order exceeds buying power"}]}}, "?") == \
        "One or more preflight checks failed; Order exceeds buying power"
    assert error_text({"message": "A validation error occurred", "errors": ["Price must be positive"]}, "?") == \
        "A validation error occurred; Price must be positive"
    assert error_text({"errors": [{"status": 400, "title": "Bad Request", "detail": "Missing header"}]}, "?") == \
        "Missing header"
    assert error_text({"error": "invalid_grant", "error_description": "Grant is invalid"}, "?") == "Grant is invalid"
    assert error_text(None, "HTTP 502") == "HTTP 502"


def test_broker_destination_config():
    from station.domain.config_check import check_document
    from station.domain.validation import ConfigError

    plan = check_document({"destinations": {
        "schwab": {"type": "schwab", "account": "12345678", "callback_url": "https://127.0.0.1:8182/"},
        "tt": {"type": "tastytrade", "sandbox": True, "poll_s": 2}}})
    schwab_params = plan["destinations"]["schwab"].params
    assert schwab_params == {"account": "12345678", "base_url": "https://api.schwabapi.com",
                             "callback_url": "https://127.0.0.1:8182/", "poll_s": 1}
    assert plan["destinations"]["tt"].params["poll_s"] == 2
    with pytest.raises(ConfigError) as caught:
        check_document({"destinations": {"s": {"type": "schwab", "base_url": "api.schwabapi.com", "poll_s": 0}}})
    assert set(caught.value.errors) == {"destinations.s.base_url", "destinations.s.poll_s"}
    with pytest.raises(ConfigError, match="station secret set schwab-app-secret"):
        check_document({"destinations": {"s": {"type": "schwab", "app_secret": "x"}}})


# ---- brackets --------------------------------------------------------------------------------------------

def _schwab_leg(instruction, qty=400.0):
    return {"orderLegType": "EQUITY", "legId": 1, "instruction": instruction, "positionEffect": "CLOSING",
            "quantity": qty, "instrument": {"assetType": "EQUITY", "cusip": "Q4982L109", "symbol": "IREN"}}


def test_schwab_lists_a_filled_trigger_with_its_working_oco_nested_and_each_exit_is_an_order():
    """The shape Schwab answers for a 1st-trigger-OCO whose entry filled (as traders have posted it)."""
    listed = [{
        "session": "NORMAL", "duration": "DAY", "orderType": "LIMIT", "quantity": 400.0, "filledQuantity": 400.0,
        "remainingQuantity": 0.0, "price": 44.3, "orderLegCollection": [_schwab_leg("BUY")],
        "orderStrategyType": "TRIGGER", "orderId": 1005719933423, "status": "FILLED",
        "enteredTime": "2026-03-17T13:34:53+0000", "closeTime": "2026-03-17T13:34:53+0000",
        "orderActivityCollection": [{"activityType": "EXECUTION", "activityId": 114489924721, "executionType": "FILL",
                                     "quantity": 400.0, "executionLegs": [{"legId": 1, "quantity": 400.0,
                                                                           "price": 44.27,
                                                                           "time": "2026-03-17T13:34:53+0000"}]}],
        "childOrderStrategies": [{
            "orderStrategyType": "OCO", "orderId": 1005719933424, "cancelable": True, "editable": False,
            "status": "WORKING", "enteredTime": "2026-03-17T13:34:53+0000",
            "childOrderStrategies": [
                {"session": "NORMAL", "duration": "GOOD_TILL_CANCEL", "orderType": "STOP", "quantity": 400.0,
                 "filledQuantity": 0.0, "remainingQuantity": 400.0, "stopPrice": 40.0, "stopType": "STANDARD",
                 "orderLegCollection": [_schwab_leg("SELL")], "orderStrategyType": "SINGLE",
                 "orderId": 1005719933426, "status": "WORKING", "enteredTime": "2026-03-17T13:34:53+0000"},
                {"session": "NORMAL", "duration": "GOOD_TILL_CANCEL", "orderType": "LIMIT", "quantity": 400.0,
                 "filledQuantity": 0.0, "remainingQuantity": 400.0, "price": 47.88,
                 "orderLegCollection": [_schwab_leg("SELL")], "orderStrategyType": "SINGLE",
                 "orderId": 1005719933425, "status": "WORKING", "enteredTime": "2026-03-17T13:34:53+0000"}]}]}]
    entry, stop, target = schwab.parse_orders(listed)
    assert (entry.broker_order_id, entry.status, entry.filled_qty, entry.parent_broker_id) == \
        ("1005719933423", S.FILLED, D(400), None)
    assert (stop.broker_order_id, stop.side, stop.order_type, stop.stop_price, stop.status, stop.parent_broker_id) == \
        ("1005719933426", Side.SELL, OrderType.STOP, D("40.0"), S.WORKING, "1005719933423")
    assert (target.order_type, target.limit_price, target.parent_broker_id) == (OrderType.LIMIT, D("47.88"),
                                                                                "1005719933423")
    # an exit Schwab also lists on its own (once it traded) is counted once, as the one nested in its entry
    again = schwab.parse_orders([*listed, {**listed[0]["childOrderStrategies"][0]["childOrderStrategies"][0]}])
    assert [s.broker_order_id for s in again] == [s.broker_order_id for s in (entry, stop, target)]
    assert again[1].parent_broker_id == "1005719933423"


def test_schwab_bracket_bodies_and_what_they_cannot_carry():
    entry = request("e", "schwab", "AAPL", "buy", 10)
    stop = request("e-sl", "schwab", "AAPL", "sell", 10, order_type=OrderType.STOP, stop="95")
    body = schwab.bracket_json(entry, (stop,), D(0))
    assert body["orderStrategyType"] == "TRIGGER" and body["childOrderStrategies"][0]["orderStrategyType"] == "SINGLE"
    assert body["childOrderStrategies"][0]["orderLegCollection"][0]["instruction"] == "SELL"
    with pytest.raises(BrokerError, match="not 3"):
        schwab.bracket_json(entry, (stop, stop, stop), D(0))


def test_tastytrade_otoco_answer_names_each_order_by_its_client_order_id():
    entry = request("e", "tasty", "AAPL", "buy", 10)
    stop = request("e-sl", "tasty", "AAPL", "sell", 10, order_type=OrderType.STOP, stop="95")
    target = request("e-tp", "tasty", "AAPL", "sell", 10, order_type=OrderType.LIMIT, limit="120")
    answer = {"data": {"complex-order": {
        "id": 2000010530, "type": "OTOCO",
        "trigger-order": {"id": 771040, "complex-order-tag": "OTOCO::trigger-order", "external-identifier": "e"},
        "orders": [{"id": 771041, "complex-order-tag": "OTOCO::order"},  # no identifier: in the order sent
                   {"id": 771042, "complex-order-tag": "OTOCO::order", "external-identifier": "e-tp"}]}}}
    assert tasty.placed_bracket_ids(answer, entry, (stop, target)) == {"e": "771040", "e-sl": "771041",
                                                                       "e-tp": "771042"}
    listed = {"data": {"items": [{"id": 771040, "complex-order-id": 2000010530,
                                  "complex-order-tag": "OTOCO::trigger-order"},
                                 {"id": 771041, "complex-order-id": 2000010530, "complex-order-tag": "OTOCO::order"},
                                 {"id": 5, "legs": []}]}}
    assert tasty.complex_triggers(listed) == {"771040": "2000010530"}
    with pytest.raises(BrokerError, match="OTOCO, a stop with a target; e has 1 exit"):
        tasty.bracket_json(entry, (stop,), D(0))
    short = tasty.bracket_json(request("s", "tasty", "AAPL", "sell", 5), (
        request("s-tp", "tasty", "AAPL", "buy", 5, order_type=OrderType.LIMIT, limit="90"),
        request("s-sl", "tasty", "AAPL", "buy", 5, order_type=OrderType.STOP, stop="110")), D(0))
    assert [o["legs"][0]["action"] for o in (short["trigger-order"], *short["orders"])] == \
        ["Sell to Open", "Buy to Close", "Buy to Close"]
