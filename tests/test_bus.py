import asyncio
import threading
from dataclasses import dataclass

import pytest

from station.bus import Bus
from station.domain.events import ErrorRaised, Event


@dataclass(frozen=True)
class Pinged(Event):
    n: int


@dataclass(frozen=True)
class LoudPinged(Pinged):
    pass


def test_a_raising_handler_is_isolated_and_reported(caplog):
    bus, seen, errors = Bus(), [], []
    bus.subscribe(ErrorRaised, errors.append)
    bus.subscribe(Pinged, lambda e: 1 / 0)
    bus.subscribe(Pinged, seen.append)
    bus.publish(Pinged(1))
    assert seen == [Pinged(1)]
    assert len(errors) == 1 and "ZeroDivisionError" in errors[0].message
    assert "failed on Pinged" in caplog.text


def test_subscribers_of_a_base_class_receive_subclasses_and_can_unsubscribe():
    bus, base, exact = Bus(), [], []
    unsubscribe = bus.subscribe(Event, base.append)
    bus.subscribe(LoudPinged, exact.append)
    bus.publish(LoudPinged(2))
    bus.publish(Pinged(3))
    assert base == [LoudPinged(2), Pinged(3)] and exact == [LoudPinged(2)]
    unsubscribe()
    bus.publish(Pinged(4))
    assert len(base) == 2


async def test_coroutine_handlers_run_as_tasks_and_their_failures_are_reported():
    bus, seen, errors = Bus(), [], []
    bus.bind(asyncio.get_running_loop())

    async def slow(event):
        await asyncio.sleep(0.01)  # the scenario: a handler that takes a while
        seen.append(event)

    async def broken(event):
        raise RuntimeError("boom")

    bus.subscribe(ErrorRaised, errors.append)
    bus.subscribe(Pinged, slow)
    bus.subscribe(Pinged, broken)
    bus.publish(Pinged(5))
    await bus.drain()
    assert seen == [Pinged(5)]
    assert [e.message for e in errors] == ["RuntimeError: boom"]


async def test_publish_threadsafe_delivers_on_the_loop_thread():
    bus, threads = Bus(), []
    bus.bind(asyncio.get_running_loop())
    done = asyncio.Event()
    bus.subscribe(Pinged, lambda e: (threads.append(threading.get_ident()), done.set()))
    worker = threading.Thread(target=bus.publish_threadsafe, args=(Pinged(6),))
    worker.start()
    worker.join()
    await asyncio.wait_for(done.wait(), 2)
    assert threads == [threading.get_ident()]


def test_publish_threadsafe_needs_a_loop():
    with pytest.raises(RuntimeError, match="not bound"):
        Bus().publish_threadsafe(Pinged(7))
