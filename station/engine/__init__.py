"""Station's own strategies: incremental indicators, strategies, the runner (their risk rules are the oms's).

Strategies consume closed bars and publish commands on the bus; they never call a broker.
"""
