"""The load bench, small: a few workshops for a few seconds over real websockets.

It asserts only that nothing was lost and nothing duplicated; speed is measured by `make bench`,
never asserted. On the PostgreSQL pass of the suite (DATABASE_URL=postgres://…, Redis reachable)
it runs the scaled layout: two workers on PostgreSQL + Redis.
"""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent


def _answers(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=1).close()
        return True
    except OSError:
        return False


def _layout() -> list[str]:
    database = os.environ.get("DATABASE_URL", "")
    redis = os.environ.get("REDIS_URL", "")
    if database.startswith("postgres") and redis and _answers(redis, 6379):
        return ["--workers", "2", "--postgres", database, "--redis", redis]
    return []


def test_a_small_bench_loses_nothing_and_duplicates_nothing():
    args = [sys.executable, "-m", "bench", "--workshops", "3", "--seconds", "3", "--pace", "1", "--ramp", "1",
            "--drain", "5", "--no-baseline", "--json-only", *_layout()]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, f"the bench printed no JSON line (exit {done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    result = json.loads(lines[-1])
    assert result["participants"] == 24 and result["events"] > 0, result
    assert result["lost"] == 0, result
    assert result["duplicated"] == 0, result


def test_the_bench_counts_a_lost_and_a_duplicated_delivery():
    """The accounting behind the smoke test: one screen misses an event, another gets one twice."""
    from bench.client import Stats, Workshop, figures

    members = [{"id": i, "role": "consultant", "cookie": "x"} for i in range(1, 9)]
    spec = {"random_seed": 1, "baseline": False}
    stats = Stats()
    workshop = Workshop(spec, {"id": 7, "seq": 1, "members": members}, ["ws://127.0.0.1:1"], stats, 0)
    sender = workshop.people[2]
    stats.submits.append((7, sender.id, ("cid", "c-1"), 0.0, "contribute"))
    event = json.dumps({"type": "event", "seq": 2, "kind": "contribution.added",
                        "data": {"contribution": {"id": 1, "cid": "c-1"}}})
    for person in workshop.people[:-1]:  # the last screen never gets it
        person._receive(event)
    workshop.people[0]._receive(event)  # the first one gets it twice, live
    # A title edit re-sent after a reconnect is recorded again and replaces itself on screen: not a duplicate.
    for seq in (3, 4):
        workshop.people[1]._receive(json.dumps({"type": "event", "seq": seq, "kind": "case.updated", "data": {"case": {"title": "T"}}}))
    result = figures([workshop], stats)
    assert (result["lost"], result["duplicated"]) == (1, 1)
    assert result["deliveries"] == 6  # the six other screens that got it, the sender excluded


def test_the_step_scenario_builds_a_rooms_eight_screens_with_fewer_queries_together():
    args = [sys.executable, "-m", "bench", "--scenario", "step", "--contributions", "3", "--json-only"]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=180)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, f"the bench printed no JSON line (exit {done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    result = json.loads(lines[-1])
    assert result["one_by_one_ms"] > 0 and result["together_ms"] > 0, result
    assert result["together_queries"] < result["one_by_one_queries"], result


def test_the_bare_server_alone_plays_the_same_script_without_loss():
    args = [sys.executable, "-m", "bench", "--workshops", "2", "--seconds", "2", "--pace", "1", "--ramp", "1",
            "--drain", "5", "--baseline-only", "--json-only"]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, f"the bench printed no JSON line (exit {done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    result = json.loads(lines[-1])
    assert "bare fan-out server alone" in result["layout"], result
    assert result["participants"] == 16 and result["events"] > 0, result
    assert (result["lost"], result["duplicated"]) == (0, 0), result


def test_the_clients_own_collector_pauses_are_told_apart_from_the_window():
    """A delay is stamped when a client reads the frame: its own pauses are reported, not hidden."""
    import gc

    from bench.client import Pauses

    pauses = Pauses()
    try:
        gc.collect()
        assert pauses.log, "a collection was not recorded"
        pauses.log[:] = [(10.0, 0.050), (20.0, 0.004), (21.0, 0.002), (40.0, 0.200)]
        assert pauses.figures(15.0, 30.0) == {"gc_max_ms": 200.0, "gc_window_max_ms": 4.0, "gc_window_ms": 6.0}
    finally:
        gc.callbacks.remove(pauses._on_gc)
