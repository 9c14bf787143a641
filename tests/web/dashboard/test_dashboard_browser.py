"""CONTRACT.md "Web dashboard" in a real headless Chromium against a `station --headless` subprocess:
the page and its own files, the token prompt (and nothing else without a valid token), live tables
through Socket.IO, Flatten All and the kill switch behind a confirmation, a phone-sized layout."""

from __future__ import annotations

import re
import time

import pytest

from support.browser import chromium
from support.contract import TOKEN, cli_ok, request, start_headless
from support.wait import wait_until

CONFIG = {"destinations": {"paper": {"type": "paper"}},
          "strategies": {"Desk": {"tickers": {"ES": {"point_value": 50, "destinations": {"paper": {"qty": 1}}},
                                              "NQ": {"destinations": {"paper": {"qty": 2}}}}}},
          "settings": {"webhook": {"rate_limits": []}}}


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    station = start_headless(tmp_path_factory.mktemp("dashboard"), CONFIG)
    try:
        yield station
    finally:
        station.kill()


@pytest.fixture
def browser(tmp_path):
    driver = chromium(tmp_path / "profile")
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()


def visible(browser, element_id: str) -> bool:
    return browser.find_element("id", element_id).is_displayed()


def rows(browser, table: str) -> list[list[str]]:
    return browser.execute_script(
        "return [...document.querySelectorAll('#' + arguments[0] + ' tbody tr')]"
        ".map(tr => [...tr.cells].map(td => td.textContent))", table)


def sign_in(browser, desk, token: str = TOKEN) -> None:
    browser.get(desk.url + "/")
    wait_until(lambda: visible(browser, "token"), 10, what="the token prompt")
    browser.find_element("id", "token").send_keys(token)
    browser.find_element("id", "sign-in").click()


def test_the_page_ships_its_own_files_and_fetches_nothing_from_elsewhere(desk):
    status, page, headers = request(desk.port, "GET", "/")
    assert status == 200 and headers["content-type"].startswith("text/html") and "<title>Station</title>" in page
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all(s.startswith("/dashboard/") for s in sources), sources
    for source in sources:
        status, body, _ = request(desk.port, "GET", source)
        assert status == 200 and body, source
    assert "connect-src 'self'" in headers["content-security-policy"]
    status, license_text, _ = request(desk.port, "GET", "/dashboard/vendor/socket.io-client.LICENSE")
    assert status == 200 and "MIT License" in license_text
    status, body, _ = request(desk.port, "GET", "/dashboard/../secrets")
    assert status == 404 and body["status"] == "error"
    assert request(desk.port, "GET", "/", headers={"Host": "evil.example"})[0] == 403


def test_a_wrong_token_shows_the_prompt_and_nothing_else(desk, browser):
    sign_in(browser, desk, "not-the-token")
    wait_until(lambda: visible(browser, "login-error"), 10, what="the refusal")
    assert "not this Station's API token" in browser.find_element("id", "login-error").text
    assert not visible(browser, "desk")
    assert browser.execute_script("return document.body.innerText").count("\n") < 10  # the prompt only
    assert all(rows(browser, t) == [] for t in ("alerts", "orders", "positions"))


