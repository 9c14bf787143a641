"""The packaging pieces that need no build: what the spec collects and trims, icons, menu entries."""

from __future__ import annotations

import ast
import configparser
import importlib.metadata
import re
import shutil
import struct
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from support.paths import REPO as ROOT
sys.path.insert(0, str(ROOT / "packaging"))

import bundle_contents  # noqa: E402
import deb  # noqa: E402
import make_icons  # noqa: E402
import trim  # noqa: E402


def test_every_station_module_is_collected_without_a_list():
    modules = bundle_contents.station_modules(ROOT)
    files = [p for p in (ROOT / "station").rglob("*.py")]
    assert len(modules) == len(files)
    assert {"station", "station.cli", "station.ui.launch", "station.store.migrations.m0001_config",
            "station.bench", "station.selfcheck"} <= set(modules)


def test_forms_and_resources_ship_as_station_packages():
    datas = {(Path(src).relative_to(ROOT).as_posix(), Path(dest).as_posix())
             for src, dest in bundle_contents.package_data(ROOT)}
    assert ("forms/about.ui", "station/forms") in datas
    assert ("forms/__init__.py", "station/forms") in datas  # so importlib.resources finds the package
    assert ("resources/icons/station.svg", "station/resources/icons") in datas
    assert ("resources/icons/png/station-256.png", "station/resources/icons/png") in datas
    assert not any("__pycache__" in src for src, _ in datas)


def test_the_wheel_and_the_bundle_ship_the_same_data_packages():
    tree = ast.parse((ROOT / "setup.py").read_text(encoding="utf-8"))
    setup_packages = next(ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)
                          and getattr(node.targets[0], "id", None) == "DATA_PACKAGES")
    assert setup_packages == bundle_contents.DATA_PACKAGES


def test_runtime_dependencies_come_from_pyproject_and_map_to_modules():
    names = bundle_contents.runtime_requirements(ROOT)
    assert {"PySide6-Essentials", "keyrings.alt", "databento", "ib_async", "pandas", "pyqtgraph"} <= set(names)
    assert "pytest" not in names  # test extras stay out
    modules = bundle_contents.top_level_modules(["keyrings.alt", "PySide6-Essentials", "ib_async"])
    assert {"keyrings", "PySide6", "ib_async"} <= set(modules)
    with pytest.raises(RuntimeError, match="not-a-real-dist"):
        bundle_contents.top_level_modules(["not-a-real-dist"])


# Runtime dependencies no import statement names, and why they are declared all the same.
LOADED_WITHOUT_IMPORT = {
    "keyrings.alt": "keyring loads its backends by entry point",
    "tzdata": "zoneinfo reads it where the OS has no tz database",
}
# Third-party names station/ imports that are no dependency of the app.
NOT_DEPENDENCIES = {"support": "station bench ib loads the fake TWS from the source tree's tests/"}
# Imported only when an optional feature is used, and declared by the extra that brings it.
EXTRAS = {"distributed": "cluster", "optuna": "research"}


def _third_party_imports() -> set[str]:
    names = set()
    for path in (ROOT / "station").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {name for name in names if name not in sys.stdlib_module_names and name != "station"}


def test_every_third_party_import_is_a_declared_dependency_and_back():
    """Nothing station/ imports arrives only as another package's dependency; nothing declared goes unused."""
    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = project["dependencies"]
    declared = {bundle_contents._normalise(Requirement(line).name) for line in lines}  # on any platform
    for module, extra in EXTRAS.items():
        assert any(Requirement(line).name == module or module in line
                   for line in project["optional-dependencies"][extra]), (module, extra)
    distributions = importlib.metadata.packages_distributions()
    imported = _third_party_imports() - set(NOT_DEPENDENCIES) - set(EXTRAS)
    providers = {name: {bundle_contents._normalise(d) for d in distributions.get(name, [])} for name in imported}
    undeclared = sorted(name for name, dists in providers.items() if not dists & declared)
    assert not undeclared, f"imported by station/ but not in [project] dependencies: {undeclared}"
    used = set().union(*providers.values()) | {bundle_contents._normalise(name) for name in LOADED_WITHOUT_IMPORT}
    unused = sorted(declared - used)
    assert not unused, f"declared in [project] dependencies but imported nowhere in station/: {unused}"


@pytest.mark.skipif(sys.platform != "win32", reason="PyInstaller's version resource code runs on Windows only")
def test_windows_version_resource_carries_the_version():
    raw = bundle_contents.windows_version_info("1.2.3").toRaw()
    assert "1.2.3".encode("utf-16-le") in raw and "Station".encode("utf-16-le") in raw


