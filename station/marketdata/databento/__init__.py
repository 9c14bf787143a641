"""Databento: DBN files (read and write), historical data, the live client and its hand-off, symbology."""
