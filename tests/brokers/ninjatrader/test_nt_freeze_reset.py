"""Issue 14's finding, from outside: a headless Station sends alerts to a NinjaTrader port whose listener stops
reading for 10 s and then resets (killed with bytes unread); none of the lines is lost once it listens again.

The listener is a plain socket in a thread, as any receiver is: it reads lines, stops reading for 10 s while
alerts keep coming, closes with SO_LINGER 0 (a reset, whatever its buffer holds), and accepts Station's next
connection. It never answers (a trader's own strategy): what saves the lines is the rule for a receiver that
never acknowledges, with the default window.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time

from support.contract import DIALECT_1, start_headless
from support.launch import free_port
from support.wait import wait_until

FREEZE_S = 10.0


class FreezingListener:
    """Reads Station's lines; `freeze()` stops reading, `reset()` kills the connection unread; it keeps listening."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.ids: list[str] = []  # first arrival of each id, in order
        self.raw = 0
        self.connections = 0
        self.reading = threading.Event()
        self.reading.set()
        self._lock = threading.Lock()
        self._conn: socket.socket | None = None
        self._server = socket.create_server(("127.0.0.1", port))
        self._server.settimeout(0.1)
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def freeze(self) -> None:
        self.reading.clear()

    def reset(self) -> None:
        conn, self._conn = self._conn, None
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()
        self.reading.set()

    def close(self) -> None:
        self._stop = True
        self._server.close()

    def _accept(self) -> None:
        while not self._stop:
            try:
                conn, _ = self._server.accept()
            except (socket.timeout, OSError):
                continue
            self.connections += 1
            self._conn = conn
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        buffer = b""
        while True:
            self.reading.wait()
            if conn is not self._conn:
                return  # reset meanwhile: what it had not read is gone with it
            conn.settimeout(0.05)
            try:
                chunk = conn.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            with self._lock:
                for line in lines:
                    self.raw += 1
                    line_id = json.loads(line)["id"]
                    if line_id not in self.ids:
                        self.ids.append(line_id)


def test_a_receiver_that_froze_for_10_s_and_reset_loses_no_line(tmp_path):
    port = free_port()
    listener = FreezingListener(port)
    station = start_headless(tmp_path, {
        "strategies": {"Frozen": {"accounts": {}, "tickers": {"NQ": {"ports": [port]}}}},
        "settings": {"webhook": {"rate_limits": [], "failed_passphrase_limits": []}},
    })
    try:
        wait_until(lambda: listener.connections == 1, 10, what="Station connected")
        sent: list[int] = []

        def post(n: int) -> None:
            status, answer, _ = station.post_alert({**DIALECT_1, "ticker": "NQ", "trade_id": f"f{n}"})
            assert status == 200, answer
            sent.append(answer["alert_id"])

        for n in range(60):  # read as they come
            post(n)
        wait_until(lambda: len(listener.ids) == 60, 10, what="the first 60 lines read")
        listener.freeze()
        frozen_at, n = time.monotonic(), 60
        while time.monotonic() - frozen_at < FREEZE_S:  # alerts keep coming while it hangs (about 30 a second)
            post(n)
            n += 1
            time.sleep(1 / 30)  # the traffic's shape, not a wait for anything
        listener.reset()
        wait_until(lambda: listener.connections == 2, 15, what="Station reconnected")
        wait_until(lambda: len(listener.ids) == len(sent), 20,
                   what=f"all {len(sent)} lines at the receiver (it had {len(listener.ids)})")
        lines_by_alert = {int(line_id.split("-", 1)[0][1:]) for line_id in listener.ids}
        assert lines_by_alert == set(sent), "0 lines lost"
        assert listener.ids == sorted(listener.ids, key=lambda i: int(i.split("-", 1)[0][1:])), "in order"
        orders = wait_until(lambda: (o := station.get("/api/orders?limit=1000")["orders"])
                            and {x["status"] for x in o} == {"submitted"} and o, 10, what="every order submitted")
        assert {o["alert_id"] for o in orders} == set(sent)
    finally:
        station.kill()
        listener.close()
