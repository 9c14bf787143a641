"""Black-box helpers for the contract tests: Station only as an outsider sees it.

`station` subprocesses with a file keyring in a temp dir, plain HTTP with
http.client, and threaded TCP listeners standing in for NinjaTrader strategies.
Nothing here imports `station`.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from support.launch import KEYRING_BACKEND, free_port, run_cli, station_cmd, wait_http
from support.wait import wait_until

PASSPHRASE = "contract passphrase"
TOKEN = "contract-api-token"
EXAMPLE_PORTS = {"strategies": {"MomentumStrategy": {"accounts": {},
                 "tickers": {"AAPL": {"ports": [5000]}, "TSLA": {"ports": [5001, 5002]}}}}}
EXAMPLE_DESTINATIONS = {"destinations": {
    "paper": {"type": "paper"},
    "nt-sim": {"type": "ninjatrader-ati", "account": "Sim101",
               "incoming": "C:/Users/me/Documents/NinjaTrader 8/incoming",
               "outgoing": "C:/Users/me/Documents/NinjaTrader 8/outgoing"},
    "ib": {"type": "ib", "host": "127.0.0.1", "port": 7497, "client_id": 7, "account": "DU123456"}},
    "strategies": {"MomentumStrategy": {"accounts": {}, "tickers": {
        "MES": {"ports": [5001],
                "destinations": {"paper": {"qty": 2}, "nt-sim": {"qty": 1, "instrument": "MES 12-26"},
                                 "ib": {"multiplier": 1}}}}}}}
DIALECT_1 = {"ticker": "AAPL", "trade_id": "Open_Long_ID_123", "action": "buy", "current_position": "short",
             "qty": 10, "price": 150.25, "time": "2024-01-04T15:30:00Z"}
DIALECT_2 = {"ticker": "AAPL", "order_action": "buy", "order_contracts": "100", "order_price": "400.2",
             "mar_pos": "long", "mar_pos_size": "100", "pre_mar_pos": "flat", "pre_mar_pos_size": "0",
             "order_comment": "Enter Long", "order_status": "waiting"}
DIALECT_3 = {"symbol": "ES", "action": "BUY", "quantity": 1, "price": 4500.50, "timestamp": "2023-05-01T12:34:56Z"}
LINE_FIELDS = ["id", "alert_id", "strategy", "ticker", "action", "qty", "price", "position", "target_position",
               "trade_id", "time", "order_type", "limit_price", "stop_price", "tif", "stop_loss", "take_profit",
               "trailing_stop"]


# what a port line carries when the alert gives no order instructions
NO_INSTRUCTIONS = dict.fromkeys(LINE_FIELDS[11:])


def keyring_env(folder: Path) -> dict[str, str]:
    """An explicit keyrings.alt file keyring under `folder`, as a headless server would use."""
    return {"PYTHON_KEYRING_BACKEND": KEYRING_BACKEND, "XDG_DATA_HOME": str(folder / "xdg-data")}


def cli(env: dict[str, str], *args: str, input: str | None = None) -> subprocess.CompletedProcess:
    """`station ARGS` with this keyring; the result (code, stdout, stderr)."""
    return run_cli(*args, env=env, input=input)


def cli_ok(env: dict[str, str], *args: str, input: str | None = None) -> str:
    result = cli(env, *args, input=input)
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result.stdout


def import_config(env: dict[str, str], data_dir: Path, document: dict) -> subprocess.CompletedProcess:
    """`station config import` of `document` (written to a file next to the data dir)."""
    path = data_dir.parent / f"import-{time.monotonic_ns()}.json"
    path.write_text(json.dumps(document))
    return cli(env, "config", "import", str(path), "--data-dir", str(data_dir))


def export_config(env: dict[str, str], data_dir: Path) -> dict:
    return json.loads(cli_ok(env, "config", "export", "-", "--data-dir", str(data_dir)))


class StationProcess:
    """`station --headless` on a free loopback port; its output goes to a file (never a full pipe)."""

    def __init__(self, data_dir: Path, env: dict[str, str], port: int | None = None) -> None:
        self.data_dir, self.env = data_dir, env
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.output_path = data_dir.parent / f"station-{self.port}-{time.monotonic_ns()}.out"
        self.proc: subprocess.Popen | None = None

    def start(self, wait: bool = True) -> "StationProcess":
        data_dir = self.data_dir
        with open(self.output_path, "ab") as out:
            self.proc = subprocess.Popen(
                station_cmd("--headless", "--data-dir", str(data_dir), "--port", str(self.port)),
                env={**os.environ, **self.env}, stdout=out, stderr=subprocess.STDOUT)
        self.started = time.monotonic()
        if wait:
            wait_http(f"{self.url}/health", 15)
        return self

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 10) -> tuple[int, float]:
        """Send `signum`; (exit code, seconds until it exited)."""
        assert self.proc is not None
        start = time.monotonic()
        self.proc.send_signal(signum)
        code = self.proc.wait(timeout)
        return code, time.monotonic() - start

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def output(self) -> str:
        return self.output_path.read_text(errors="replace")

    # ---- HTTP -----------------------------------------------------------------------------------

    def request(self, method: str, path: str, body: Any = None, *, headers: dict | None = None,
                token: str | None = None) -> tuple[int, Any, dict]:
        """One HTTP request; (status, decoded JSON or text, headers with lower-case names)."""
        return request(self.port, method, path, body, headers=headers, token=token)

    def post_alert(self, body: dict | bytes, path: str = "/webhook", *, passphrase: str | None = PASSPHRASE,
                   content_type: str = "application/json") -> tuple[int, Any, dict]:
        if isinstance(body, dict) and passphrase is not None:
            body = {"passphrase": passphrase, **body}
        return self.request("POST", path, body, headers={"Content-Type": content_type})

    def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        status, answer, _ = self.request(method, path, body, token=TOKEN)
        return status, answer

    def get(self, path: str) -> Any:
        status, answer = self.api("GET", path)
        assert status == 200, (path, status, answer)
        return answer


def start_headless(folder: Path, document: dict) -> StationProcess:
    """`station --headless` set up as a user does it, by the CLI: its own keyring file, the webhook passphrase and
    API token stored, `document` imported; started and answering /health."""
    env = keyring_env(folder)
    data_dir = folder / "data"
    data_dir.mkdir()
    cli_ok(env, "secret", "set", "webhook-passphrase", input=PASSPHRASE + "\n")
    cli_ok(env, "secret", "set", "api-token", input=TOKEN + "\n")
    imported = import_config(env, data_dir, document)
    assert imported.returncode == 0, imported.stderr
    return StationProcess(data_dir, env).start()


def request(port: int, method: str, path: str, body: Any = None, *, headers: dict | None = None,
            token: str | None = None) -> tuple[int, Any, dict]:
    headers = dict(headers or {})
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None and not isinstance(body, bytes):
        body = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        got = {k.lower(): v for k, v in response.getheaders()}
    finally:
        conn.close()
    try:
        decoded = json.loads(data)
    except ValueError:
        decoded = data.decode(errors="replace")
    return response.status, decoded, got


class LineListener:
    """A NinjaTrader strategy's side of a TCP port: accepts Station's connection, keeps every line."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.raw: list[bytes] = []
        self.accepted = 0  # connections Station opened
        self._lock = threading.Lock()
        self._server: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._threads: list[threading.Thread] = []

    def start(self) -> "LineListener":
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen()
        server.settimeout(0.1)
        self._server = server
        thread = threading.Thread(target=self._accept, args=(server,), daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop listening and close every connection (the strategy is gone)."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
        for thread in self._threads:
            thread.join(2)
        self._threads.clear()

    @property
    def lines(self) -> list[dict]:
        with self._lock:
            return [json.loads(raw) for raw in self.raw]

    def wait_lines(self, count: int, timeout: float = 5.0) -> list[dict]:
        wait_until(lambda: len(self.raw) >= count, timeout, what=f"{count} lines on port {self.port}")
        return self.lines

    def _accept(self, server: socket.socket) -> None:
        while self._server is server:
            try:
                conn, _ = server.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self._conns.append(conn)
                self.accepted += 1
            thread = threading.Thread(target=self._read, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _read(self, conn: socket.socket) -> None:
        buffer = b""
        while True:
            try:
                chunk = conn.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                with self._lock:
                    self.raw.append(line)

