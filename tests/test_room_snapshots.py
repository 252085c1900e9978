"""A step change sends the whole room to every screen of the group at once. `room.snapshots`
builds those rooms together (docs/performance.md, fifth round): each reader must get exactly the
room he would have had alone, his own parts and his language included, and nothing of another's."""
import asyncio
import re
import time
import uuid

import pytest
from channels.db import database_sync_to_async as db
from django.contrib.auth import get_user_model
from django.utils import timezone, translation

from tests import ws
from tests.ws import receive_until
from workshops import actions, consumers, presence, room, speaking
from workshops.errors import Forbidden, NotFound
from workshops.models import Membership, Workshop
from workshops.steps import Step

CID = re.compile(r'name="cid" value="([0-9a-f-]{36})"')


def alone(workshop_id, user, language, batch):
    """The room as `user` alone would have it at the batch's instant: the page's path."""
    with translation.override(language):
        return room.render_room(room.context(Workshop.objects.get(pk=workshop_id), user, batch=batch))


def cids(html: str) -> list[str]:
    return CID.findall(html)


def same_but_cids(html: str) -> str:
    """Every form's new identifier is fresh in each rendering: compare the rest."""
    return CID.sub('name="cid" value="…"', html)


def more_consultants(cast, n=2):
    users = [get_user_model().objects.create_user(f"consultant{i}", first_name=f"Consultant{i}") for i in range(n)]
    for user in users:
        Membership.objects.create(group=cast.group, user=user)
    return users


def test_each_reader_of_a_batch_gets_the_very_room_he_would_have_alone(cast, monkeypatch):
    extra = more_consultants(cast)
    workshop = cast.at_step(Step.CONSULTATION)
    actions.write_note(workshop.pk, cid=uuid.uuid4(), body="Julien private thought", acting_user=cast.julien)
    speaking.raise_hand(workshop.pk, acting_user=extra[0])
    actions.contribute(workshop.pk, cid=uuid.uuid4(), kind="idea", body="Un rituel du lundi", acting_user=cast.sophie)
    readers = [(cast.claire, "fr"), (cast.marc, "fr"), (cast.sophie, "fr"), (cast.julien, "fr"), (extra[0], "fr"),
               (extra[1], "fr"), (cast.sophie, "en")]
    now = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: now)  # one instant for both paths: times are rendered
    renders = []
    render_room = room.render_room
    monkeypatch.setattr(room, "render_room", lambda ctx: renders.append(ctx["viewer"]["id"]) or render_room(ctx))

    results = room.snapshots(workshop.pk, readers)

    assert len(renders) < len(readers)  # the consultants who see the room alike share one rendering
    batch = room.Batch(now, presence.people(workshop.pk))
    for (user, language), (viewer, seq, html, _timer) in zip(readers, results, strict=True):
        assert viewer["id"] == user.pk and seq == Workshop.objects.get(pk=workshop.pk).seq
        assert same_but_cids(html) == same_but_cids(alone(workshop.pk, user, language, batch)), (user.username, language)
    by_reader = {(user.username, language): html for (user, language), (_v, _s, html, _t) in zip(readers, results, strict=True)}
    assert "Julien private thought" in by_reader[("julien", "fr")]
    assert "Julien private thought" not in by_reader[("sophie", "fr")] + by_reader[("consultant1", "fr")]
    assert by_reader[("sophie", "fr")] != by_reader[("sophie", "en")]  # each reader's own language
    assert by_reader[("consultant0", "fr")] != by_reader[("consultant1", "fr")]  # a raised hand is one's own
    every_cid = [cid for _v, _s, html, _t in results for cid in cids(html)]
    assert len(set(every_cid)) == len(every_cid) >= len(readers)  # never one form's identifier for two readers


def test_two_consultants_who_see_the_same_room_never_post_under_one_identifier(cast):
    """Their rooms are rendered once; had their note forms one identifier, the second note would be
    taken for a resend of the first and never stored."""
    workshop = cast.at_step(Step.CONSULTATION)
    (_v1, _s1, sophie, _t1), (_v2, _s2, julien, _t2) = room.snapshots(workshop.pk, [(cast.sophie, "fr"), (cast.julien, "fr")])
    note = re.compile(r'data-type="write_note".*?name="cid" value="([0-9a-f-]{36})"', re.S)
    sophie_cid, julien_cid = note.search(sophie).group(1), note.search(julien).group(1)

    actions.write_note(workshop.pk, cid=sophie_cid, body="La note de Sophie", acting_user=cast.sophie)
    actions.write_note(workshop.pk, cid=julien_cid, body="La note de Julien", acting_user=cast.julien)

    assert sorted(workshop.notes.values_list("body", flat=True)) == ["La note de Julien", "La note de Sophie"]


