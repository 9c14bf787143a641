"""The NinjaTrader 8 add-on that receives Station's port lines (resources/ninjatrader/StationReceiver).

Compiled with Mono's `mcs` once per session: the protocol core with its C# test program; the
NinjaTrader-bound files against compile-only stubs of the NinjaTrader and WPF members they use (a
misspelt call fails here); and the core as a TCP receiver on a simulated account, which these tests
speak to over a real socket the way Station does: one JSON object and "\\n" per order, replies read
back from the same connection (CONTRACT.md, "NinjaTrader").
"""

from __future__ import annotations

import json
import queue
import shutil
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from support.launch import free_port

from support.paths import REPO as ROOT  # noqa: E402
ADDON = ROOT / "resources" / "ninjatrader" / "StationReceiver"
HERE = Path(__file__).resolve().parent
MCS, MONO = shutil.which("mcs"), shutil.which("mono")

pytestmark = pytest.mark.skipif(
    not (MCS and MONO), reason="needs Mono: apt-get install mono-mcs mono-runtime libmono-system-web-extensions4.0-cil")

# The files that use NinjaTrader's (and WPF's) types; every other file is the plain C# core.
NINJATRADER_BOUND = {"NinjaTraderGateway.cs", "StationReceiverAddOn.cs", "StationReceiverWindow.cs"}
CORE = sorted(str(p) for p in ADDON.glob("*.cs") if p.name not in NINJATRADER_BOUND)
# C# 5: what NinjaTrader 8's NinjaScript compiler takes in every 8.x release
MCS_FLAGS = ["-langversion:5", "-warnaserror", "-r:System.Web.Extensions.dll"]
TIMEOUT_S = 10.0


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> dict[str, tuple[Path, subprocess.CompletedProcess]]:
    """The three compilations, run side by side: name -> (output, mcs's result)."""
    out = tmp_path_factory.mktemp("ninjatrader-addon")
    jobs = {
        "core-tests.exe": CORE + [str(HERE / n) for n in ("FakeAccountGateway.cs", "TestSupport.cs", "CoreTests.cs")],
        "receiver-host.exe": CORE + [str(HERE / n) for n in ("FakeAccountGateway.cs", "ReceiverHost.cs")],
        "addon.dll": [str(p) for p in sorted(ADDON.glob("*.cs"))] + [str(p) for p in sorted((HERE / "stubs").glob("*.cs"))],
    }

    def compile_one(name: str) -> tuple[Path, subprocess.CompletedProcess]:
        target = ["-target:library"] if name.endswith(".dll") else []
        result = subprocess.run([MCS, *MCS_FLAGS, *target, f"-out:{out / name}", *jobs[name]],
                                capture_output=True, text=True, timeout=120)
        return out / name, result

    with ThreadPoolExecutor(len(jobs)) as pool:
        return dict(zip(jobs, pool.map(compile_one, jobs)))


def built_ok(built, name: str) -> Path:
    path, result = built[name]
    assert result.returncode == 0, f"mcs {name}:\n{result.stdout}{result.stderr}"
    return path


