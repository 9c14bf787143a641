"""Packages: every `station.*` package, plus `forms/` and `resources/` shipped as
`station.forms` and `station.resources` (metadata lives in pyproject.toml)."""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["station", "station.*"]) + ["station.forms", "station.resources"],
    package_dir={"station.forms": "forms", "station.resources": "resources"},
)
