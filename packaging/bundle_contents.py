"""What goes into the PyInstaller bundle, derived from the project's own files (used by station.spec).

Nothing is listed by hand: Station's modules are found by walking `station/`, its forms and
resources by walking `forms/` and `resources/`, and its runtime dependencies are read from
pyproject.toml, so a new subpackage, form, icon or dependency ships without editing this file.
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import re
import tomllib
from pathlib import Path

# The data packages setup.py maps from top-level folders (kept in step with its package_dir).
DATA_PACKAGES = {"station.forms": "forms", "station.resources": "resources"}

# Imported by name at run time (keyring finds its backends through entry points), so no
# import statement points the analysis at them.
# engineio picks its server driver (aiohttp) by name at run time
DYNAMIC_PACKAGES = ("keyring.backends", "keyrings.alt", "engineio.async_drivers")

# Dependencies whose own files besides code are needed at run time.
DATA_OF = ("databento", "databento_dbn", "ib_async")


def station_version(root: Path) -> str:
    """`station.__version__`, read without importing the package."""
    tree = ast.parse((root / "station" / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__version__" for t in node.targets):
            return ast.literal_eval(node.value)
    raise RuntimeError("station/__init__.py has no __version__")


def station_modules(root: Path) -> list[str]:
    """Every module of the `station` package, from the files on disk (nothing is imported)."""
    modules = []
    for path in sorted((root / "station").rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if all(part.isidentifier() for part in parts):
            modules.append(".".join(parts))
    return modules


def package_data(root: Path) -> list[tuple[str, str]]:
    """forms/ and resources/ as the packages `station.forms` and `station.resources`.

    Their `__init__.py` goes along as a file, so `importlib.resources.files("station.forms")`
    imports the package from the bundle folder and finds every file next to it.
    """
    datas = []
    for package, folder in DATA_PACKAGES.items():
        source = root / folder
        target = Path(*package.split("."))
        for path in sorted(source.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                datas.append((str(path), str(target / path.parent.relative_to(source))))
    return datas


def runtime_requirements(root: Path) -> list[str]:
    """Distribution names of the runtime dependencies in pyproject.toml that apply here."""
    from packaging.requirements import Requirement

    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = []
    for line in project["dependencies"]:
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate():
            names.append(requirement.name)
    return list(dict.fromkeys(names))


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def top_level_modules(distributions: list[str]) -> list[str]:
    """The importable top-level names the given installed distributions provide."""
    wanted = {_normalise(d) for d in distributions}
    found, provided = set(), set()
    for module, dists in importlib.metadata.packages_distributions().items():
        names = {_normalise(d) for d in dists} & wanted
        # Skip private names and names that are files inside a package (e.g. shiboken6's Shiboken).
        if names and module.isidentifier() and not module.startswith("_") and importlib.util.find_spec(module):
            found.add(module)
            provided |= names
    missing = wanted - provided
    if missing:
        raise RuntimeError(f"runtime dependencies not installed in the build environment: {sorted(missing)}")
    return sorted(found)


def hidden_imports(root: Path) -> list[str]:
    """Station's modules, every runtime dependency, and the packages only imported by name."""
    from PyInstaller.utils.hooks import collect_submodules

    imports = station_modules(root) + top_level_modules(runtime_requirements(root))
    for package in DYNAMIC_PACKAGES:
        imports += collect_submodules(package)
    return imports


def dependency_data(root: Path) -> list[tuple[str, str]]:
    """Data files of the dependencies that need them, and the metadata of every dependency.

    Metadata matters at run time: keyring discovers backends (its own and keyrings.alt's)
    through entry points, and ib_async and eventkit read their version from it.
    """
    from PyInstaller.utils.hooks import collect_data_files, copy_metadata

    datas = []
    for package in DATA_OF:
        datas += collect_data_files(package)
    for distribution in runtime_requirements(root):
        datas += copy_metadata(distribution, recursive=True)
    return list(dict.fromkeys(datas))


def windows_version_info(version: str):
    """The version resource of station.exe (Explorer's Properties > Details)."""
    from PyInstaller.utils.win32.versioninfo import (FixedFileInfo, StringFileInfo, StringStruct, StringTable,
                                                     VarFileInfo, VarStruct, VSVersionInfo)

    numbers = tuple((list(map(int, re.findall(r"\d+", version)[:3])) + [0, 0, 0, 0])[:4])
    strings = {
        "CompanyName": "Station", "FileDescription": "Station trading desk", "FileVersion": version,
        "InternalName": "station", "OriginalFilename": "station.exe", "ProductName": "Station",
        "ProductVersion": version, "LegalCopyright": "Station",
    }
    return VSVersionInfo(
        ffi=FixedFileInfo(filevers=numbers, prodvers=numbers),
        kids=[StringFileInfo([StringTable("040904B0", [StringStruct(k, v) for k, v in strings.items()])]),
              VarFileInfo([VarStruct("Translation", [0x0409, 1200])])],
    )
