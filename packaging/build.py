"""Build Station's installable bundle and, per OS, its installer.

    python packaging/build.py [--dist DIR] [--work DIR] [--deb] [--deb-compression xz|zstd|gzip] [--installer]

Run it with the Python that has Station installed (`pip install -e ".[test]"` brings
PyInstaller). It builds the one-folder bundle `DIST/station/` from packaging/station.spec
(on macOS also `DIST/Station.app`), then:
  --deb        Linux: DIST/station_<version>_<arch>.deb (installs to /opt/station)
  --installer  Windows: DIST/Station-<version>-setup.exe with Inno Setup's ISCC.exe
               macOS: DIST/Station-<version>.dmg with hdiutil
and prints the size of what it built.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

PACKAGING = Path(__file__).resolve().parent
ROOT = PACKAGING.parent
sys.path.insert(0, str(PACKAGING))

from bundle_contents import station_version  # noqa: E402


def tree_size(path: Path) -> int:
    """Bytes in the files under `path` (symlinks not followed)."""
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def build_bundle(dist: Path, work: Path) -> Path:
    """Run PyInstaller on station.spec; returns the one-folder bundle."""
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
                    "--distpath", str(dist), "--workpath", str(work), str(PACKAGING / "station.spec")],
                   check=True, env=env, cwd=ROOT)
    return dist / "station"


def build_windows_installer(bundle: Path, dist: Path, version: str) -> Path:
    """Station-<version>-setup.exe from packaging/windows/station.iss (needs Inno Setup 6)."""
    iscc = os.environ.get("ISCC") or shutil.which("iscc") or shutil.which("ISCC")
    default = Path(os.environ.get("ProgramFiles(x86)", r"C:\Program Files (x86)")) / "Inno Setup 6" / "ISCC.exe"
    if not iscc and default.exists():
        iscc = str(default)
    if not iscc:
        raise SystemExit("Inno Setup's ISCC.exe not found: install Inno Setup 6 or set ISCC to its path")
    subprocess.run([iscc, f"/DAppVersion={version}", f"/DBundleDir={bundle}", f"/O{dist}",
                    str(PACKAGING / "windows" / "station.iss")], check=True)
    return dist / f"Station-{version}-setup.exe"


def build_dmg(dist: Path, version: str) -> Path:
    """A compressed disk image holding Station.app."""
    target = dist / f"Station-{version}.dmg"
    subprocess.run(["hdiutil", "create", "-volname", "Station", "-srcfolder", str(dist / "Station.app"),
                    "-ov", "-format", "UDZO", str(target)], check=True)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder (default: dist/)")
    parser.add_argument("--work", type=Path, default=ROOT / "build", help="PyInstaller's work folder (default: build/)")
    parser.add_argument("--deb", action="store_true", help="Linux: also build the .deb")
    parser.add_argument("--deb-compression", default="xz", choices=["xz", "zstd", "gzip"],
                        help="xz: smallest, any dpkg; zstd: fast, dpkg >= 1.21.18 (Debian 12, Ubuntu 22.04)")
    parser.add_argument("--installer", action="store_true", help="Windows: Inno Setup installer; macOS: .dmg")
    args = parser.parse_args(argv)
    version = station_version(ROOT)

    started = time.perf_counter()
    bundle = build_bundle(args.dist.resolve(), args.work.resolve())
    print(f"bundle   {bundle}  {megabytes(tree_size(bundle))}  (built in {time.perf_counter() - started:.0f} s)")
    if args.deb:
        from deb import build_deb

        package = build_deb(bundle, args.work.resolve() / "deb-root", args.dist.resolve(), version, args.deb_compression)
        print(f"deb      {package}  {megabytes(package.stat().st_size)}")
    if args.installer and sys.platform == "win32":
        setup = build_windows_installer(bundle, args.dist.resolve(), version)
        print(f"setup    {setup}  {megabytes(setup.stat().st_size)}")
    elif args.installer and sys.platform == "darwin":
        image = build_dmg(args.dist.resolve(), version)
        print(f"dmg      {image}  {megabytes(image.stat().st_size)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
