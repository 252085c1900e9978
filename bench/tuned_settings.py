"""Codev's settings plus a change to measure before adopting it (`python -m bench --settings
bench.tuned_settings`). Not for production.

Its first use, persistent database connections, is now Codev's default (codev/settings.py;
docs/performance.md, change 1). Today it logs the server's garbage-collector pauses of 50 ms and
more, as they happen, in the server log whose tail the bench prints: a stop of the whole process
that no profile of the code shows. To measure without persistent connections:
`DATABASE_CONN_MAX_AGE=0 python -m bench …` (the server inherits the environment).
"""
import gc
import sys
import time

from codev.settings import *  # noqa: F403

_started = [0.0]


def _on_gc(phase: str, info: dict) -> None:
    if phase == "start":
        _started[0] = time.perf_counter()
        return
    pause = time.perf_counter() - _started[0]
    if pause >= 0.05:
        print(f"{time.strftime('%H:%M:%S')} gc pause: generation {info['generation']}, {1000 * pause:.0f} ms",
              file=sys.stderr, flush=True)


gc.callbacks.append(_on_gc)
