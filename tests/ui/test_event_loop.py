"""The one loop: qasync under asyncio.Runner, PySide6 overrides, uncaught errors made visible."""

import asyncio
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QPushButton, QWidget

from support.launch import run_qt
from support.wait import until
from station.app import install_exception_handlers
from station.bus import Bus
from station.domain.events import ErrorRaised


class Painted(QWidget):
    """A widget with a Python override of a void Qt method (the PySide6 6.12 + 3.11 trap)."""

    def __init__(self):
        super().__init__()
        self.paints = 0
        self.resize(50, 50)

    def paintEvent(self, event):  # noqa: N802
        self.paints += 1


def test_none_refcount_survives_many_loop_callbacks_and_paints(qtbot):
    """PySide6 6.12.0 on 3.11 drops a reference to None per override call; qasync would abort."""
    widget = Painted()
    qtbot.addWidget(widget)
    widget.show()

    async def scenario():
        before = sys.getrefcount(None)
        done = asyncio.Event()
        count = 0
        loop = asyncio.get_running_loop()

        def tick():
            nonlocal count
            count += 1
            if count < 20_000:
                loop.call_soon(tick)
            else:
                done.set()

        loop.call_soon(tick)
        await done.wait()
        for _ in range(300):
            widget.repaint()
        await asyncio.sleep(0)
        return before, sys.getrefcount(None), count

    before, after, count = run_qt(scenario, timeout=120)
    assert count == 20_000 and widget.paints >= 300
    # the bug loses ~1 reference per callback (20,000+); normal churn is a few dozen either way
    assert after >= before - 500, (before, after)


def test_asyncio_runner_with_qasync_runs_threads_with_their_own_loops():
    """qasync.run on 3.11 sets a global policy that breaks loops made in threads; Runner does not."""
    import threading

    async def scenario():
        kinds = []

        def worker():
            loop = asyncio.new_event_loop()
            kinds.append(type(loop).__name__)
            loop.close()

        thread = threading.Thread(target=worker)
        thread.start()
        await asyncio.get_running_loop().run_in_executor(None, thread.join)
        return kinds

    assert run_qt(scenario) == ["_UnixSelectorEventLoop"]


def test_uncaught_errors_in_tasks_and_slots_are_logged_and_published(qtbot, caplog):
    errors = []
    old_hook = sys.excepthook

    async def scenario():
        bus = Bus()
        bus.bind(asyncio.get_running_loop())
        bus.subscribe(ErrorRaised, errors.append)
        install_exception_handlers(asyncio.get_running_loop(), bus)

        async def failing_task():
            raise RuntimeError("task died")

        task = asyncio.ensure_future(failing_task())
        await until(task.done, what="the task to fail")
        del task  # an un-awaited failed task is reported when collected
        import gc
        gc.collect()
        button = QPushButton()
        button.clicked.connect(lambda: 1 / 0)
        QTimer.singleShot(0, button.click)
        await until(lambda: any("ZeroDivisionError" in e.message for e in errors), what="the slot's error published")
        QApplication.processEvents()

    try:
        run_qt(scenario)
    finally:
        sys.excepthook = old_hook
    messages = [e.message for e in errors]
    assert any("task died" in m for m in messages), messages
    assert any("ZeroDivisionError" in m for m in messages), messages
    assert "task died" in caplog.text


def test_garbage_is_collected_on_the_gui_thread_only(qtbot):
    """Automatic GC could free a QObject from a worker thread (Qt then crashes on its timers)."""
    import gc
    import threading
    import weakref

    from station.ui.gc_guard import MainThreadGarbageCollector

    was_enabled = gc.isenabled()
    collector = MainThreadGarbageCollector(interval_ms=10_000)
    assert not gc.isenabled()

    class Node:
        pass

    freed_in = []
    node = Node()
    node.self = node  # a cycle: only the cyclic collector can free it
    weakref.finalize(node, lambda: freed_in.append(threading.current_thread().name))
    del node

    def allocate_in_a_worker():
        junk = [[] for _ in range(50_000)]  # enough allocations to trigger an automatic collection
        del junk

    worker = threading.Thread(target=allocate_in_a_worker, name="worker")
    worker.start()
    worker.join()
    assert freed_in == []  # the worker's allocations did not collect
    collector.threshold = (0, 0, 0)
    collector.check()
    assert freed_in == [threading.main_thread().name]
    collector.stop()
    assert gc.isenabled()
    if not was_enabled:
        gc.disable()
