"""The NinjaTrader add-on's protocol core compiled with Mono and run as a loopback receiver on a simulated account.

The add-on (`resources/ninjatrader/StationReceiver`) is plain C# but for three NinjaTrader-bound
files; its core, with the simulated account and the host program kept beside its tests
(`tests/ninjatrader_addon/`), compiles with Mono's `mcs` and listens as the add-on does:
ack, order states, fills and positions on the same connection. `station bench ports`
measures Station against it; the end-to-end tests speak to it. It needs Mono and a source
checkout (the host is a test program); `unavailable()` says what is missing.
"""

from __future__ import annotations

import hashlib
import json
import queue
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from station.paths import resources_dir

_CHECKOUT = Path(__file__).resolve().parents[2]
HOST_SOURCES = _CHECKOUT / "tests" / "ninjatrader_addon"
NINJATRADER_BOUND = {"NinjaTraderGateway.cs", "StationReceiverAddOn.cs", "StationReceiverWindow.cs"}
# C# 5: what NinjaTrader 8's NinjaScript compiler takes
MCS_FLAGS = ["-langversion:5", "-r:System.Web.Extensions.dll"]
TIMEOUT_S = 20.0
INSTALL_MONO = "apt-get install mono-mcs mono-runtime libmono-system-web-extensions4.0-cil"


def _core_sources() -> list[Path]:
    folder = resources_dir() / "ninjatrader" / "StationReceiver"
    return sorted(p for p in folder.glob("*.cs") if p.name not in NINJATRADER_BOUND)


def unavailable() -> str | None:
    """Why the compiled receiver cannot run here (no Mono, no source checkout), or None."""
    if not (shutil.which("mcs") and shutil.which("mono")):
        return f"needs Mono ({INSTALL_MONO})"
    if not (HOST_SOURCES / "ReceiverHost.cs").exists() or not _core_sources():
        return "needs a source checkout of Station (tests/ninjatrader_addon and resources/ninjatrader)"
    return None


def build() -> Path:
    """`receiver-host.exe`, compiled once per content of its sources (kept in the temp folder)."""
    sources = _core_sources() + [HOST_SOURCES / "FakeAccountGateway.cs", HOST_SOURCES / "ReceiverHost.cs"]
    digest = hashlib.sha1(b"".join(p.name.encode() + p.read_bytes() for p in sources)).hexdigest()[:16]
    exe = Path(tempfile.gettempdir()) / f"station-receiver-host-{digest}" / "receiver-host.exe"
    if exe.exists():
        return exe
    exe.parent.mkdir(parents=True, exist_ok=True)
    partial = exe.with_suffix(".partial.exe")
    result = subprocess.run([shutil.which("mcs"), *MCS_FLAGS, f"-out:{partial}", *map(str, sources)],
                            capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"mcs could not compile the receiver:\n{result.stdout}{result.stderr}")
    partial.replace(exe)
    return exe


class AddonReceiver:
    """`mono receiver-host.exe` listening on the given ports, each mapped to account Sim101 (ES → ES 12-26)."""

    def __init__(self, folder: Path, ports: list[int], *, instruments: dict[str, str] | None = None) -> None:
        self.folder = Path(folder)
        self.ports = ports
        self.instruments = instruments if instruments is not None else {"ES": "ES 12-26"}
        self.proc: subprocess.Popen | None = None
        self._out: queue.Queue[str] = queue.Queue()

    def start(self) -> "AddonReceiver":
        """Start it and wait until every port listens (the same data folder: what it took survives a restart)."""
        exe = build()
        self.folder.mkdir(parents=True, exist_ok=True)
        settings = self.folder / "settings.json"
        settings.write_text(json.dumps({"ports": [
            {"port": port, "account": "Sim101", "atm_template": "", "instruments": self.instruments}
            for port in self.ports]}), encoding="utf-8")
        self.proc = subprocess.Popen([shutil.which("mono"), str(exe), str(settings), str(self.folder / "data")],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=open(self.folder / "receiver.log", "a"), text=True)
        self._out = queue.Queue()
        threading.Thread(target=lambda out=self.proc.stdout, q=self._out: [q.put(line) for line in out],
                         daemon=True).start()
        self._expect("ready")
        return self

    def trade(self, instrument: str, price) -> None:
        """A trade prints in the simulated market (working orders it reaches fill)."""
        self.proc.stdin.write(f"trade {instrument} {price}\n")
        self.proc.stdin.flush()
        self._expect("done")

    def stop(self) -> None:
        """Quit as NinjaTrader closing does (its connections close)."""
        if self.proc is None:
            return
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
            self.proc.wait(TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait(TIMEOUT_S)
        self.proc = None

    def _expect(self, prefix: str) -> None:
        try:
            line = self._out.get(timeout=TIMEOUT_S)
        except queue.Empty:
            raise RuntimeError(f"the receiver said nothing; see {self.folder / 'receiver.log'}") from None
        if not line.startswith(prefix):
            raise RuntimeError(f"the receiver said {line!r}, expected {prefix!r}")
