"""Packages: every `station.*` package, plus `forms/` and `resources/` shipped as
`station.forms` and `station.resources` (metadata lives in pyproject.toml).

The folders under resources/ (icons/, icons/png/, sample/) are listed as packages
too: Python can import any folder below a package, so setuptools would otherwise
warn that it leaves them out ("Package would be ignored"); as packages, their
files ship through package_data like any other.
"""

from setuptools import find_namespace_packages, find_packages, setup

# Kept in step with packaging/bundle_contents.py DATA_PACKAGES (the PyInstaller bundle).
DATA_PACKAGES = {"station.forms": "forms", "station.resources": "resources"}
DATA_FILES = {"station.forms": ["*.ui"], "station.resources": ["*"]}


def data_packages() -> dict[str, list[str]]:
    """Each data package and the folders below it, with the file patterns they ship."""
    found = {}
    for package, folder in DATA_PACKAGES.items():
        found[package] = DATA_FILES[package]
        for sub in find_namespace_packages(where=folder, exclude=["*__pycache__*"]):
            found[f"{package}.{sub}"] = DATA_FILES[package]
    return found


setup(
    packages=find_packages(include=["station", "station.*"]) + list(data_packages()),
    package_dir=DATA_PACKAGES,
    package_data=data_packages(),
)
