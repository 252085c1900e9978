"""Speaking turns over real sockets: a raised hand reaches everyone live, the floor moves for all,
the facilitator alone is told to fetch his figures again (they never travel in an event), and
refusals come back to the sender, in his language."""
import json

import pytest
from channels.db import database_sync_to_async as db
from django.test import Client
from django.urls import reverse

from tests import ws
from tests.conftest import make_user
from tests.ws import command, content, events_of
from workshops import actions
from workshops.models import Membership
from workshops.steps import Step

pytestmark = pytest.mark.django_db(transaction=True)
consumer_hygiene, sockets = ws.consumer_hygiene, ws.sockets


async def open_room(cast, sockets, step=Step.CLARIFICATION):
    await db(cast.at_step)(step)
    people = {name: getattr(cast, name) for name in ("claire", "marc", "sophie", "julien")}
    return {name: await sockets.open(user, cast.workshop.pk) for name, user in people.items()}


def speaking_html(message) -> str:
    return next(op["html"] for op in message["ops"] if op["op"] == "upsert" and 'id="speaking"' in op["html"])


class Heard:
    """What each socket heard, the frames a command's own wait read included."""

    def __init__(self, room):
        self.room = room
        self.frames = {name: [] for name in room}

    async def command(self, name, message):
        reply, before = await command(self.room[name], message)
        self.frames[name] += before
        return reply

    async def until(self, seq):
        for name, comm in self.room.items():
            self.frames[name] += await ws.collect_until_seq(comm, seq)
        return {name: content(frames) for name, frames in self.frames.items()}


def speaking_changes(frames) -> list[dict]:
    return [m for m in events_of(frames) if m["kind"] == "speaking.changed"]


async def sentinel(cast) -> int:
    """A change everyone hears of, after what the test did."""
    return (await db(actions.control_timer)(cast.workshop.pk, op="extend", minutes=1, acting_user=cast.claire)).seq


async def test_a_raised_hand_reaches_everyone_in_order(cast, sockets):
    heard = Heard(await open_room(cast, sockets))
    assert (await heard.command("julien", {"type": "raise_hand"}))["type"] == "ack"
    assert (await heard.command("sophie", {"type": "raise_hand"}))["type"] == "ack"
    for name, frames in (await heard.until(await sentinel(cast))).items():
        changes = speaking_changes(frames)
        assert len(changes) == 2, name
        html = speaking_html(changes[-1])
        queue = html.split('id="hand-queue"')[1]
        assert queue.index("Julien Petit") < queue.index("Sophie Bernard"), name
        # The facilitator gets a "give the floor" button per hand; the others, their own buttons.
        assert ('data-type="give_floor"' in html) == (name == "claire"), name
        own = html.split('id="hand-queue"')[0]
        if name in ("sophie", "julien"):
            assert 'data-type="lower_hand"' in own and 'data-type="raise_hand"' not in own, name
        elif name == "marc":
            assert 'data-type="raise_hand"' in own, name


async def test_the_floor_moves_for_everyone_and_figures_stay_with_the_facilitator(cast, sockets):
    lea = await db(make_user)("lea", "Léa", "Martin")
    await db(Membership.objects.create)(group=cast.group, user=lea)
    heard = Heard(await open_room(cast, sockets, Step.CONSULTATION))
    assert (await heard.command("sophie", {"type": "speak", "on": True}))["type"] == "ack"
    assert (await heard.command("claire", {"type": "give_floor", "user_id": cast.marc.pk}))["type"] == "ack"
    for name, frames in (await heard.until(await sentinel(cast))).items():
        changes = speaking_changes(frames)
        assert [m["data"]["speaking"]["speaker"]["person"]["id"] for m in changes] == [cast.sophie.pk, cast.marc.pk], name
        assert "Marc Lefèvre" in speaking_html(changes[-1]), name
        refreshes = [op for m in changes for op in m["ops"] if op["op"] == "refresh"]
        assert bool(refreshes) == (name == "claire"), name
        text = json.dumps(frames, ensure_ascii=False)
        assert "speaking-hint" not in text and 'id="speaking-balance"' not in text, name  # figures never travel in events
    # The facilitator fetches them; nobody else may.
    url = reverse("workshop_clock", args=[cast.workshop.pk])
    assert await db(_status)(cast.claire, url) == 200
    for user in (cast.marc, cast.sophie, lea):
        assert await db(_status)(user, url) == 403


def _status(user, url) -> int:
    client = Client()
    client.force_login(user)
    return client.get(url).status_code


async def test_refusals_reach_the_sender_only_in_his_language(cast, sockets):
    room = await open_room(cast, sockets)
    reply, _ = await command(room["claire"], {"type": "raise_hand"})
    assert (reply["type"], reply["code"]) == ("error", "refused") and reply["message"]
    reply, _ = await command(room["sophie"], {"type": "give_floor", "user_id": cast.julien.pk})
    assert (reply["type"], reply["code"]) == ("error", "refused")
    reply, _ = await command(room["claire"], {"type": "give_floor", "user_id": cast.olivier.pk})
    assert (reply["type"], reply["code"]) == ("error", "not_found")
    reply, _ = await command(room["claire"], {"type": "give_floor", "user_id": "Julien"})
    assert (reply["type"], reply["code"]) == ("error", "invalid")
    reply, _ = await command(room["claire"], {"type": "timer", "op": "pause"})
    assert reply["type"] == "ack"
    reply, _ = await command(room["julien"], {"type": "speak", "on": True})
    assert (reply["type"], reply["code"]) == ("error", "refused") and reply["message"]
    # Nobody else heard any of it: the next thing Marc hears is the sentinel, after the pause.
    resumed = await db(actions.control_timer)(cast.workshop.pk, op="resume", acting_user=cast.claire)
    frames = content(await ws.collect_until_seq(room["marc"], resumed.seq))
    assert all(m["type"] not in ("error", "ack") for m in frames), frames
