"""Whatever a sender sends — random bytes, deep or huge JSON, wrong types, odd unicode, raw HTTP that
is not HTTP — the answer is never a 5xx and always JSON, the process stays up, and nothing bad reaches
the journal."""

import http.client
import json
import math
import socket

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.launch import free_port
from support.webhook import PASSPHRASE, Headless, journal, prepare_headless

pytestmark = pytest.mark.slow
FIELDS = ["ticker", "symbol", "action", "order_action", "qty", "quantity", "order_contracts", "price", "order_price",
          "time", "timestamp", "current_position", "mar_pos", "pre_mar_pos", "mar_pos_size", "trade_id",
          "order_comment", "strategy", "passphrase"]
EXAMPLES = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    env = {"PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring", "XDG_DATA_HOME": str(root / "xdg")}
    data_dir = root / "data"
    prepare_headless(data_dir, env, {"rate_limits": [], "failed_passphrase_limits": []})
    station = Headless(data_dir, env, free_port())
    station.wait_ready()
    connection = http.client.HTTPConnection("127.0.0.1", station.port, timeout=10)
    yield station, connection
    connection.close()
    station.kill()
    assert "Traceback" not in station.output()


def send(server, body: bytes, content_type: str = "application/json", path: str = "/webhook") -> tuple[int, dict]:
    station, connection = server
    connection.request("POST", path, body=body, headers={"Content-Type": content_type})
    response = connection.getresponse()
    raw = response.read()
    assert response.status < 500, raw
    assert response.getheader("Content-Type", "").startswith("application/json"), raw
    answer = json.loads(raw)
    assert answer["status"] in ("error", "success", "skipped")
    return response.status, answer


def not_an_action(value) -> bool:
    return not (isinstance(value, str) and value.strip().lower() in ("buy", "sell"))


json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                      st.text(max_size=30), st.sampled_from(["buy", "SELL", "long", "NaN", "1e400", "-0", "", " 5 "]))
json_value = st.recursive(json_leaf, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                          max_leaves=12)


@EXAMPLES
@given(body=st.binary(max_size=3000), content_type=st.sampled_from(["application/json", "text/plain", "", "multipart/form-data", "application/x-www-form-urlencoded"]))
def test_random_bytes(server, body, content_type):
    status, _ = send(server, body, content_type)
    assert status in (400, 401)


@EXAMPLES
@given(fields=st.dictionaries(st.sampled_from(FIELDS), json_value, max_size=10), with_passphrase=st.booleans(),
       path=st.sampled_from(["/webhook", "/webhook/MomentumStrategy", "/webhook/%FF", "/webhook/..", "/webhook/x%00"]))
def test_random_fields_never_make_a_row_without_a_valid_action(server, fields, with_passphrase, path):
    if with_passphrase:
        fields["passphrase"] = PASSPHRASE
    for name in ("action", "order_action"):
        if name in fields and not not_an_action(fields[name]):
            fields[name] = "hold"
    status, answer = send(server, json.dumps(fields).encode(), path=path)
    assert status in (400, 401, 404), answer


@EXAMPLES
@given(depth=st.integers(1, 20000), kind=st.sampled_from(["[", '{"a":']))
def test_deep_json(server, depth, kind):
    closing = "]" if kind == "[" else "}"
    body = (kind * depth + "1" + closing * depth).encode()
    status, _ = send(server, body)
    assert status in (400, 401, 413)


@EXAMPLES
@given(number=st.one_of(st.integers(min_value=10**15, max_value=10**4000).map(str),
                        st.floats(allow_nan=True, allow_infinity=True).map(lambda f: json.dumps(f)),
                        st.just("1e99999"), st.just("-0"), st.just("0.000000000000000000001")),
       field=st.sampled_from(["qty", "price", "quantity", "order_contracts", "mar_pos_size", "other"]))
def test_huge_and_odd_numbers(server, number, field):
    body = ('{"passphrase": %s, "ticker": "AAPL", "action": "sell", "%s": %s}' % (json.dumps(PASSPHRASE), field, number)).encode()
    status, answer = send(server, body)
    if status == 200:  # a sane value for that field: journaled
        value = float(number)
        assert math.isfinite(value)
        if field in ("qty", "quantity", "order_contracts"):
            assert 1e-8 <= value <= 1e9
        elif field != "other":
            assert abs(value) <= 1e9 and (field == "price" or value >= 0)
    else:
        assert status == 400 and field in answer["errors"], answer


