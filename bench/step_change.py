"""What one step change costs the server: the whole room for each of a group's 8 screens.

    python -m bench --scenario step [--contributions 30] [--postgres]

Seeds one workshop on the bench's throwaway database, brings it to the consultation with some
contributions (bench/room_page.py's FILL), then times, in one process (manage.py shell, no HTTP,
no socket), the rooms of the 8 members built as each socket built its own before the fifth round
(access check, `room.context`, `render_room`, one after the other) and as `room.snapshots` builds
them together now. What is alike for all (`room.shared`) is forgotten before each round, as it is
for a new sequence number.
"""
import json

from bench.room_page import FILL
from bench.servers import CodevServer

TIMING = """
import json, statistics, time
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from workshops import room
from workshops.models import Workshop
from workshops.people import access_workshop
seed = json.loads('''{seed}''')
w = seed["workshops"][0]
users = {{u.pk: u for u in get_user_model().objects.filter(pk__in=[m["id"] for m in w["members"]])}}
people = [users[m["id"]] for m in w["members"]]

def one_by_one():
    for user in people:
        with translation.override("fr"):
            workshop = access_workshop(user, w["id"], rows=Workshop.objects.all())
            room.render_room(room.context(workshop, user, reuse=True))

def together():
    room.snapshots(w["id"], [(user, "fr") for user in people])

figures = {{}}
for name, build in (("one_by_one", one_by_one), ("together", together)):
    times = []
    for i in range({rounds} + 5):
        room._shared.clear()
        started = time.perf_counter()
        build()
        if i >= 5:  # warm-up: templates compiled, connection open
            times.append((time.perf_counter() - started) * 1000)
    room._shared.clear()
    with CaptureQueriesContext(connection) as queries:
        build()
    figures[name] = {{"median_ms": round(statistics.median(times), 1), "queries": len(queries)}}
print(json.dumps(figures))
"""


def main(args) -> int:
    n = args.contributions or 30
    rounds = 30
    server = CodevServer(workers=1, postgres=args.postgres, redis=args.redis)
    try:
        seed = server.prepare(1)
        server.manage("shell", "-c", FILL.format(seed=json.dumps(seed), n=n))
        figures = json.loads(server.manage("shell", "-c", TIMING.format(seed=json.dumps(seed), rounds=rounds)).strip().splitlines()[-1])
    finally:
        server.cleanup()
    if not args.json_only:
        print(f"a step change's rooms for a group of 8, {n} contributions ({server.layout}), median of {rounds}:")
        for label, row in figures.items():
            print(f"  {label.replace('_', ' '):11} {row['median_ms']} ms, {row['queries']} queries")
    print(json.dumps({"scenario": "step", "contributions": n, **{f"{k}_ms": v["median_ms"] for k, v in figures.items()},
                      **{f"{k}_queries": v["queries"] for k, v in figures.items()}}))
    return 0
