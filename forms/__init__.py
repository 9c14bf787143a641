"""Qt Designer forms (`*.ui`), shipped as the package `station.forms`."""