def test_core_test_program_passes(built):
    result = subprocess.run([MONO, str(built_ok(built, "core-tests.exe"))], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 failure(s)" in result.stdout


def test_ninjatrader_bound_files_compile_against_the_stubs(built):
    built_ok(built, "addon.dll")


def test_core_uses_no_ninjatrader_or_wpf_types():
    """The split that lets the core run under Mono: only the NinjaTrader-bound files name NinjaTrader or WPF."""
    for path in map(Path, CORE):
        code = [row.split("//")[0] for row in path.read_text(encoding="utf-8").splitlines()]
        assert not [row for row in code if "NinjaTrader." in row or "System.Windows" in row], path.name


def test_addon_files_are_self_contained_ninjascript():
    """Copied as they are into Documents/NinjaTrader 8/bin/Custom/AddOns: no project file, no other source."""
    names = {p.name for p in ADDON.iterdir()}
    assert names == {p.name for p in ADDON.glob("*.cs")}, names
    for path in ADDON.glob("*.cs"):
        text = path.read_text(encoding="utf-8")
        assert "$\"" not in text and "?." not in text and "nameof(" not in text, f"{path.name}: C# 6 syntax"


# ---- end to end: the receiver under mono, spoken to over TCP -------------------------------------------


class Client:
    """One TCP connection to the receiver: writes contract lines, reads its replies."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S)
        self.buffer = b""
        self.replies: list[dict] = []

    def send(self, line: dict | str) -> None:
        text = line if isinstance(line, str) else json.dumps(line)
        self.sock.sendall(text.encode("utf-8") + b"\n")

    def _read(self, until: float) -> None:
        self.sock.settimeout(max(0.01, until - time.monotonic()))
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return
        assert chunk, "the receiver closed the connection"
        self.buffer += chunk
        *lines, self.buffer = self.buffer.split(b"\n")
        self.replies += [json.loads(line) for line in lines]

    def until(self, predicate, timeout: float = TIMEOUT_S) -> list[dict]:
        deadline = time.monotonic() + timeout
        while not predicate(self.replies):
            if time.monotonic() > deadline:
                raise AssertionError(f"no such reply within {timeout} s; got {self.replies}")
            self._read(deadline)
        return self.replies

    def quiet(self, seconds: float) -> list[dict]:
        """What arrives within `seconds` (for asserting that nothing does)."""
        seen = len(self.replies)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._read(deadline)
        return self.replies[seen:]

    def orders(self, order_id: str) -> list[dict]:
        return [r for r in self.replies if r["type"] == "order" and r["id"] == order_id]

    def statuses(self, order_id: str) -> list[str]:
        return [r["status"] for r in self.orders(order_id)]

    def ended(self, order_id: str):
        return lambda replies: any(r["type"] == "order" and r["id"] == order_id
                                   and r["status"] in ("filled", "cancelled", "rejected") for r in replies)

    def positions(self) -> list[dict]:
        return [r for r in self.replies if r["type"] == "position"]

    def close(self) -> None:
        self.sock.close()


class Receiver:
    """`mono receiver-host.exe` on a free loopback port, with its settings file and data folder."""

    def __init__(self, exe: Path, tmp: Path) -> None:
        self.exe, self.port = exe, free_port()
        self.settings, self.data = tmp / "settings.json", tmp / "StationReceiver"
        # as the add-on's window writes it
        self.settings.write_text(json.dumps({"ports": [{
            "port": self.port, "account": "Sim101", "atm_template": "", "instruments": {"ES": "ES 12-26"}}]}))
        self.proc: subprocess.Popen | None = None
        self.clients: list[Client] = []

    def start(self) -> None:
        self.proc = subprocess.Popen([MONO, str(self.exe), str(self.settings), str(self.data)], text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.out: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda out=self.proc.stdout, q=self.out: [q.put(line) for line in out],
                         daemon=True).start()
        self._expect("ready")

    def _expect(self, prefix: str) -> None:
        try:
            line = self.out.get(timeout=TIMEOUT_S)
        except queue.Empty:
            raise AssertionError(f"receiver said nothing; stderr: {self.stop()}") from None
        assert line.startswith(prefix), line

    def command(self, text: str) -> None:
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()
        self._expect("done")

    def connect(self) -> Client:
        client = Client(self.port)
        self.clients.append(client)
        return client

    def stop(self) -> str:
        for client in self.clients:
            client.close()
        self.clients.clear()
        if self.proc is None:
            return ""
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
            self.proc.wait(TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait(TIMEOUT_S)
        stderr = self.proc.stderr.read()
        self.proc = None
        return stderr

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def receiver(built, tmp_path):
    running = Receiver(built_ok(built, "receiver-host.exe"), tmp_path)
    running.start()
    yield running
    running.stop()


def line(order_id: str, action: str = "buy", qty=1, ticker: str = "ES", strategy: str | None = "MomentumStrategy",
         **instructions) -> dict:
    """A port line with every field CONTRACT.md lists, order instructions null unless given."""
    fields = {"id": order_id, "alert_id": 17, "strategy": strategy, "ticker": ticker, "action": action, "qty": qty,
              "price": 5000.25, "position": "flat", "target_position": None, "trade_id": "Open_Long_ID_123",
              "time": "2024-01-04T10:30:00-05:00", "order_type": None, "limit_price": None, "stop_price": None,
              "tif": None, "stop_loss": None, "take_profit": None, "trailing_stop": None}
    return fields | instructions


def test_listens_on_loopback_only(receiver):
    listening = set()
    for row in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = row.split()[1], row.split()[3]
        address, port = local.split(":")
        if state == "0A" and int(port, 16) == receiver.port:
            listening.add(address)
    assert listening == {"0100007F"}  # 127.0.0.1


def test_market_order_is_acknowledged_worked_filled_and_positioned(receiver):
    station = receiver.connect()
    station.send(line("a17-MomentumStrategy-port"))
    replies = station.until(lambda r: any(p["type"] == "position" for p in r))
    assert replies[0] == {"type": "ack", "id": "a17-MomentumStrategy-port"}
    assert station.statuses("a17-MomentumStrategy-port") == ["submitted", "working", "filled"]
    assert station.orders("a17-MomentumStrategy-port")[-1] == {
        "type": "order", "id": "a17-MomentumStrategy-port", "status": "filled", "filled_qty": 1, "avg_price": 5000,
        "reason": None}
    assert station.positions()[-1] == {"type": "position", "account": "Sim101", "instrument": "ES 12-26", "qty": 1,
                                       "avg_price": 5000}
    station.send(line("a18", action="sell", qty=3))
    station.until(lambda r: any(p["type"] == "position" and p["qty"] == -2 for p in r))  # short is negative


def test_repeated_id_is_dropped_also_after_a_restart(receiver):
    station = receiver.connect()
    station.send(line("a1"))
    station.until(lambda r: station.ended("a1")(r) and station.positions())
    first = len(station.replies)
    station.send(line("a1"))  # Station writes again what was not acknowledged when it reconnects
    again = station.until(lambda r: len(r) >= first + 2)[first:]
    assert again == [{"type": "ack", "id": "a1"}, station.orders("a1")[-2]], "ack, then where its order stands"
    assert again[1]["status"] == "filled" and station.quiet(0.3) == []

    receiver.restart()  # NinjaTrader restarts: the ids taken survive in the data folder
    station = receiver.connect()
    station.send(line("a1"))
    station.until(lambda r: r == [{"type": "ack", "id": "a1"}])
    assert station.quiet(0.5) == [], "a repeat places nothing"
    station.send(line("a2"))
    station.until(station.ended("a2"))
    assert station.statuses("a2")[-1] == "filled"


def test_malformed_lines_are_answered_rejected(receiver):
    station = receiver.connect()
    station.send("this is not JSON")
    station.send(json.dumps(line("m1", qty=1.5)))
    station.send(json.dumps(line("m2", order_type="limit")))
    station.send(json.dumps(line("m3", action="exit", stop_loss={"ticks": 4})))
    station.send("x" * 70000)
    station.send(line("m4"))  # the connection still works
    station.until(station.ended("m4"))
    rejected = [r for r in station.replies if r["type"] == "order" and r["status"] == "rejected"]
    assert rejected[0]["id"] is None and rejected[0]["reason"].startswith("line is not valid JSON")
    assert {r["id"]: r["reason"] for r in rejected[1:]} == {
        "m1": "qty: NinjaTrader trades whole quantities, got 1.5",
        "m2": "limit_price: a limit order needs it",
        "m3": "stop_loss: exit lines carry no order instructions",
        None: "line is longer than 65536 bytes",
    }
    assert [r["id"] for r in station.replies if r["type"] == "ack"] == ["m1", "m2", "m3", "m4"]
    assert station.statuses("m4") == ["submitted", "working", "filled"]


def test_bracket_exits_form_one_oco_group_once_the_entry_fills(receiver):
    station = receiver.connect()
    station.send(line("k1", qty=2, order_type="limit", limit_price=4999, tif="gtc",
                      stop_loss={"ticks": 8}, take_profit={"points": 5}))
    station.until(lambda r: "working" in station.statuses("k1"))
    assert station.quiet(0.3) == [] and not station.orders("k1-sl"), "exits are held until the entry fills"

    receiver.command("trade ES 12-26 4999")
    station.until(lambda r: station.statuses("k1-sl")[-1:] == ["working"] and station.statuses("k1-tp")[-1:] == ["working"])
    assert station.orders("k1")[-1]["status"] == "filled" and station.orders("k1")[-1]["avg_price"] == 4999

    receiver.command("trade ES 12-26 5004")  # the target (4999 + 5 points) fills: its OCO sibling goes
    station.until(lambda r: station.ended("k1-tp")(r) and station.ended("k1-sl")(r))
    assert station.orders("k1-tp")[-1] == {"type": "order", "id": "k1-tp", "status": "filled", "filled_qty": 2,
                                           "avg_price": 5004, "reason": None}
    assert station.statuses("k1-sl")[-1] == "cancelled"
    station.until(lambda r: station.positions() and station.positions()[-1]["qty"] == 0)


def test_exit_reverse_and_cancel(receiver):
    station = receiver.connect()
    station.send(line("e1", qty=1, stop_loss={"ticks": 8}))
    station.until(lambda r: station.statuses("e1-sl")[-1:] == ["working"])

    station.send(line("e2", action="reverse", qty=2))  # close the long, open 2 short
    station.until(station.ended("e2"))
    assert station.orders("e2")[-1]["status"] == "filled" and station.orders("e2")[-1]["filled_qty"] == 2
    assert station.statuses("e1-sl")[-1] == "cancelled", "the old side's protective stop went with it"
    station.until(lambda r: station.positions()[-1]["qty"] == -2)

    station.send(line("e3", action="exit", qty=None))  # the quantity comes from the position
    station.until(station.ended("e3"))
    assert station.orders("e3")[-1] == {"type": "order", "id": "e3", "status": "filled", "filled_qty": 2,
                                        "avg_price": 5000, "reason": None}
    station.until(lambda r: station.positions()[-1]["qty"] == 0)

    station.send(line("c1", order_type="limit", limit_price=4900))
    station.send(line("c2", action="sell", order_type="limit", limit_price=5100))
    station.send(line("c3", strategy="Other", order_type="limit", limit_price=4900))
    station.until(lambda r: all(station.statuses(i)[-1:] == ["working"] for i in ("c1", "c2", "c3")))
    station.send(line("c4", action="cancel", qty=None))
    station.until(station.ended("c4"))
    assert station.orders("c4")[-1]["reason"] == "cancelled 2 working order(s)"
    assert station.statuses("c1")[-1] == station.statuses("c2")[-1] == "cancelled"
    assert station.statuses("c3")[-1] == "working", "another strategy's order stays"


def test_replies_made_while_station_is_away_come_when_it_reconnects(receiver):
    station = receiver.connect()
    station.send(line("w1", order_type="limit", limit_price=4990))
    station.until(lambda r: "working" in station.statuses("w1"))
    station.close()
    receiver.command("trade ES 12-26 4990")  # fills while nobody listens
    back = receiver.connect()
    back.until(back.ended("w1"))
    assert back.replies[0]["id"] == "w1" and back.replies[0]["status"] == "filled"
    back.until(lambda r: back.positions() and back.positions()[-1]["qty"] == 1)
