"""Why a data dir cannot be used, as one line the command line prints before exiting 2."""


class StoreError(RuntimeError):
    """The database cannot be used; the message says why and where, in one line."""
