"""How long the room page takes to render with 300 contributions, over real HTTP.

    python -m bench --scenario room [--contributions 300] [--postgres]

Seeds one workshop, brings it to the consultation and posts the contributions through the domain
(manage.py shell on the bench's throwaway database), then times GET /workshops/<id>/ as a
consultant, as the facilitator and as the client (the only one with a form on every contribution),
one request at a time, from a started server.
"""
import http.client
import json
import statistics
import time

from bench.servers import CodevServer

FILL = """
import json, uuid
from django.contrib.auth import get_user_model
from workshops import actions
seed = json.loads('''{seed}''')
w = seed["workshops"][0]
users = {{u.pk: u for u in get_user_model().objects.filter(pk__in=[m["id"] for m in w["members"]])}}
people = [users[m["id"]] for m in w["members"]]
f, c, ks = people[0], people[1], people[2:]
actions.start(w["id"], acting_user=f)
for step in (1, 2):
    actions.advance(w["id"], from_step=step, acting_user=f)
for p in [c, *ks]:
    actions.accept_rules(w["id"], acting_user=p)
actions.advance(w["id"], from_step=3, acting_user=f)
for i in range({n}):
    actions.contribute(w["id"], cid=str(uuid.uuid4()), kind=["idea", "experience", "resource", "perspective"][i % 4],
                       body="Contribution %d : une piste concrète, assez longue pour ressembler à une vraie, avec un exemple vécu." % i,
                       acting_user=ks[i % len(ks)])
"""


def timed_get(port: int, path: str, cookie: str) -> tuple[float, int, int]:
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.perf_counter()
    con.request("GET", path, headers={"Cookie": cookie, "Accept-Language": "fr"})
    answer = con.getresponse()
    body = answer.read()
    elapsed = (time.perf_counter() - started) * 1000
    con.close()
    return elapsed, answer.status, len(body)


def main(args) -> int:
    n = getattr(args, "contributions", None) or 300
    server = CodevServer(workers=1, postgres=args.postgres, redis=args.redis)
    try:
        seed = server.prepare(1)
        server.manage("shell", "-c", FILL.format(seed=json.dumps(seed), n=n))
        server.start()
        workshop = seed["workshops"][0]
        port = server.ports[0]
        figures = {}
        readers = (("consultant", workshop["members"][2]), ("facilitator", workshop["members"][0]), ("client", workshop["members"][1]))
        for label, member in readers:
            cookie = f"{seed['cookie_name']}={member['cookie']}"
            path = f"/workshops/{workshop['id']}/"
            for _ in range(5):  # warm: templates compiled, connection pool filled
                timed_get(port, path, cookie)
            runs = [timed_get(port, path, cookie) for _ in range(50)]
            statuses = {status for _t, status, _n in runs}
            times = sorted(t for t, _s, _n in runs)
            figures[label] = {"median_ms": round(statistics.median(times), 1), "p90_ms": round(times[int(0.9 * len(times)) - 1], 1),
                              "status": sorted(statuses), "kb": round(runs[-1][2] / 1024, 1)}
    finally:
        server.cleanup()
    if not args.json_only:
        print(f"room page with {n} contributions ({server.layout}), 50 requests each, one at a time:")
        for label, row in figures.items():
            print(f"  as {label:12} median {row['median_ms']} ms, p90 {row['p90_ms']} ms, {row['kb']} KB, HTTP {row['status']}")
    print(json.dumps({"scenario": "room", "contributions": n, **{f"{k}_median_ms": v["median_ms"] for k, v in figures.items()}}))
    return 0
