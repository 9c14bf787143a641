"""NinjaTrader destinations: TCP ports (JSON lines) and ATI accounts (order instruction files)."""
