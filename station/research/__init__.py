"""Research: backtests and parameter sweeps of Station's own strategies over history.

A backtest runs the live pipeline itself (`pipeline.py`: engine → oms → dispatcher → paper broker) on a
DBN file at full speed (`feed.py`), on the data's own clock, and measures it with `analysis/metrics.py`
(`run.py`); `outputs.py` and `report.py` write its files. Sweeps (`sweep.py`) run one task per parameter
set (`tasks.py`) in this process, local processes or on a Dask cluster (`executors.py`); the window runs
them in a process of its own (`background.py`). `command.py` is `station backtest`.
"""
