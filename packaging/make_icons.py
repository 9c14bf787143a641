"""Render the app icon from resources/icons/station.svg into every format an installer needs.

    python packaging/make_icons.py [--out DIR]

Writes, next to the SVG (or into DIR):
  station.ico           Windows: 16-256 px in one file (small sizes as bitmaps, 256 as PNG)
  station.icns          macOS: 16-1024 px, PNG-encoded, including the @2x variants
  png/station-N.png     Linux hicolor theme and anything else wanting a bitmap (16-512 px)

Re-run it after changing the SVG and commit the results; the bundle and installers use
the committed files, so building needs no image tools.
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SVG = ROOT / "resources" / "icons" / "station.svg"
ICO_SIZES = (16, 20, 24, 32, 40, 48, 64, 128, 256)
PNG_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
# icns element types and their pixel sizes (Apple's "icp4"... "ic10"; @2x types reuse sizes).
ICNS_TYPES = (("icp4", 16), ("icp5", 32), ("icp6", 64), ("ic07", 128), ("ic08", 256), ("ic09", 512),
              ("ic10", 1024), ("ic11", 32), ("ic12", 64), ("ic13", 256), ("ic14", 512))


def render(svg: Path, size: int):
    """The SVG drawn into a transparent size x size ARGB image."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"cannot read {svg}")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image


def png_bytes(image) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data)


def bmp_icon_bytes(image) -> bytes:
    """An ICO bitmap entry: BITMAPINFOHEADER, bottom-up BGRA rows, then the 1-bit AND mask."""
    size = image.width()
    rows = [bytes(image.constScanLine(y))[: size * 4] for y in range(size)]  # BGRA on little-endian
    header = struct.pack("<IiiHHIIiiII", 40, size, size * 2, 1, 32, 0, size * size * 4, 0, 0, 0, 0)
    mask_row = bytes(((size + 31) // 32) * 4)  # all zero: alpha decides transparency
    return header + b"".join(reversed(rows)) + mask_row * size


def ico_bytes(images: dict[int, object]) -> bytes:
    """A Windows .ico with one entry per size; 256 px as PNG, as Windows Vista and later expect."""
    entries = [(size, png_bytes(img) if size >= 256 else bmp_icon_bytes(img)) for size, img in sorted(images.items())]
    offset = 6 + 16 * len(entries)
    directory, blobs = b"", b""
    for size, blob in entries:
        side = 0 if size >= 256 else size  # 0 means 256 in an ICONDIRENTRY
        directory += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(blob), offset + len(blobs))
        blobs += blob
    return struct.pack("<HHH", 0, 1, len(entries)) + directory + blobs


def icns_bytes(pngs: dict[int, bytes]) -> bytes:
    """A macOS .icns: 'icns', total length, then (type, length, PNG) elements."""
    body = b"".join(kind.encode() + struct.pack(">I", 8 + len(pngs[size])) + pngs[size] for kind, size in ICNS_TYPES)
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def make_icons(svg: Path, out: Path) -> list[Path]:
    """Write station.ico, station.icns and png/station-N.png into `out`; returns the paths."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841  (QPainter needs it)
    sizes = sorted(set(ICO_SIZES) | set(PNG_SIZES) | {size for _, size in ICNS_TYPES})
    images = {size: render(svg, size) for size in sizes}
    pngs = {size: png_bytes(image) for size, image in images.items()}
    (out / "png").mkdir(parents=True, exist_ok=True)
    written = [out / "station.ico", out / "station.icns"]
    written[0].write_bytes(ico_bytes({size: images[size] for size in ICO_SIZES}))
    written[1].write_bytes(icns_bytes(pngs))
    for size in PNG_SIZES:
        path = out / "png" / f"station-{size}.png"
        path.write_bytes(pngs[size])
        written.append(path)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--svg", type=Path, default=SVG)
    parser.add_argument("--out", type=Path, default=SVG.parent, help="folder to write into (default: next to the SVG)")
    args = parser.parse_args()
    for path in make_icons(args.svg, args.out):
        print(f"wrote {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
