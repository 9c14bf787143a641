"""Built-in benchmarks: `station bench NAME [--json]`.

Each benchmark is a module `station/bench/<name>.py` with
`run(options) -> dict`: figures, ratios against a baseline measured in the
same run, and the command's own description. Nothing here asserts a timing.
"""

from __future__ import annotations

import importlib
import json
import pkgutil


def available() -> list[str]:
    """Names of the benchmarks shipped."""
    return sorted(info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_"))


def run_bench(name: str, options, *, as_json: bool) -> int:
    """Run one benchmark and print its figures (one JSON line with --json)."""
    module = importlib.import_module(f"{__name__}.{name}")
    result = {"bench": name, **module.run(options)}
    if as_json:
        print(json.dumps(result, separators=(",", ":")))
    else:
        width = max(len(k) for k in result)
        for key, value in result.items():
            print(f"{key:<{width}}  {value}")
    return 0
