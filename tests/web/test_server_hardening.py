"""The receiver against what a careless or hostile sender does: every answer JSON, no 5xx, bounded connections."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from aiohttp import web

from station.web import server as server_module
from station.web.server import Receiver
from support.wait import until


async def raw(port: int, data: bytes, timeout: float = 5.0) -> tuple[int, dict, bytes]:
    """Send raw bytes, read to the end; (status, headers, body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), timeout)
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


@pytest.fixture
def logged():
    """Every record of aiohttp's loggers and ours, at DEBUG, whatever an earlier test's `setup_logging` did to
    them (it stops aiohttp's records from propagating to the root logger, which caplog listens on)."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = records.append
    loggers = [logging.getLogger(name) for name in ("aiohttp", "station")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    yield records
    for logger, level in zip(loggers, levels):
        logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.fixture
async def receiver():
    receiver = Receiver("127.0.0.1", 0)

    async def echo(request: web.Request) -> web.Response:
        return web.json_response({"bytes": len(await request.read())})

    async def early(request: web.Request) -> web.Response:  # answers without reading the body, as a 401 or 403 does
        return web.json_response({"status": "error", "message": "no"}, status=403)

    receiver.app.router.add_post("/echo", echo)
    receiver.app.router.add_post("/early", early)
    await receiver.start()
    yield receiver
    await receiver.stop()


@pytest.mark.parametrize("request_bytes, status", [
    (b"GARBAGE\r\n\r\n", 400),
    (b"GET /health HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", 400),
    (b"GET /health HTTP/9.9\r\nHost: x\r\n\r\n", 400),
    (b"GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404),
    (b"PUT /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405),
    (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
     400),
    (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\nConnection: close\r\n\r\n" + b"x" * 70000, 413),
    (b"POST /echo HTTP/1.1\r\nHost: x\r\nExpect: bogus\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}", 417),
])
async def test_every_refusal_is_json_never_5xx(receiver, logged, request_bytes, status):
    got, headers, body = await raw(receiver.port, request_bytes)
    assert got == status
    assert headers["content-type"].startswith("application/json")
    answer = json.loads(body)
    assert answer["status"] == "error" and answer["message"]
    assert not [r for r in logged if r.exc_info and r.levelno >= logging.ERROR]  # no traceback for a sender's bytes


async def test_an_undecodable_body_after_an_early_answer_leaves_no_traceback(receiver, logged):
    got, _, body = await raw(receiver.port, b"POST /early HTTP/1.1\r\nHost: x\r\nContent-Encoding: deflate\r\n"
                                            b"Content-Length: 5\r\n\r\nhello")
    assert got == 403 and json.loads(body)["status"] == "error"
    await until(lambda: any("unreadable rest" in r.getMessage() for r in logged), what="the debug line")
    assert not [r for r in logged if r.exc_info and r.levelno >= logging.ERROR]


async def test_half_sent_headers_are_closed_after_the_timeout(monkeypatch):
    monkeypatch.setattr(server_module, "CONNECTION_TIMEOUT_S", 0.3)
    receiver = Receiver("127.0.0.1", 0)
    await receiver.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", receiver.port)
        writer.write(b"POST /webhook HTTP/1.1\r\nHost: x\r\n")  # and never the rest
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), 5) == b""  # closed by the server
        writer.close()
    finally:
        await receiver.stop()


async def test_a_full_server_closes_the_connections_idle_longest_and_keeps_answering(monkeypatch, caplog):
    monkeypatch.setattr(server_module, "MAX_CONNECTIONS", 20)
    receiver = Receiver("127.0.0.1", 0)
    await receiver.start()
    held = []
    try:
        for _ in range(60):  # three times the ceiling, each stuck in its headers
            reader, writer = await asyncio.open_connection("127.0.0.1", receiver.port)
            writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\n")
            held.append((reader, writer))
        await until(lambda: len(receiver._runner.server.connections) <= 21, what="idle connections closed")
        status, _, body = await raw(receiver.port, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert status == 200 and json.loads(body)["status"] == "ok"
        warnings = [r for r in caplog.records if "connections open" in r.getMessage()]
        assert len(warnings) == 1  # one line a minute, not one per connection
    finally:
        for _, writer in held:
            writer.close()
        await receiver.stop()


def test_a_flood_of_one_log_record_is_cut_and_counted(tmp_path):
    from station.logs import RateLimit, SecretMask

    limit = RateLimit(burst=5, period_s=3600)
    records = [logging.LogRecord("station.web", logging.ERROR, __file__, 1, "accept failed %d", (i,), None)
               for i in range(50)]
    passed = [r for r in records if limit.filter(r)]
    assert len(passed) == 5
    limit._kinds[("station.web", logging.ERROR, "accept failed %d")][0] -= 3600  # a period later
    late = logging.LogRecord("station.web", logging.ERROR, __file__, 1, "accept failed %d", (99,), None)
    assert limit.filter(late) and "45 more like it dropped" in late.getMessage()
    SecretMask.register("pässwörd-42")
    for leaked in ("b'p\\xc3\\xa4ssw\\xc3\\xb6rd-42'", "p%C3%A4ssw%C3%B6rd-42", "p\\u00e4ssw\\u00f6rd-42"):
        record = logging.LogRecord("station.web", logging.INFO, __file__, 1, "bad request %s", (leaked,), None)
        SecretMask().filter(record)
        assert "***" in record.getMessage() and "42" not in record.getMessage(), leaked