def test_live_tables_show_an_alert_within_a_second_and_ask_before_flattening(desk, browser):
    sign_in(browser, desk)
    wait_until(lambda: visible(browser, "desk"), 10, what="the dashboard after the token")
    wait_until(lambda: browser.find_element("id", "link").text == "live", 10, what="Socket.IO joined")
    assert browser.execute_script("return localStorage.getItem('station-api-token')") == TOKEN

    status, answer, _ = desk.post_alert({"ticker": "ES", "action": "buy", "qty": 1, "price": 5000,
                                         "trade_id": "browser-1"})
    sent = time.monotonic()
    assert status == 200
    alert_id = str(answer["alert_id"])
    wait_until(lambda: any(r[1] == alert_id for r in rows(browser, "alerts")), 1.0, interval=0.02,
               what="the alert on the page within a second")
    assert time.monotonic() - sent < 1.0
    wait_until(lambda: any(r[1] == alert_id and r[7] == "routed" for r in rows(browser, "alerts")), 5)
    wait_until(lambda: any(r[4] == "ES" and r[8] == "filled" for r in rows(browser, "orders")), 5, what="the order")
    wait_until(lambda: any(r[2] == "ES" and r[3] == "1" for r in rows(browser, "positions")), 5, what="the position")
    wait_until(lambda: any(r[0] == "Desk" for r in rows(browser, "pnl")), 5, what="PnL by strategy")

    browser.find_element("id", "flatten").click()
    wait_until(lambda: browser.find_element("id", "confirm").get_attribute("open") is not None, 5,
               what="Flatten All asks first")
    assert "Flatten every position" in browser.find_element("id", "confirm-text").text
    browser.find_element("id", "confirm-no").click()
    wait_until(lambda: browser.find_element("id", "confirm").get_attribute("open") is None, 5)
    assert desk.get("/api/positions?include_flat=false")["positions"], "Cancel flattened nothing"
    browser.find_element("id", "flatten").click()
    wait_until(lambda: browser.find_element("id", "confirm").get_attribute("open") is not None, 5)
    browser.find_element("id", "confirm-yes").click()
    wait_until(lambda: desk.get("/api/positions?include_flat=false")["positions"] == [], 5, what="flattened")
    wait_until(lambda: rows(browser, "positions") == [], 5, what="the page shows it flat")

    browser.find_element("id", "kill").click()
    wait_until(lambda: browser.find_element("id", "confirm").get_attribute("open") is not None, 5,
               what="the kill switch asks first")
    assert desk.get("/api/kill-switch")["engaged"] is False
    browser.find_element("id", "confirm-yes").click()
    wait_until(lambda: desk.get("/api/kill-switch")["engaged"] is True, 5, what="engaged from the page")
    wait_until(lambda: "ON" in browser.find_element("id", "kill-state").text, 5)
    browser.find_element("id", "kill").click()
    wait_until(lambda: browser.find_element("id", "confirm").get_attribute("open") is not None, 5)
    browser.find_element("id", "confirm-yes").click()
    wait_until(lambda: desk.get("/api/kill-switch")["engaged"] is False, 5, what="re-armed from the page")


def test_script_trades_and_market_data_arrive_live_and_the_layout_fits_a_phone(desk, browser):
    sign_in(browser, desk)
    wait_until(lambda: browser.find_element("id", "link").text == "live", 10, what="Socket.IO joined")
    upload = {"trades_csv": "timestamp,symbol,side,quantity,price,profit_loss,strategy\n"
                            "2024-01-04 10:30:00,AAPL,buy,10,150.25,12.5,Scalp\n",
              "market_data_csv": "timestamp,symbol,open,high,low,close,volume,rsi,signal_strength\n"
                                 "2024-01-04T10:31:00,MSFT,370,371,369.5,370.5,1200,55.5,0.7\n"}
    assert desk.api("POST", "/api/trading-data", upload)[0] == 200
    wait_until(lambda: any(r[1] == "AAPL" and r[4] == "150.25" for r in rows(browser, "script-trades")), 5)
    wait_until(lambda: any(r[1] == "MSFT" and r[5] == "370.5" for r in rows(browser, "script-bars")), 5)
    assert rows(browser, "script-trades")[0][0].endswith("10:30:00")  # shown in US/Eastern, as sent
    width, inner = browser.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, "the page itself never scrolls sideways on a phone; wide tables scroll in their box"
    background = browser.execute_script("return getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(30, 34, 39)"  # the app's dark background


def test_a_token_that_stops_being_valid_takes_the_page_back_to_the_prompt(tmp_path, browser):
    station = start_headless(tmp_path, CONFIG)
    try:
        sign_in(browser, station)
        wait_until(lambda: visible(browser, "desk"), 10, what="the dashboard after the token")
        status, answer, _ = station.post_alert({"ticker": "ES", "action": "buy", "qty": 1, "price": 5000,
                                                "trade_id": "revoked-1"})
        assert status == 200
        wait_until(lambda: rows(browser, "alerts"), 5, what="the alert on the page")
        cli_ok(station.env, "secret", "set", "api-token", input="a-new-token\n")  # replaced by its owner
        # the running Station honours the new token within 5 s; the page's next call (at most 5 s later) hears 401
        wait_until(lambda: visible(browser, "login"), 15, what="the prompt again")
        assert not visible(browser, "desk") and rows(browser, "alerts") == []
        assert "no longer valid" in browser.find_element("id", "login-error").text
        assert browser.execute_script("return localStorage.getItem('station-api-token')") is None
    finally:
        station.kill()
