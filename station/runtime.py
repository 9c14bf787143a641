"""Running the core without a window: a plain asyncio loop, stopped by SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal

from station.app import Options, Station
from station.store.secret_store import SecretStore

log = logging.getLogger("station.app")


def run_headless(options: Options, secrets: SecretStore) -> int:
    """Serve until SIGINT/SIGTERM, then finish in-flight requests, commit and return 0."""
    with asyncio.Runner() as runner:
        return runner.run(_serve(options, secrets))


async def _serve(options: Options, secrets: SecretStore) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError):  # Windows: no loop signal handlers
            signal.signal(signum, lambda *_: loop.call_soon_threadsafe(stop.set))
    station = Station(options, secrets)
    try:
        await station.start()
    except BaseException:
        await station.stop()
        raise
    gc.enable()  # off while starting (station/cli.py); what start-up made is frozen by Station.start
    print(f"Station listening on {station.receiver.url} (data: {options.data_dir})", flush=True)
    if station.rest.token.created:  # shown once, here, so a headless user can call /api at all
        print(f"Created the REST API token (secret api-token): {station.rest.token.current_value()}", flush=True)
    await stop.wait()
    log.info("stop requested")
    await station.stop()
    return 0
