"""The Linux desktop's Qt libraries: README's apt-get line, the .deb's Depends and what Qt's xcb platform loads agree."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

from support.paths import REPO

sys.path.insert(0, str(REPO / "packaging"))
import deb  # noqa: E402

# Essential in every Debian and Ubuntu (priority required), so no README has to name them.
ESSENTIAL = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g", "libzstd1"}
SONAME_ESSENTIAL = {"libstdc++.so.6": "libstdc++6", "libgcc_s.so.1": "libgcc-s1", "libz.so.1": "zlib1g",
                    "libzstd.so.1": "libzstd1"}


def readme_packages() -> set[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"sudo apt-get install (libxcb-cursor0.*?)\n```", text, re.S)
    assert block, "README's apt-get line for Qt's xcb platform"
    return set(block.group(1).replace("\\", " ").split())


def test_readme_names_exactly_the_packages_the_deb_depends_on():
    assert readme_packages() == set(deb.XCB_PLATFORM_PACKAGES)
    assert set(deb.XCB_PLATFORM_PACKAGES) <= set(deb.depends({"libc.so.6"}))
    assert "xvfb-run -a .venv/bin/station --demo" in (REPO / "README.md").read_text(encoding="utf-8")


@pytest.mark.skipif(not sys.platform.startswith("linux") or shutil.which("readelf") is None,
                    reason="reads the Linux Qt libraries with readelf (binutils)")
def test_every_library_qts_xcb_platform_loads_is_in_the_list():
    import PySide6

    qt = Path(PySide6.__file__).parent / "Qt"
    files = [qt / "plugins/platforms/libqxcb.so", *sorted((qt / "plugins/xcbglintegrations").glob("*.so")),
             *(qt / "lib" / f"libQt6{name}.so.6" for name in ("XcbQpa", "Gui", "Widgets", "Core", "DBus", "OpenGL",
                                                              "OpenGLWidgets", "Svg"))]
    needed = set().union(*(deb.needed_libraries(path) for path in files if path.exists()))
    outside = {name for name in needed if not name.startswith(("libQt6", "libicu")) and not deb.GLIBC.match(name)}
    unknown = sorted(name for name in outside if name not in deb.SYSTEM_PACKAGES and name not in SONAME_ESSENTIAL)
    assert not unknown, f"no Debian package known for {unknown}"
    packages = {deb.SYSTEM_PACKAGES.get(name) or SONAME_ESSENTIAL[name] for name in outside}
    assert packages - ESSENTIAL <= set(deb.XCB_PLATFORM_PACKAGES), packages - ESSENTIAL - set(deb.XCB_PLATFORM_PACKAGES)


def test_ci_installs_what_readme_lists_so_xvfb_run_is_tried_as_written():
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    installed = set(re.search(r"apt-get install -y -qq --no-install-recommends ([^>]*)>", ci).group(1).split())
    assert readme_packages() | {"xvfb", "xauth"} <= installed


@pytest.mark.skipif(not sys.platform.startswith("linux") or shutil.which("xvfb-run") is None,
                    reason="README's xvfb-run line is for Linux (Debian's xvfb)")
def test_the_window_opens_under_xvfb_run_as_readme_says(tmp_path):
    """`xvfb-run -a .venv/bin/station --demo` with no QT_QPA_PLATFORM: Qt's real xcb platform on a virtual screen."""
    import os
    import subprocess

    from support.launch import free_port

    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    env.update(PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring", XDG_DATA_HOME=str(tmp_path / "xdg"))
    station = Path(sys.executable).with_name("station")
    result = subprocess.run(["xvfb-run", "-a", str(station), "--demo", "--smoke", "--data-dir", str(tmp_path / "data"),
                             "--port", str(free_port())], env=env, capture_output=True, text=True, timeout=90)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "first paint after" in result.stdout
