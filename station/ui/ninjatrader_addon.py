"""Installing the NinjaTrader 8 add-on that receives Station's port lines (`resources/ninjatrader/StationReceiver`).

Two ways, offered by the NinjaTrader dock: copy its source files into NinjaTrader's own
`Documents/NinjaTrader 8/bin/Custom/AddOns/StationReceiver/` (NinjaTrader compiles what it
finds there), or write a NinjaScript archive (.zip) for NinjaTrader's own import
(Control Center › Tools › Import › NinjaScript Add-On). Either way some steps are left inside
NinjaTrader; `Installed.steps` says which. Plain file work that blocks: run it in a thread.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

from station.paths import ninjatrader_dir, resources_dir

ADDON = "StationReceiver"
# a NinjaScript archive names its NinjaTrader version in Info.xml and keeps each file where it goes under bin/Custom
ARCHIVE_INFO = ('<?xml version="1.0" encoding="utf-8"?>\n'
                "<NinjaTrader>\n  <Export>\n    <Version>8.1.0.0</Version>\n  </Export>\n</NinjaTrader>\n")

_AFTER = (
    "Open the receiver: Control Center › New › Station Receiver.",
    "Add one row per port: the port Station lists for the strategy's ticker, the NinjaTrader account it trades "
    "in (e.g. Sim101), the instruments (ES=ES 12-26), then Save port.",
    "Back here the port's light turns green once the receiver listens, and its orders are followed to their "
    "fills from its first answer.",
)
COPY_STEPS = ("In NinjaTrader 8: New › NinjaScript Editor, then press F5 to compile "
              "(the receiver starts at once, and with NinjaTrader from then on).",) + _AFTER
ZIP_STEPS = ("In NinjaTrader 8: Control Center › Tools › Import › NinjaScript Add-On…, choose this file; "
             "NinjaTrader compiles it (the receiver starts at once, and with NinjaTrader from then on).",) + _AFTER


@dataclass(frozen=True)
class Installed:
    """What an install did: where the add-on went, its files, the older files it removed, the steps left."""

    where: Path
    files: tuple[str, ...]
    steps: tuple[str, ...]
    removed: tuple[str, ...] = ()


def addon_source() -> Path:
    """The add-on's source folder as Station ships it."""
    return resources_dir() / "ninjatrader" / ADDON


def addons_dir() -> Path:
    """NinjaTrader 8's folder of add-on sources for the user running Station."""
    return ninjatrader_dir() / "bin" / "Custom" / "AddOns"


def source_files(source: Path | None = None) -> list[Path]:
    """The add-on's `.cs` files (a missing or empty source is an installation problem, said as such)."""
    folder = source or addon_source()
    files = sorted(folder.glob("*.cs"))
    if not files:
        raise FileNotFoundError(f"the add-on's source files are missing from this installation ({folder})")
    return files


def install(addons: Path | None = None, source: Path | None = None) -> Installed:
    """Copy the add-on into `addons`/StationReceiver (NinjaTrader's AddOns folder by default), replacing an
    older copy: each file is written whole, then put in place; files the new version no longer has go."""
    files = source_files(source)
    target = (addons or addons_dir()) / ADDON
    target.mkdir(parents=True, exist_ok=True)
    for path in files:
        temp = target / f".{path.name}.station-tmp"
        temp.write_bytes(path.read_bytes())
        os.replace(temp, target / path.name)
    names = {path.name for path in files}
    removed = sorted(old.name for old in target.glob("*.cs") if old.name not in names)
    for name in removed:
        (target / name).unlink()
    return Installed(target, tuple(sorted(names)), COPY_STEPS, tuple(removed))


def write_archive(path: Path, source: Path | None = None) -> Installed:
    """Write the add-on as a NinjaScript archive (.zip) NinjaTrader 8 imports: `Info.xml`, and the sources under
    `AddOns/StationReceiver/`. Written whole, then put in place."""
    files = source_files(source)
    path = path if path.suffix.lower() == ".zip" else path.with_suffix(".zip")
    temp = path.with_name(f".{path.name}.station-tmp")
    with zipfile.ZipFile(temp, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("Info.xml", ARCHIVE_INFO)
        for file in files:
            archive.write(file, f"AddOns/{ADDON}/{file.name}")
    os.replace(temp, path)
    return Installed(path, tuple(file.name for file in files), ZIP_STEPS)
