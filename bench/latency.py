"""Live delivery delay in one workshop of 8, over real websockets on loopback.

Starts its own server (uvicorn, SQLite in a temp dir), signs the 8 demo members in, brings the
workshop to the consultation, then each consultant posts contributions; every arrival at every
other socket is timed from the sender's submit. Prints figures; asserts nothing.

    .venv/bin/python bench/latency.py --posts 20 --pace 0.05
"""
import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(env: dict) -> tuple[int, dict[str, str], list[str]]:
    """Migrate, seed, run the workshop to the consultation; return session cookies by username."""
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    seeded = subprocess.run([sys.executable, "manage.py", "seed_demo", "--fresh", "--json"], cwd=ROOT, env=env, check=True,
                            capture_output=True, text=True)
    workshop_id = json.loads(seeded.stdout)["workshop"]  # the demo's workshop ready to start (it keeps past ones too)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore

    from workshops import actions
    from workshops.models import Case, Workshop

    workshop = Workshop.objects.get(pk=workshop_id)
    claire = workshop.facilitator
    if workshop.case_id is None:
        case = Case.objects.get(owner__username="marc", group=workshop.group, status=Case.POOL)
        actions.designate_case(workshop.pk, case.pk, acting_user=claire)
    actions.start(workshop.pk, acting_user=claire)
    for step in (1, 2):
        actions.advance(workshop.pk, from_step=step, acting_user=claire)
    members = User.objects.filter(memberships__group=workshop.group)
    for user in members.exclude(pk=claire.pk):  # the contract: the rules accepted before the consultation
        actions.accept_rules(workshop.pk, acting_user=user)
    actions.advance(workshop.pk, from_step=3, acting_user=claire)
    cookies = {}
    for user in members:
        s = SessionStore()
        s[SESSION_KEY], s[BACKEND_SESSION_KEY] = str(user.pk), "django.contrib.auth.backends.ModelBackend"
        s[HASH_SESSION_KEY] = user.get_session_auth_hash()
        s.create()
        cookies[user.username] = s.session_key
    client = Workshop.objects.select_related("case__owner").get(pk=workshop.pk).case.owner.username
    consultants = [u for u in cookies if u not in (claire.username, client)]
    return workshop.pk, cookies, consultants


async def run(port: int, workshop_id: int, cookies: dict, consultants: list[str], posts: int, pace: float):
    import websockets

    url = f"ws://127.0.0.1:{port}/ws/workshops/{workshop_id}/"
    sockets = {}
    for name, key in cookies.items():
        sockets[name] = await websockets.connect(url, origin="http://127.0.0.1", additional_headers={"Cookie": f"sessionid={key}"})
    sent: dict[str, float] = {}
    arrivals: dict[str, list[float]] = {}
    seen: dict[tuple[str, str], int] = {}

    async def listen(name, ws):
        async for raw in ws:
            msg = json.loads(raw)
            if msg.get("type") == "event" and msg.get("kind") == "contribution.added":
                cid = msg["data"]["contribution"]["cid"]
                seen[(name, cid)] = seen.get((name, cid), 0) + 1
                if cid in sent:
                    arrivals.setdefault(cid, []).append(time.perf_counter() - sent[cid])

    listeners = [asyncio.create_task(listen(n, ws)) for n, ws in sockets.items()]

    async def poster(name):
        for i in range(posts):
            cid = str(uuid.uuid4())
            sent[cid] = time.perf_counter()
            await sockets[name].send(json.dumps({"type": "contribute", "cid": cid, "ref": cid, "kind": "idea", "body": f"Idée {i} de {name}"}))
            await asyncio.sleep(pace)

    started = time.perf_counter()
    await asyncio.gather(*(poster(n) for n in consultants))
    deadline = time.time() + 10
    expected = len(sent) * len(sockets)
    while sum(len(v) for v in arrivals.values()) < expected and time.time() < deadline:
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    for t in listeners:
        t.cancel()
    for ws in sockets.values():
        await ws.close()
    delays = sorted(d * 1000 for v in arrivals.values() for d in v)
    received = len(delays)
    duplicated = sum(n - 1 for n in seen.values() if n > 1)
    q = statistics.quantiles(delays, n=100) if len(delays) > 1 else [0] * 99
    return {
        "participants": len(sockets),
        "events": len(sent),
        "deliveries": received,
        "lost": expected - received + duplicated,
        "duplicated": duplicated,
        "p50_ms": round(q[49], 1),
        "p99_ms": round(q[98], 1),
        "max_ms": round(delays[-1], 1) if delays else None,
        "seconds": round(elapsed, 2),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=20, help="contributions per consultant")
    parser.add_argument("--pace", type=float, default=0.05, help="seconds between two posts of one consultant")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="codev-bench-")
    env = {**os.environ, "CODEV_VAR_DIR": tmp, "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3", "DJANGO_SETTINGS_MODULE": "codev.settings"}
    env.pop("REDIS_URL", None)
    workshop_id, cookies, consultants = prepare(env)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "codev.asgi:application", "--port", str(port), "--no-access-log", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        result = asyncio.run(run(port, workshop_id, cookies, consultants, args.posts, args.pace))
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"{result['participants']} participants, {result['events']} contributions, {result['deliveries']} deliveries in {result['seconds']} s")
    print(f"delay submit → every screen: p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, max {result['max_ms']} ms; lost {result['lost']}, duplicated {result['duplicated']}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
