"""Measure a built bundle: its size, the biggest parts, and cold start to the first paint.

    python packaging/measure.py [--bundle dist/station] [--deb dist/station_X_amd64.deb] [--runs 5]

Start time is wall time from spawning `station --demo --smoke` (off screen, fresh data
folder each run) until it prints "first paint", the median of --runs starts; with --cold
the page cache is dropped before each start, so the bundle is read from disk.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from station.bench.start import time_to_first_paint  # noqa: E402


def drop_page_cache() -> None:
    """Make the next start read the bundle from disk (Linux, as root)."""
    os.sync()
    Path("/proc/sys/vm/drop_caches").write_text("3\n")


def start_to_first_paint(executable: Path, runs: int, cold: bool = False) -> list[float]:
    """Seconds from spawn to the "first paint" line, one per run."""
    times = []
    for _ in range(runs):
        if cold:
            drop_page_cache()
        times.append(time_to_first_paint([str(executable)]))
    return times


def biggest_parts(bundle: Path, count: int = 12) -> list[tuple[str, int]]:
    """Top-level folders and files of _internal (or the bundle) by size."""
    base = bundle / "_internal" if (bundle / "_internal").is_dir() else bundle
    sizes: Counter[str] = Counter()
    for path in base.rglob("*"):
        if path.is_file() and not path.is_symlink():
            parts = path.relative_to(base).parts
            key = "/".join(parts[:3]) if parts[0] == "PySide6" and len(parts) > 3 else parts[0]
            sizes[key] += path.stat().st_size
    return sizes.most_common(count)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / "station")
    parser.add_argument("--deb", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cold", action="store_true", help="drop the page cache before each start (Linux, root)")
    args = parser.parse_args()
    total = sum(p.stat().st_size for p in args.bundle.rglob("*") if p.is_file() and not p.is_symlink())
    print(f"bundle {args.bundle}: {total / 1e6:.1f} MB")
    for name, size in biggest_parts(args.bundle):
        print(f"  {size / 1e6:7.1f} MB  {name}")
    if args.deb:
        print(f"deb {args.deb}: {args.deb.stat().st_size / 1e6:.1f} MB")
    times = start_to_first_paint(args.bundle / "station", args.runs, args.cold)
    print(f"{'cold ' if args.cold else ''}start to first paint: median {statistics.median(times):.3f} s over {args.runs} runs "
          f"({', '.join(f'{t:.3f}' for t in times)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