@EXAMPLES
@given(ticker=st.text(min_size=1, max_size=40), note=st.text(max_size=40))
def test_unicode_tickers_and_notes(server, ticker, note):
    body = json.dumps({"passphrase": PASSPHRASE, "ticker": ticker, "action": "hold", "note": note}).encode()
    status, answer = send(server, body)
    assert status == 400 and "action" in answer["errors"]


METHODS = [b"POST", b"GET", b"PUT", b"DELETE", b"OPTIONS", b"HEAD", b"PRI", b"P\x00ST", b"post", b"", b"POST POST"]
PATHS = [b"/webhook", b"/webhook/MomentumStrategy", b"/api/orders", b"/socket.io/?EIO=4", b"/", b"*", b"//",
         b"/webhook?passphrase=%ZZ", b"http://evil.example/webhook", b"/\xff\xfe", b"/" + b"a" * 9000]
VERSIONS = [b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2.0", b"HTTP/9.9", b"HTTP/1.1 extra", b"", b"http/1.1"]
header_name = st.one_of(st.sampled_from([b"Content-Length", b"Transfer-Encoding", b"Content-Type", b"Host", b"Origin",
                                         b"Content-Encoding", b"Expect", b"Connection", b"X-Forwarded-For"]),
                        st.binary(max_size=12))
header_value = st.one_of(st.sampled_from([b"-1", b"99999999999999999999", b"chunked", b"gzip", b"chunked, gzip",
                                          b"100-continue", b"application/json", b"evil.example", b"0", b"12"]),
                         st.binary(max_size=40))


ANSWERED: list[bool] = []  # whether each raw request got an answer


def raw_exchange(port: int, request: bytes) -> bytes:
    """Send `request` on a socket of its own and read Station's first answer (a request it is still waiting
    to see the end of, such as a body shorter than its Content-Length, gets none: b"")."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        conn.settimeout(1.0)  # nothing within a second: Station waits for the rest of the request
        answer = b""
        try:
            while chunk := conn.recv(65536):
                answer += chunk
                head, done, body = answer.partition(b"\r\n\r\n")
                length = next((int(h.split(b":", 1)[1]) for h in head.split(b"\r\n")
                               if h.lower().startswith(b"content-length:")), None)
                if done and length is not None and len(body) >= length:
                    break
        except TimeoutError:
            pass
    return answer


@EXAMPLES
@given(method=st.sampled_from(METHODS), path=st.sampled_from(PATHS) | st.binary(max_size=30),
       version=st.sampled_from(VERSIONS), headers=st.lists(st.tuples(header_name, header_value), max_size=6),
       separator=st.sampled_from([b"\r\n", b"\n", b"\r"]), body=st.binary(max_size=200))
def test_raw_http_that_is_not_http_gets_json_and_never_a_5xx(server, method, path, version, headers, separator, body):
    station, _ = server
    lines = [b" ".join(part for part in (method, path, version) if part)] + [n + b": " + v for n, v in headers]
    answer = raw_exchange(station.port, separator.join(lines) + b"\r\n\r\n" + body)
    ANSWERED.append(bool(answer))
    if answer:
        head = answer.partition(b"\r\n\r\n")[0]
        status = int(head.split(b" ")[1])
        assert status < 500, answer[:600]
        content_type = next((h.split(b":", 1)[1].strip() for h in head.split(b"\r\n")
                             if h.lower().startswith(b"content-type:")), b"")
        if status >= 400 and method != b"HEAD":  # a refusal; a page the dashboard serves may be HTML
            assert content_type.startswith(b"application/json"), answer[:600]


def test_most_raw_requests_were_answered():
    assert ANSWERED and sum(ANSWERED) >= len(ANSWERED) // 2, f"{sum(ANSWERED)} of {len(ANSWERED)} answered"


def test_after_the_fuzz_the_journal_holds_only_valid_alerts(server):
    station, _ = server
    for row in journal(station.data_dir):
        assert row["action"] in ("buy", "sell") and row["ticker"]
        assert PASSPHRASE not in row["raw"]
        json.loads(row["raw"])  # strict JSON: no NaN/Infinity stored