def test_a_reader_no_longer_in_the_group_is_refused_and_the_others_still_get_their_room(cast):
    workshop = cast.at_step(Step.EXPOSE)
    Membership.objects.filter(group=cast.group, user=cast.julien).delete()

    results = room.snapshots(workshop.pk, [(cast.sophie, "fr"), (cast.julien, "fr"), (cast.olivier, "en")])

    assert isinstance(results[0], tuple) and 'data-step="1"' in results[0][2]
    assert isinstance(results[1], Forbidden) and isinstance(results[2], Forbidden)
    assert "not a member" in str(results[2])  # in the reader's own language


def test_a_workshop_that_is_gone_is_not_found_for_every_reader(cast):
    workshop = cast.at_step(Step.EXPOSE)
    missing = workshop.pk + 1000

    results = room.snapshots(missing, [(cast.sophie, "fr"), (cast.claire, "fr")])

    assert all(isinstance(result, NotFound) for result in results)


def test_a_room_built_for_a_batch_reads_the_database_a_few_times_not_once_per_screen(cast, django_assert_max_num_queries):
    extra = more_consultants(cast, 4)  # a room of eight
    workshop = cast.at_step(Step.CONSULTATION)
    readers = [(user, "fr") for user in (cast.claire, cast.marc, cast.sophie, cast.julien, *extra)]
    alone_queries = 8 * 8  # each screen alone: its access, the workshop again, its own parts, the presence list

    with django_assert_max_num_queries(alone_queries // 2):
        room.snapshots(workshop.pk, readers)


# --- through the sockets -------------------------------------------------------------------

committed = pytest.mark.django_db(transaction=True)  # the sockets' database thread sees what the test wrote
consumer_hygiene, sockets = ws.consumer_hygiene, ws.sockets


@committed
async def test_a_busy_server_sends_a_step_change_to_a_whole_room_in_one_batch(cast, sockets, monkeypatch):
    """While the database thread is busy, the room's screens wait together for the new step; each
    gets its own room (the facilitator's controls, the client's role, the consultant's note)."""
    await db(cast.at_step)(Step.EXPOSE)
    await db(actions.write_note)(cast.workshop.pk, cid=uuid.uuid4(), body="Une note de Julien", acting_user=cast.julien)
    names = ("claire", "marc", "sophie", "julien")
    screens = {name: await sockets.open(getattr(cast, name), cast.workshop.pk) for name in names}
    batches = []
    snapshots = room.snapshots
    monkeypatch.setattr(room, "snapshots", lambda wid, readers: batches.append(len(readers)) or snapshots(wid, readers))
    await db(actions.advance)(cast.workshop.pk, from_step=1, acting_user=cast.claire)
    busy = asyncio.ensure_future(db(time.sleep)(0.5))  # holds the database thread while the screens ask

    rooms = {name: await receive_until(comm, lambda m: m["type"] == "snapshot", timeout=5) for name, comm in screens.items()}
    await busy
    assert batches == [4]
    html = {name: got["ops"][0]["html"] for name, got in rooms.items()}
    assert all('data-step="2"' in page for page in html.values())
    assert 'data-type="advance"' in html["claire"] and 'data-type="advance"' not in html["sophie"]
    assert "Une note de Julien" in html["julien"] and "Une note de Julien" not in html["sophie"]
    assert len({got["seq"] for got in rooms.values()}) == 1


@committed
async def test_a_socket_that_leaves_while_its_room_is_built_does_not_stop_the_others(cast, sockets):
    await db(cast.at_step)(Step.EXPOSE)
    screens = {name: await sockets.open(getattr(cast, name), cast.workshop.pk) for name in ("claire", "sophie", "julien")}
    await db(actions.advance)(cast.workshop.pk, from_step=1, acting_user=cast.claire)
    busy = asyncio.ensure_future(db(time.sleep)(0.3))
    await asyncio.sleep(0.05)  # the snapshots are asked for, the database thread still busy
    await sockets.close(screens.pop("julien"))

    for name, comm in screens.items():
        got = await receive_until(comm, lambda m: m["type"] == "snapshot", timeout=5)
        assert 'data-step="2"' in got["ops"][0]["html"], name
    await busy
    assert not consumers.SNAPSHOTS._waiting  # nothing left waiting for a trip that will never come
