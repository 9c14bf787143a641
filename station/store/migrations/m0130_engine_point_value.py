"""Engine objects stop carrying the point value 1 the schema used to fill in: unset, a strategy's risk sizing takes
the ticker's `point_value` setting, else the futures table (ES 50), as positions, analyze and backtests do.

Until now every engine was stored with `point_value: 1` whether the trader chose it or not (the schema's default,
shown in the engine editor), which sized an ES entry as if a point were worth $1.
"""

import json

from station.store.migrations import MigrationDb


def apply(db: MigrationDb) -> None:
    for table, key in (("strategies", "name"), ("strategy_tickers", "rowid")):
        for row_key, options in db.execute(f"SELECT {key}, options FROM {table}").fetchall():
            document = json.loads(options or "{}")
            engine = document.get("engine")
            if isinstance(engine, dict) and engine.get("point_value") in (1, 1.0, "1"):
                del engine["point_value"]
                db.execute(f"UPDATE {table} SET options = ? WHERE {key} = ?", (json.dumps(document), row_key))
