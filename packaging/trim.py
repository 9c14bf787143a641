"""What the bundle leaves out, and why (used by station.spec).

PyInstaller's hooks collect whole libraries: every Qt plugin of a module, every Qt
translation, all of pyarrow. Station uses a small part of each. Everything dropped here is
either never loaded by Station or only loaded by a feature Station does not offer; the bundle
test starts the result, so a wrong cut shows up as a failing start, not at a trader's desk.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

EXCLUDED_MODULES = [
    # Qt modules Station does not use (PySide6-Essentials ships them; hooks would follow them).
    "PySide6.QtNetwork", "PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtQuickWidgets",
    "PySide6.QtQuickControls2", "PySide6.QtQuickTest", "PySide6.QtPdf", "PySide6.QtPdfWidgets",
    "PySide6.QtDesigner", "PySide6.QtHelp", "PySide6.QtSql", "PySide6.QtConcurrent",
    "PySide6.QtXml", "PySide6.QtPrintSupport", "PySide6.QtWebEngineCore", "PySide6.QtWebEngineWidgets",
    "PySide6.QtMultimedia", "PySide6.Qt3DCore", "PySide6.scripts",
    # pyarrow (about 80 MB): databento imports it only to write Parquet files and pandas treats
    # it as optional; packaging/standins/pyarrow takes its place (see standins()).
    "pyarrow",
    # zstandard's C backend is the one it loads; the cffi one is a fallback chosen by env var.
    "zstandard._cffi",
    # Development tools that optional imports of the libraries above would drag in.
    "tkinter", "_tkinter", "pytest", "_pytest", "hypothesis", "pytestqt", "IPython", "matplotlib",
    "PIL", "scipy", "PyInstaller", "pip", "setuptools", "pkg_resources", "numpy.f2py", "pyqtgraph.examples",
    "pyqtgraph.opengl", "pandas.tests", "numpy.tests", "sphinx", "docutils", "jedi", "black",
]

# Qt plugins Station needs, per folder; folders not named here are dropped whole.
QT_PLUGINS = {
    # offscreen and minimal: servers and tests; xcb and wayland: Linux desktops.
    "platforms": {"qxcb", "qwayland", "qwayland-egl", "qwayland-generic", "qoffscreen", "qminimal",
                  "qwindows", "qcocoa"},
    "platformthemes": {"qxdgdesktopportal"},  # qgtk3 would load the system's GTK next to our libs
    "platforminputcontexts": None,  # None: the whole folder (input methods, compose keys)
    "imageformats": {"qsvg", "qico", "qjpeg", "qgif", "qicns"},
    "iconengines": None,
    "xcbglintegrations": None,
    "wayland-shell-integration": {"xdg-shell"},
    "wayland-decoration-client": None,
    "wayland-graphics-integration-client": {"qt-plugin-wayland-egl", "shm-emulation-server"},
    "styles": None,  # Windows and macOS native styles
}

# Libraries only the dropped plugins and modules load.
DROPPED_LIBRARIES = re.compile(
    r"Qt6(Network|Qml|Quick|Pdf|EglFS|EglFsKms|Designer|Help|Sql|VirtualKeyboard)\w*")

# Source and headers shipped inside wheels; nothing reads them at run time.
# pyarrow's metadata would tell importlib.metadata the real pyarrow is installed.
DROPPED_DATA = re.compile(r"\.(pyx|pxd|pxi|h|hpp|cc|cpp|c|pyi|md)$|/include/|/tests?/|PySide6/Qt/translations/"
                          r"|^pyarrow-[^/]*\.dist-info/")


def standins(packaging_dir: Path) -> list[tuple[str, str]]:
    """The stand-in packages, shipped as source next to the bundle's other top-level modules."""
    source = packaging_dir / "standins"
    return [(str(path), str(path.parent.relative_to(source))) for path in sorted(source.rglob("*.py"))]


def _plugin_kept(dest: str) -> bool:
    parts = dest.replace("\\", "/").split("/")
    if "plugins" not in parts or len(parts) < parts.index("plugins") + 3:
        return True
    folder, filename = parts[parts.index("plugins") + 1], parts[-1]
    if folder not in QT_PLUGINS:
        return False
    wanted = QT_PLUGINS[folder]
    stem = re.sub(r"^lib|\.(so|dll|dylib)$", "", filename)
    return wanted is None or stem in wanted


def _kept(dest: str) -> bool:
    return _plugin_kept(dest) and not DROPPED_LIBRARIES.search(dest.replace("\\", "/"))


def binaries(toc):
    """The binaries Station loads: trimmed plugins and libraries, then system libraries still needed."""
    kept = [entry for entry in toc if _kept(entry[0])]
    return _without_orphans(kept) if sys.platform.startswith("linux") else kept


def datas(toc):
    """The data files without Qt translations (Station loads none), headers and sources."""
    return [entry for entry in toc if not DROPPED_DATA.search(entry[0].replace("\\", "/"))]


def _without_orphans(toc):
    """Drop shared libraries that were collected only for binaries dropped above (Linux).

    PyInstaller collects the system libraries a plugin links to (GTK's cairo and pango for
    the gtk3 theme, glib for a network plugin); once the plugin is gone, so are they.
    """
    from PyInstaller.depend.bindepend import get_imports

    by_name = {}
    for entry in toc:
        by_name.setdefault(entry[0].replace("\\", "/").rsplit("/", 1)[-1], entry)
    # Roots: extension modules and plugins (in folders) and the Python library the bootloader opens.
    roots = [entry for entry in toc
             if "/" in entry[0] or not entry[0].startswith("lib") or entry[0].startswith("libpython")]
    needed, queue = set(), [entry[1] for entry in roots]
    seen = set()
    while queue:
        path = queue.pop()
        if path in seen:
            continue
        seen.add(path)
        for name, _ in get_imports(path):
            base = name.rsplit("/", 1)[-1]
            if base in by_name and base not in needed:
                needed.add(base)
                queue.append(by_name[base][1])
    kept = [entry for entry in toc if entry in roots or entry[0].rsplit("/", 1)[-1] in needed]
    dropped = sorted(entry[0] for entry in toc if entry not in kept)
    print(f"trim: dropped {len(dropped)} system libraries no kept binary links to: {' '.join(dropped)}")
    return kept


def stripped(toc, workdir: Path):
    """Binaries replaced by copies without symbols and debug info (Linux; copies kept in workdir).

    Python itself and several wheels ship unstripped (libpython: 22 MB, 5 MB stripped; the
    bundle loses about 27 MB). Libraries that auditwheel vendored into `<package>.libs/`
    are left alone: stripping rewrites their patched layout and they no longer load
    (numpy's OpenBLAS: "ELF load command address/offset not page-aligned").
    """
    if not sys.platform.startswith("linux") or not shutil.which("strip"):
        return toc
    result = []
    for dest, source, kind in toc:
        if ".libs/" not in dest.replace("\\", "/") and _is_elf(source):
            copy = workdir / "stripped" / dest
            if not copy.exists() or copy.stat().st_mtime < Path(source).stat().st_mtime:
                copy.parent.mkdir(parents=True, exist_ok=True)
                subprocess.run(["strip", "--strip-unneeded", "-o", str(copy), source], check=True)
            source = str(copy)
        result.append((dest, source, kind))
    return result


def _is_elf(path: str) -> bool:
    with open(path, "rb") as file:
        return file.read(4) == b"\x7fELF"
