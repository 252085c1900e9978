"""Publishing a committed event (workshops/events.py): every screen gets the events in the order
they were committed, even when the layer takes its time with each one."""
import asyncio
import random
import uuid

import pytest
from channels.db import database_sync_to_async as db
from channels.layers import get_channel_layer

from tests import ws
from tests.ws import collect_until
from workshops import actions
from workshops.steps import Step

pytestmark = pytest.mark.django_db(transaction=True)
consumer_hygiene, sockets = ws.consumer_hygiene, ws.sockets


def slow_events(monkeypatch, delay):
    """The layer takes `delay()` seconds to send each event (a busy Redis, a busy loop)."""
    layer = get_channel_layer()
    send = layer.group_send

    async def group_send(group, message):
        if message["type"] == "workshop.event":
            await asyncio.sleep(delay())
        await send(group, message)

    monkeypatch.setattr(layer, "group_send", group_send)


async def test_events_reach_every_screen_in_the_order_they_were_committed(cast, sockets, monkeypatch):
    await db(cast.at_step)(Step.CONSULTATION)
    screens = [await sockets.open(getattr(cast, name), cast.workshop.pk) for name in ("claire", "marc", "julien")]
    rng = random.Random(5)
    slow_events(monkeypatch, lambda: rng.uniform(0, 0.02))  # sent one by one, each taking its time

    @db
    def many():
        for i in range(30):
            actions.contribute(cast.workshop.pk, cid=uuid.uuid4(), kind="idea", body=f"Idée {i}", acting_user=cast.sophie)

    await many()

    for screen in screens:
        got = await collect_until(screen, lambda m: m["type"] == "event" and m["data"]["contribution"]["body"] == "Idée 29", timeout=5)
        bodies = [m["data"]["contribution"]["body"] for m in got if m["type"] == "event"]
        assert bodies == [f"Idée {i}" for i in range(30)]
        seqs = [m["seq"] for m in got if m["type"] == "event"]
        assert seqs == sorted(seqs) and len(set(seqs)) == 30
