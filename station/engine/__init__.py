"""Station's own strategies: incremental indicators, strategies, the runner and risk rules.

Strategies consume closed bars and publish commands on the bus; they never call a broker.
"""
