"""Bars: time and tick bar builders, session grids and calendars, timeframes, the numpy columns behind them."""
