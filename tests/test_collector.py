"""The server's garbage-collector pace (codev/collector.py). With the defaults, a process holding
4,000 open sockets stopped for 0.5-0.9 s every 15-25 s to scan its oldest generation
(docs/performance.md, sixth round); `make bench` measures the pauses, this checks that the
process uvicorn loads runs with the pace that removed them."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = "import gc, codev.asgi; print(gc.get_threshold()[0], gc.get_freeze_count())"


def test_the_server_process_freezes_its_start_up_and_collects_young_objects_less_often():
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    young, frozen = map(int, done.stdout.split())

    from codev.collector import YOUNG

    assert young == YOUNG > 700  # 700: CPython's default
    assert frozen > 20_000  # Django, the apps, the templates: never scanned again
