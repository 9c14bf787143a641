"""The Linux .deb: the one-folder bundle under /opt/station, a menu entry, icons, /usr/bin/station.

Its Depends line is computed from the bundle: every shared library a bundled binary links to
that the bundle does not carry (PyInstaller leaves out libc, OpenGL, libxcb, Wayland, and
whatever the build machine lacked) is mapped to the Debian package that provides it. A
library missing from SYSTEM_PACKAGES stops the build, naming it, instead of shipping a
package that fails to start on a fresh machine.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

PACKAGE = "station"
INSTALL_DIR = "/opt/station"
MAINTAINER = "Station <station@localhost>"
DESCRIPTION = """Desktop trading station
 Receives TradingView alerts, runs strategies on live market data and turns alerts,
 signals and button presses into orders at Interactive Brokers, Schwab, Tastytrade
 and NinjaTrader. Start it from the applications menu or with `station`."""

# soname -> Debian package (Debian 12 / Ubuntu 22.04 names). glibc's libraries need libc6.
SYSTEM_PACKAGES = {
    "libGL.so.1": "libgl1", "libEGL.so.1": "libegl1", "libOpenGL.so.0": "libopengl0",
    "libxcb.so.1": "libxcb1", "libX11.so.6": "libx11-6", "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0", "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0", "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0", "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0", "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0", "libxcb-sync.so.1": "libxcb-sync1", "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0", "libxcb-xkb.so.1": "libxcb-xkb1", "libxcb-glx.so.0": "libxcb-glx0",
    "libxkbcommon.so.0": "libxkbcommon0", "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libwayland-client.so.0": "libwayland-client0", "libwayland-cursor.so.0": "libwayland-cursor0",
    "libwayland-egl.so.1": "libwayland-egl1", "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6", "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0", "libgthread-2.0.so.0": "libglib2.0-0",
}
GLIBC = re.compile(r"^(ld-linux.*|libc|libm|libdl|libpthread|librt|libutil|libresolv|libanl)\.so\.\d+$")
# What Qt's xcb platform plugin (the window on an X11 desktop, and under xvfb-run) loads, found by starting
# the app under xvfb-run on a stock Debian 12 and reading what was missing (QT_DEBUG_PLUGINS=1; the plugin's
# and Qt's DT_NEEDED): the .deb depends on all of them even where the bundle's own scan misses one (a trimmed
# or lazily loaded plugin), and README.md names the same list for a source install.
XCB_PLATFORM_PACKAGES = (
    "libxcb-cursor0", "libxcb-icccm4", "libxcb-image0", "libxcb-keysyms1", "libxcb-randr0", "libxcb-render-util0",
    "libxcb-render0", "libxcb-shape0", "libxcb-shm0", "libxcb-sync1", "libxcb-util1", "libxcb-xfixes0",
    "libxcb-xkb1", "libxcb-glx0", "libxcb1", "libx11-6", "libx11-xcb1", "libxkbcommon0", "libxkbcommon-x11-0",
    "libegl1", "libgl1", "libfontconfig1", "libfreetype6", "libdbus-1-3", "libglib2.0-0",
)
# zoneinfo reads the system's time zones (US/Eastern for market hours).
ALWAYS = ("libc6", "tzdata", *XCB_PLATFORM_PACKAGES)


def elf_files(tree: Path) -> list[Path]:
    """Every ELF file (executables, libraries, extension modules) under `tree`."""
    found = []
    for path in tree.rglob("*"):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as file:
                if file.read(4) == b"\x7fELF":
                    found.append(path)
    return found


def needed_libraries(path: Path) -> set[str]:
    """The DT_NEEDED sonames of one ELF file (via readelf, from binutils)."""
    if shutil.which("readelf") is None:
        raise RuntimeError("readelf not found: install binutils (apt-get install binutils)")
    output = subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True, check=True).stdout
    return set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", output))


def external_libraries(bundle: Path) -> set[str]:
    """Sonames the bundle links to but does not carry."""
    files = elf_files(bundle)
    carried = {p.name for p in bundle.rglob("*")}
    needed = set().union(*(needed_libraries(p) for p in files))
    return {name for name in needed if name not in carried}


def depends(sonames: set[str]) -> list[str]:
    """Debian packages providing `sonames`; ValueError naming any soname not mapped."""
    unknown = sorted(n for n in sonames if n not in SYSTEM_PACKAGES and not GLIBC.match(n))
    if unknown:
        raise ValueError(f"no Debian package known for {', '.join(unknown)}: add it to SYSTEM_PACKAGES in {__file__}")
    return sorted({SYSTEM_PACKAGES[n] for n in sonames if n in SYSTEM_PACKAGES} | set(ALWAYS))


def architecture() -> str:
    return subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True).stdout.strip()


def _copy_tree(source: Path, target: Path) -> None:
    """Hard links where the filesystem allows (fast, no extra space), copies elsewhere."""
    def link_or_copy(src, dst):
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)
    shutil.copytree(source, target, symlinks=True, copy_function=link_or_copy)


def build_deb(bundle: Path, root: Path, out_dir: Path, version: str, compression: str = "xz") -> Path:
    """Lay out the package tree under `root` (emptied first) and build the .deb into `out_dir`."""
    if shutil.which("dpkg-deb") is None:
        raise RuntimeError("dpkg-deb not found: install Debian's dpkg package (apt-get install dpkg)")
    project = Path(__file__).resolve().parent.parent
    icons = project / "resources" / "icons"
    shutil.rmtree(root, ignore_errors=True)
    _copy_tree(bundle, root / INSTALL_DIR.lstrip("/"))
    (root / "usr/bin").mkdir(parents=True)
    (root / "usr/bin/station").symlink_to(f"{INSTALL_DIR}/station")
    applications = root / "usr/share/applications"
    applications.mkdir(parents=True)
    shutil.copy2(project / "packaging/linux/station.desktop", applications / "station.desktop")
    hicolor = root / "usr/share/icons/hicolor"
    for png in sorted((icons / "png").glob("station-*.png")):
        size = png.stem.split("-")[1]
        (hicolor / f"{size}x{size}/apps").mkdir(parents=True)
        shutil.copy2(png, hicolor / f"{size}x{size}/apps/station.png")
    (hicolor / "scalable/apps").mkdir(parents=True)
    shutil.copy2(icons / "station.svg", hicolor / "scalable/apps/station.svg")

    installed_kib = sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink()) // 1024
    control = {
        "Package": PACKAGE, "Version": version, "Architecture": architecture(), "Maintainer": MAINTAINER,
        "Installed-Size": str(installed_kib), "Depends": ", ".join(depends(external_libraries(bundle))),
        "Section": "misc", "Priority": "optional", "Description": DESCRIPTION,
    }
    (root / "DEBIAN").mkdir()
    (root / "DEBIAN/control").write_text("".join(f"{k}: {v}\n" for k, v in control.items()), encoding="utf-8")
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{PACKAGE}_{version}_{control['Architecture']}.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", f"-Z{compression}", "--build", str(root), str(target)],
                   check=True, stdout=subprocess.DEVNULL)
    return target
