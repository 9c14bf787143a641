"""Order management: routing alerts, signals and clicks to destinations; orders, fills, positions, PnL."""
