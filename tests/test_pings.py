"""Pings keep presence and tell a browser whether it missed an event. Thousands of open screens
ping every 25 s: the pings that wait for the database thread together share one trip
(docs/performance.md, sixth round), and each still gets its own workshop's head."""
import asyncio
import time
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async as db
from django.utils import timezone

from tests import ws
from tests.ws import receive_until, send
from workshops import presence, sessions
from workshops.batching import Batched
from workshops.errors import NotFound
from workshops.models import Presence, Workshop
from workshops.steps import Step


def long_ago(workshop, *sockets):
    """Rows for open sockets whose last ping is a minute old."""
    minute_ago = timezone.now() - timedelta(seconds=60)
    for channel, user in sockets:
        Presence.objects.create(channel_name=channel, workshop=workshop, user=user, seen_at=minute_ago)
    return minute_ago


def test_a_heartbeat_sees_each_pinging_socket_and_gives_it_its_own_workshops_head(cast):
    first = cast.at_step(Step.EXPOSE)
    second = sessions.plan_session(cast.group, facilitator=cast.claire).workshops.get()
    minute_ago = long_ago(first, ("ch-marc", cast.marc), ("ch-julien", cast.julien))
    long_ago(second, ("ch-sophie", cast.sophie))

    heads = presence.heartbeat([(first.pk, "ch-marc"), (second.pk, "ch-sophie"), (first.pk, "ch-marc")])

    assert first.seq > second.seq == 0
    assert heads == [first.seq, second.seq, first.seq]
    seen = dict(Presence.objects.values_list("channel_name", "seen_at"))
    assert seen["ch-marc"] > minute_ago and seen["ch-sophie"] > minute_ago
    assert seen["ch-julien"] == minute_ago  # did not ping: not refreshed


def test_a_workshop_gone_answers_its_own_sockets_only(cast):
    first = cast.at_step(Step.EXPOSE)
    second = sessions.plan_session(cast.group, facilitator=cast.claire).workshops.get()
    gone = second.pk
    second.delete()

    heads = presence.heartbeat([(gone, "ch-a"), (first.pk, "ch-b")])

    assert isinstance(heads[0], NotFound)
    assert heads[1] == first.seq


# --- through the sockets -------------------------------------------------------------------

committed = pytest.mark.django_db(transaction=True)  # the sockets' database thread sees what the test wrote
consumer_hygiene, sockets = ws.consumer_hygiene, ws.sockets


@committed
async def test_pings_queued_behind_a_busy_database_thread_share_one_trip(cast, sockets, monkeypatch):
    await db(cast.at_step)(Step.EXPOSE)
    names = ("claire", "marc", "sophie", "julien")
    screens = {name: await sockets.open(getattr(cast, name), cast.workshop.pk) for name in names}
    trips = []
    heartbeat = presence.heartbeat
    monkeypatch.setattr(presence, "heartbeat", lambda pinged: trips.append(len(pinged)) or heartbeat(pinged))
    before = timezone.now()
    busy = asyncio.ensure_future(db(time.sleep)(0.5))  # holds the database thread while they ping
    await asyncio.sleep(0.05)

    for ref, comm in enumerate(screens.values()):
        await send(comm, {"type": "ping", "ref": ref})
    pongs = [await receive_until(comm, lambda m: m["type"] == "pong", timeout=5) for comm in screens.values()]
    await busy

    assert trips == [4]
    head = (await db(Workshop.objects.get)(pk=cast.workshop.pk)).seq
    assert pongs == [{"type": "pong", "ref": ref, "seq": head} for ref in range(4)]
    seen = await db(lambda: list(Presence.objects.filter(workshop=cast.workshop).values_list("seen_at", flat=True)))()
    assert len(seen) == 4 and all(at >= before for at in seen)


@committed
async def test_a_ping_on_an_idle_server_is_answered_at_once_and_tells_of_a_missed_event(cast, sockets, monkeypatch):
    await db(cast.at_step)(Step.EXPOSE)
    comm = await sockets.open(cast.julien, cast.workshop.pk)
    trips = []
    heartbeat = presence.heartbeat
    monkeypatch.setattr(presence, "heartbeat", lambda pinged: trips.append(len(pinged)) or heartbeat(pinged))
    # An event that never reached this socket (a channel layer that dropped it): the pong shows it.
    await db(Workshop.objects.filter(pk=cast.workshop.pk).update)(seq=999)

    await send(comm, {"type": "ping", "ref": "p"})
    pong = await receive_until(comm, lambda m: m["type"] == "pong", timeout=2)

    assert trips == [1]
    assert pong == {"type": "pong", "ref": "p", "seq": 999}


@committed
async def test_a_ping_for_a_workshop_deleted_meanwhile_closes_the_socket(cast, sockets):
    await db(cast.at_step)(Step.EXPOSE)
    comm = await sockets.open(cast.julien, cast.workshop.pk)
    await db(Workshop.objects.filter(pk=cast.workshop.pk).delete)()

    await send(comm, {"type": "ping"})
    closed = await comm.receive_output(timeout=2)
    while closed["type"] == "websocket.send":  # the presence lists of the deletion's leaves
        closed = await comm.receive_output(timeout=2)

    assert closed == {"type": "websocket.close", "code": 4404}


# --- the batches themselves ----------------------------------------------------------------


async def test_a_batch_stops_at_its_limit_and_a_question_that_fails_fails_alone():
    trips = []

    def square(_key, numbers):
        trips.append(list(numbers))
        return [ValueError(f"no {n}") if n == 4 else n * n for n in numbers]

    batched = Batched(square, limit=3)
    busy = asyncio.ensure_future(db(time.sleep)(0.3))
    await asyncio.sleep(0.05)
    answers = await asyncio.gather(*(batched.ask("k", n) for n in range(7)), return_exceptions=True)
    await busy

    assert trips == [[0, 1, 2], [3, 4, 5], [6]]
    assert [a if isinstance(a, int) else str(a) for a in answers] == [0, 1, 4, 9, "no 4", 25, 36]
    assert not batched._waiting
