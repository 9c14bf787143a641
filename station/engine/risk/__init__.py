"""The engine's risk rules (behind the oms's hook, `station.domain.risk.RiskRule`) and position sizing."""
