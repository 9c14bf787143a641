"""The installable bundle, built once with PyInstaller and started as a user would start it.

Slow (the build takes 30-80 s on two cores) but run by CI: it is the only test that sees
what a trader installs, so a missing hidden import, plugin, keyring backend or shipped file
fails here instead of on a desk.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from support.launch import KEYRING_BACKEND, free_port, wait_http

from support.paths import REPO as ROOT
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

# What the environment may carry that would hide a missing display or change the keyring.
DISPLAY_VARIABLES = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory):
    """Where the bundle and the .deb go; removed afterwards (they take about 500 MB)."""
    path = tmp_path_factory.mktemp("bundle-build")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def bundle(build_dir) -> Path:
    """`packaging/build.py` run once for this module; the one-folder bundle it made.

    PyInstaller's work folder stays in build/ (git-ignored): a rerun with unchanged sources
    skips the module analysis, most of the build's time. CI starts from a clean checkout.
    """
    work = ROOT / "build" / "test-bundle"
    result = subprocess.run([sys.executable, str(ROOT / "packaging" / "build.py"), "--dist", str(build_dir / "dist"),
                             "--work", str(work)], capture_output=True, text=True, timeout=800)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    print(result.stdout)
    return build_dir / "dist" / "station"


@pytest.fixture(scope="module")
def deb_package(bundle, build_dir) -> Path:
    """The .deb made from the bundle (zstd: seconds instead of minutes for xz)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the .deb is Linux's")
    sys.path.insert(0, str(ROOT / "packaging"))
    from bundle_contents import station_version
    from deb import build_deb

    return build_deb(bundle, build_dir / "deb-root", build_dir / "dist", station_version(ROOT), compression="zstd")


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A clean environment: keyring file backend and XDG folders in tmp_path, no display."""
    env = {k: v for k, v in os.environ.items() if k not in DISPLAY_VARIABLES and not k.startswith("PYTHON")}
    env.update({"PYTHON_KEYRING_BACKEND": KEYRING_BACKEND, "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
                "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"), "HOME": str(tmp_path)})
    env.update(extra)
    return env


def run(executable: Path, *args: str, env: dict[str, str], input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(executable), *args], capture_output=True, text=True, env=env, input=input, timeout=60)


def smoke(executable: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    return run(executable, "--demo", "--smoke", "--data-dir", str(tmp_path / "data"), "--port", str(free_port()),
               env=environment(tmp_path, QT_QPA_PLATFORM="offscreen"))


def test_bundle_opens_the_window_and_exits_after_the_first_paint(bundle, tmp_path):
    from station.store.migrations import available

    result = smoke(bundle / "station", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "first paint after" in result.stdout
    # Migrations are found by listing their package: every one shipped must have run.
    with sqlite3.connect(tmp_path / "data" / "station.db") as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == available()[-1][0]


def test_bundle_lists_every_benchmark(bundle, tmp_path):
    from station.bench import available

    result = run(bundle / "station", "bench", "--help", env=environment(tmp_path))
    assert result.returncode == 0, result.stderr
    assert all(name in result.stdout for name in available())


def test_bundle_has_every_library_plugin_and_file(bundle, tmp_path):
    result = run(bundle / "station", "--self-check", env=environment(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAIL" not in result.stdout
    assert f"using {KEYRING_BACKEND}" in result.stdout  # the explicit backend, found by entry point


def test_bundle_leaves_out_what_station_does_not_use(bundle):
    internal = bundle / "_internal"
    assert not (internal / "PySide6" / "Qt" / "translations").exists()
    assert not list(internal.glob("pyarrow/*.so*")) and (internal / "pyarrow" / "__init__.py").is_file()
    assert not list(internal.rglob("*Qt6Quick*")) and not list(internal.rglob("*Qt6Qml*"))
    assert not list(internal.rglob("*WebEngine*"))
    size = sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file() and not p.is_symlink())
    assert size < 300e6, f"bundle grew to {size / 1e6:.0f} MB: see packaging/trim.py"  # untrimmed: 465 MB


def test_bundle_serves_health_headless_and_stops_on_sigterm(bundle, tmp_path):
    port = free_port()
    process = subprocess.Popen([str(bundle / "station"), "--headless", "--data-dir", str(tmp_path / "data"),
                                "--port", str(port)], env=environment(tmp_path),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_http(f"http://127.0.0.1:{port}/health", timeout=20)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
            assert json.loads(response.read())["status"] == "ok"
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="only Linux needs a display server")
def test_bundle_without_a_display_says_so_instead_of_aborting(bundle, tmp_path):
    result = run(bundle / "station", "--demo", "--data-dir", str(tmp_path / "data"), env=environment(tmp_path))
    assert result.returncode == 2  # not 134: Qt never got to abort
    assert "no display to open a window on" in result.stderr
    assert "QT_QPA_PLATFORM=offscreen" in result.stderr and "--headless" in result.stderr


def test_bundle_stores_secrets_in_the_keyring_backend_chosen(bundle, tmp_path):
    env = environment(tmp_path)
    stored = run(bundle / "station", "secret", "set", "api-token", env=env, input="s3cret-value\n")
    assert stored.returncode == 0, stored.stderr
    assert KEYRING_BACKEND in stored.stdout
    from keyrings.alt.file import PlaintextKeyring

    backend = PlaintextKeyring()
    backend.file_path = str(next((tmp_path / "xdg-data").rglob("keyring_pass.cfg")))
    assert backend.get_password("station", "api-token") == "s3cret-value"  # one trailing newline dropped
    assert run(bundle / "station", "secret", "delete", "api-token", env=env).returncode == 0


def test_deb_unpacks_to_a_runnable_tree(deb_package, tmp_path):
    fields = subprocess.run(["dpkg-deb", "--field", str(deb_package)], capture_output=True, text=True, check=True).stdout
    assert "Package: station" in fields and "libxcb1" in fields and "libgl1" in fields
    tree = tmp_path / "root"
    subprocess.run(["dpkg-deb", "-x", str(deb_package), str(tree)], check=True)
    assert os.readlink(tree / "usr/bin/station") == "/opt/station/station"
    assert (tree / "usr/share/applications/station.desktop").is_file()
    assert (tree / "usr/share/icons/hicolor/256x256/apps/station.png").is_file()
    assert (tree / "usr/share/icons/hicolor/scalable/apps/station.svg").is_file()
    result = smoke(tree / "opt/station/station", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "first paint after" in result.stdout