def test_python_m_station_runs_from_a_plain_checkout():
    """No install: `-S` keeps the editable install's finder out, so only the checkout is on the path."""
    import os
    import site

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
           "PYTHONPATH": os.pathsep.join([str(ROOT), *site.getsitepackages()])}
    result = subprocess.run([sys.executable, "-S", "-m", "station", "--self-check"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    files = next((line for line in result.stdout.splitlines() if "files:" in line), result.stdout + result.stderr)
    assert files.startswith("ok") and str(ROOT / "resources" / "icons") in files, files


def test_version_is_read_without_importing():
    import station

    assert bundle_contents.station_version(ROOT) == station.__version__


@pytest.mark.parametrize(("dest", "kept"), [
    ("PySide6/Qt/plugins/platforms/libqxcb.so", True),
    ("PySide6/Qt/plugins/platforms/libqoffscreen.so", True),
    ("PySide6/Qt/plugins/platforms/libqwayland.so", True),
    ("PySide6/Qt/plugins/platforms/qwindows.dll", True),
    ("PySide6/Qt/plugins/platforms/libqvnc.so", False),
    ("PySide6/Qt/plugins/platforms/libqeglfs.so", False),
    ("PySide6/Qt/plugins/imageformats/libqsvg.so", True),
    ("PySide6/Qt/plugins/imageformats/libqtiff.so", False),
    ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", False),
    ("PySide6/Qt/plugins/tls/libqopensslbackend.so", False),
    ("PySide6/Qt/plugins/iconengines/libqsvgicon.so", True),
    ("PySide6\\Qt\\plugins\\styles\\qmodernwindowsstyle.dll", True),
    ("PySide6/Qt/lib/libQt6Quick.so.6", False),
    ("PySide6/Qt/lib/libQt6Network.so.6", False),
    ("PySide6/Qt/lib/libQt6Widgets.so.6", True),
    ("numpy.libs/libscipy_openblas64_.so", True),
])
def test_qt_trim_keeps_what_the_window_needs(dest, kept):
    assert trim._kept(dest) is kept


def test_data_trim_drops_translations_headers_and_pyarrow_metadata():
    toc = [("PySide6/Qt/translations/qtbase_de.qm", "x", "DATA"), ("numpy/_core/include/numpy/x.h", "x", "DATA"),
           ("pyarrow-26.0.1.dist-info/METADATA", "x", "DATA"), ("station/forms/about.ui", "x", "DATA"),
           ("keyring-25.7.0.dist-info/entry_points.txt", "x", "DATA"), ("tzdata/zoneinfo/America/New_York", "x", "DATA")]
    assert [dest for dest, _, _ in trim.datas(toc)] == [
        "station/forms/about.ui", "keyring-25.7.0.dist-info/entry_points.txt", "tzdata/zoneinfo/America/New_York"]


def _sections(path: Path) -> str:
    return subprocess.run(["readelf", "-S", str(path)], capture_output=True, text=True, check=True).stdout


def test_binaries_are_stripped_except_vendored_libraries(tmp_path):
    if not sys.platform.startswith("linux"):
        pytest.skip("stripping is done on Linux")
    source = tmp_path / "x.c"
    source.write_text("int answer(void) { return 42; }\n")
    library = tmp_path / "libx.so"
    try:
        subprocess.run(["cc", "-g", "-shared", "-fPIC", "-o", str(library), str(source)], check=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("no C compiler to make an ELF file with debug info")
    assert ".debug_info" in _sections(library)
    toc = [("libx.so", str(library), "BINARY"), ("numpy.libs/libx.so", str(library), "BINARY"),
           ("x.c", str(source), "DATA")]
    result = trim.stripped(toc, tmp_path / "work")
    assert ".debug_info" not in _sections(Path(result[0][1])) and ".symtab" not in _sections(Path(result[0][1]))
    assert result[1:] == toc[1:]  # auditwheel's vendored copy and non-ELF files untouched


def test_pyarrow_standin_reads_as_absent_to_pandas(tmp_path):
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import pyarrow, pyarrow.parquet, inspect\n"
            "import pandas.compat as c; assert c.pa_version_under17p0 and not getattr(c, 'HAS_PYARROW', False)\n"
            "assert not hasattr(pyarrow, '__wrapped__'); inspect.getsource(pyarrow)\n"
            "try: pyarrow.parquet.ParquetWriter\n"
            "except ImportError as exc: print(exc)\n")
    result = subprocess.run([sys.executable, "-c", code, str(ROOT / "packaging" / "standins")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "pyarrow is not part of the Station bundle" in result.stdout


def test_deb_depends_maps_sonames_and_refuses_unknown_ones():
    assert deb.depends({"libc.so.6", "libGL.so.1", "libxcb.so.1", "ld-linux-x86-64.so.2"}) == sorted(
        {"libc6", "libgl1", "libxcb1", "tzdata", *deb.XCB_PLATFORM_PACKAGES})  # the xcb platform's, always
    with pytest.raises(ValueError, match="libmystery.so.3"):
        deb.depends({"libmystery.so.3"})


def test_desktop_entry_starts_the_installed_app():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(ROOT / "packaging" / "linux" / "station.desktop")
    main = entry["Desktop Entry"]
    assert main["Type"] == "Application" and main["Terminal"] == "false"
    assert main["Exec"] == f"{deb.INSTALL_DIR}/station"
    assert main["Icon"] == "station"  # the hicolor name build_deb installs
    assert main["Categories"].endswith(";")
    assert entry["Desktop Action demo"]["Exec"] == f"{deb.INSTALL_DIR}/station --demo"
    if shutil.which("desktop-file-validate"):  # Debian's desktop-file-utils, where installed
        check = subprocess.run(["desktop-file-validate", str(ROOT / "packaging/linux/station.desktop")],
                               capture_output=True, text=True)
        assert check.returncode == 0 and not check.stdout, check.stdout


def test_inno_setup_script_points_at_what_the_spec_builds():
    script = (ROOT / "packaging" / "windows" / "station.iss").read_text(encoding="utf-8")
    spec = (ROOT / "packaging" / "station.spec").read_text(encoding="utf-8")
    assert 'name="stationw", console=False' in spec
    icon = re.search(r"^SetupIconFile=(.+)$", script, re.M).group(1).replace("\\", "/")
    assert (ROOT / "packaging" / "windows" / icon).resolve() == ROOT / "resources" / "icons" / "station.ico"
    shortcuts = re.findall(r'^Name: "(\{group\}|\{autodesktop\})\\Station"; Filename: "\{app\}\\stationw.exe"', script, re.M)
    assert shortcuts == ["{group}", "{autodesktop}"]  # Start menu and desktop


def _ico_sizes(data: bytes) -> list[int]:
    reserved, kind, count = struct.unpack_from("<HHH", data)
    assert (reserved, kind) == (0, 1)
    sizes = []
    for i in range(count):
        width, _, _, _, _, bits, length, offset = struct.unpack_from("<BBBBHHII", data, 6 + 16 * i)
        assert bits == 32 and offset + length <= len(data)
        sizes.append(width or 256)
    return sizes


def _icns_types(data: bytes) -> list[str]:
    assert data[:4] == b"icns" and struct.unpack_from(">I", data, 4)[0] == len(data)
    types, offset = [], 8
    while offset < len(data):
        kind, length = data[offset:offset + 4].decode(), struct.unpack_from(">I", data, offset + 4)[0]
        assert data[offset + 8:offset + 16] == b"\x89PNG\r\n\x1a\n"
        types.append(kind)
        offset += length
    return types


def test_icons_are_generated_from_the_svg(tmp_path, qapp):  # qapp: a QApplication, not a bare QGuiApplication
    written = make_icons.make_icons(make_icons.SVG, tmp_path)
    assert _ico_sizes((tmp_path / "station.ico").read_bytes()) == list(make_icons.ICO_SIZES)
    assert _icns_types((tmp_path / "station.icns").read_bytes()) == [k for k, _ in make_icons.ICNS_TYPES]
    from PySide6.QtGui import QImage

    for size in make_icons.PNG_SIZES:
        image = QImage(str(tmp_path / "png" / f"station-{size}.png"))
        assert (image.width(), image.height()) == (size, size)
        assert image.pixelColor(0, 0).alpha() == 0  # rounded corners stay transparent
    assert len(written) == 2 + len(make_icons.PNG_SIZES)


def test_committed_icons_are_complete():
    icons = ROOT / "resources" / "icons"
    assert _ico_sizes((icons / "station.ico").read_bytes()) == list(make_icons.ICO_SIZES)
    assert _icns_types((icons / "station.icns").read_bytes()) == [k for k, _ in make_icons.ICNS_TYPES]
    assert sorted(int(p.stem.split("-")[1]) for p in (icons / "png").glob("station-*.png")) == list(make_icons.PNG_SIZES)


def test_store_import_leaves_pandas_for_later():
    code = "import sys, station.store, station.app; print(sorted({'pandas', 'numpy'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_self_check_passes_in_the_source_install(keyring_env, capsys):
    from station.selfcheck import run

    assert run() == 0
    out = capsys.readouterr().out
    assert "FAIL" not in out and "using keyrings.alt.file.PlaintextKeyring" in out


def test_a_start_without_a_console_shows_the_error_in_a_dialog(monkeypatch):
    import station.ui.launch as launch
    from station import cli

    shown = []
    monkeypatch.setattr(launch, "show_error", shown.append)
    monkeypatch.setattr(sys, "stderr", None)  # how Windows starts stationw.exe
    assert cli.main(["--port", "99999"]) == 2
    assert len(shown) == 1 and "port 99999 is out of range" in shown[0]


def test_show_error_opens_a_critical_message_box(monkeypatch, qapp):
    from PySide6.QtWidgets import QMessageBox

    from station.ui.launch import show_error

    calls = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text: calls.append((title, text)))
    show_error("Station cannot start: port 8765 is in use")
    assert calls == [("Station", "Station cannot start: port 8765 is in use")]
