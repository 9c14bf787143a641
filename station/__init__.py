"""Station: a desktop trading station that turns alerts and signals into orders."""

__version__ = "0.1.0"
