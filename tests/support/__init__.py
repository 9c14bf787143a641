"""Shared test doubles and helpers (loopback peers speaking real wire protocols, launchers, waits)."""
