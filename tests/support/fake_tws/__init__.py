"""A loopback fake TWS speaking the real TWS socket protocol, so ib_async runs unchanged against it."""

from .server import FakeTWS
from .wire import SERVER_VERSION, FakeExecution, FakeOrder

__all__ = ["FakeTWS", "FakeOrder", "FakeExecution", "SERVER_VERSION"]
