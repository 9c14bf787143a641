"""Stand-in for pyarrow.parquet in the Station bundle (see pyarrow/__init__.py here)."""

from pyarrow import missing


def __getattr__(name: str):
    raise missing(__name__, name)
