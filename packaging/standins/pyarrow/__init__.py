"""Stand-in for pyarrow in the Station bundle, which leaves the real one (about 80 MB) out.

databento imports pyarrow at module level but only uses it to write Parquet files
(`DBNStore.to_parquet`), which Station never calls; pandas treats pyarrow as optional.
Importing this package works; using anything in it raises ImportError, which pandas reads
as "pyarrow is not installed" (it asks for `__version__`) and which tells anyone else what
is missing. Other dunder names raise AttributeError, as introspection (inspect, shiboken's
import hook) expects of a plain module.
"""

MESSAGE = "pyarrow is not part of the Station bundle (Parquet and Arrow features are not available)"


def missing(module: str, name: str):
    """The error for `module.name`: AttributeError for introspection, else ImportError."""
    if name.startswith("__") and name != "__version__":
        return AttributeError(f"module {module!r} has no attribute {name!r}")
    return ImportError(f"{MESSAGE}: {module}.{name}")


def __getattr__(name: str):
    raise missing(__name__, name)
