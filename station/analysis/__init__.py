"""Alerts ↔ orders ↔ fills analysis with pandas: matching, metrics, CSV exports and an HTML report.

Imports domain and store only (never Qt). `station.analysis.export.run_analysis` is the entry
point for `station analyze` and the window's File > Analyze…; pandas loads only then.
"""
