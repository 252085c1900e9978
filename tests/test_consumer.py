"""The room's websocket, end to end: real ASGI application, real database, real channel layer
(in-memory, or Redis pub/sub with REDIS_URL). What each member's socket receives, and what not."""
import asyncio
import re
import time
import uuid

import pytest
from channels.db import database_sync_to_async as db
from channels.layers import get_channel_layer
from django.utils import translation

from tests import ws
from tests.ws import (
    collect_until,
    command,
    content,
    events_of,
    is_open,
    receive_until,
    send,
)
from workshops import actions
from workshops.events import STRUCTURAL, workshop_group
from workshops.models import Contribution, Event, Learning, Membership, PlannedAction, Presence, PrivateNote, Workshop
from workshops.steps import REFUSALS, Act

pytestmark = pytest.mark.django_db(transaction=True)
consumer_hygiene, sockets = ws.consumer_hygiene, ws.sockets  # fixtures: per-test layer, sockets closed after

MEMBERS = ("claire", "marc", "sophie", "julien")


# --- helpers --------------------------------------------------------------------------------


async def open_room(cast, sockets, step=None, members=MEMBERS, **kwargs) -> dict:
    """The workshop at `step` (planned if None) and one open socket per member."""
    if step is not None:
        await db(cast.at_step)(step)
    return {name: await sockets.open(getattr(cast, name), cast.workshop.pk, **kwargs) for name in members}


@db
def head(cast) -> int:
    return Workshop.objects.get(pk=cast.workshop.pk).seq


@db
def new_events(cast, after: int) -> list[tuple[str, str | None]]:
    """(kind, audience username or None) of the events recorded after seq `after`."""
    rows = Event.objects.filter(workshop=cast.workshop, seq__gt=after).select_related("audience").order_by("seq")
    return [(e.kind, e.audience.username if e.audience else None) for e in rows]


@db
def public_event_seqs(cast, after: int) -> list[int]:
    return list(
        Event.objects.filter(workshop=cast.workshop, seq__gt=after, audience__isnull=True)
        .order_by("seq")
        .values_list("seq", flat=True)
    )


async def sentinel(cast) -> int:
    """A public event after the one under test: whatever a socket gets before it, it got first."""
    workshop = await db(actions.control_timer)(cast.workshop.pk, op="extend", minutes=1, acting_user=cast.claire)
    return workshop.seq


def is_sentinel(seq: int):
    return lambda m: m["type"] == "event" and m["kind"] == "timer.changed" and m["seq"] == seq


async def received(cast, room: dict) -> dict[str, list[dict]]:
    """What each socket got (presence aside) until a sentinel event that everyone gets."""
    seq = await sentinel(cast)
    got = {}
    for name, comm in room.items():
        seen = await collect_until(comm, is_sentinel(seq))
        got[name] = content(seen[:-1])
    return got


def room_step(snapshot: dict) -> int:
    html = snapshot["ops"][0]["html"]
    return int(re.search(r'data-step="(\d+)"', html).group(1))


def new_cid() -> str:
    return str(uuid.uuid4())


# --- who may open a socket -----------------------------------------------------------------


async def test_it_closes_an_anonymous_socket_with_4401(cast, sockets):
    comm, connected, code = await sockets.try_open(None, cast.workshop.pk)
    assert (connected, code) == (False, 4401)


async def test_it_closes_an_outsiders_socket_with_4403_and_tells_him_nothing(cast, sockets):
    room = await open_room(cast, sockets, step=2, members=("sophie",))
    olivier, connected, code = await sockets.try_open(cast.olivier, cast.workshop.pk)
    assert (connected, code) == (False, 4403)
    assert not await db(Presence.objects.filter(user=cast.olivier).exists)()
    reply, _ = await command(room["sophie"], {"type": "ask_question", "cid": new_cid(), "body": "Qui décide ?"})
    assert reply["type"] == "ack"
    await received(cast, room)  # the question and a timer change have gone out to the group
    assert await olivier.receive_nothing(timeout=0.2)
    assert olivier.output_queue.empty()


async def test_it_closes_a_socket_to_an_unknown_workshop_with_4404(cast, sockets):
    comm, connected, code = await sockets.try_open(cast.claire, cast.workshop.pk + 1000)
    assert (connected, code) == (False, 4404)


async def test_it_refuses_a_socket_without_an_allowed_origin(cast, sockets):
    for origin in (None, b"http://evil.example", b"null", b"http://127.0.0.1.evil.example"):
        comm, connected, code = await sockets.try_open(cast.claire, cast.workshop.pk, origin=origin)
        assert connected is False, origin
        assert code not in (4401, 4403, 4404), origin  # refused before the consumer: the origin check
    assert await db(Presence.objects.count)() == 0


async def test_it_accepts_a_member_from_an_allowed_origin(cast, sockets):
    comm, connected, code = await sockets.try_open(cast.marc, cast.workshop.pk, origin=b"http://localhost:8000")
    assert connected is True
    assert await is_open(comm)


async def test_it_closes_the_socket_of_a_member_removed_meanwhile_at_the_next_snapshot(cast, sockets):
    room = await open_room(cast, sockets, step=1, members=("claire", "julien"))
    await db(Membership.objects.filter(group=cast.group, user=cast.julien).delete)()
    reply, _ = await command(room["claire"], {"type": "advance", "from_step": 1})
    assert reply["type"] == "ack"
    closed = await room["julien"].receive_output(timeout=2)
    while closed["type"] == "websocket.send" and '"presence"' in closed.get("text", ""):
        closed = await room["julien"].receive_output(timeout=2)
    assert closed == {"type": "websocket.close", "code": 4403}


# --- what is private stays private ---------------------------------------------------------


async def test_it_sends_a_private_note_live_to_its_author_only(cast, sockets):
    room = await open_room(cast, sockets, step=1)
    sophie_tab2 = await sockets.open(cast.sophie, cast.workshop.pk)
    room["sophie (other tab)"] = sophie_tab2
    reply, before = await command(room["sophie"], {"type": "write_note", "cid": new_cid(), "body": "Marc semble épuisé"})
    assert reply["type"] == "ack"
    got = await received(cast, room)
    got["sophie"] = content(before) + got["sophie"]
    for name in ("claire", "marc", "julien"):
        assert got[name] == [], f"{name} saw {got[name]}"
    for name in ("sophie", "sophie (other tab)"):
        [note] = got[name]
        assert note["kind"] == "note.added" and "Marc semble épuisé" in note["ops"][0]["html"]


async def test_it_sends_an_evaluation_to_its_author_and_only_the_count_to_others(cast, sockets):
    room = await open_room(cast, sockets, step=6)
    reply, before = await command(room["sophie"], {"type": "evaluate", "score": 2, "comment": "Trop long pour moi"})
    assert reply["type"] == "ack"
    got = await received(cast, room)
    got["sophie"] = content(before) + got["sophie"]
    assert [m["kind"] for m in got["sophie"]] == ["evaluation.recorded", "evaluation.counted"]
    assert got["sophie"][0]["data"] == {"score": 2, "comment": "Trop long pour moi"}
    for name in ("claire", "marc", "julien"):
        assert [m["kind"] for m in got[name]] == ["evaluation.counted"], name
        assert got[name][0]["data"] == {"count": 1}
        assert "Trop long" not in str(got[name]) and "2/5" not in str(got[name])


async def test_it_never_replays_another_members_private_events_in_a_catch_up(cast, sockets):
    await db(cast.at_step)(6)
    since = await head(cast)
    sophie = await sockets.open(cast.sophie, cast.workshop.pk)
    for message in (
        {"type": "write_note", "cid": new_cid(), "body": "Note secrète de Sophie"},
        {"type": "write_learning", "cid": new_cid(), "body": "J'ai appris à me taire"},
        {"type": "evaluate", "score": 4, "comment": "Commentaire secret"},
    ):
        reply, _ = await command(sophie, message)
        assert reply["type"] == "ack", reply
    # delivered live before marc comes (Redis pub/sub hands a message to the sockets present
    # when it reads it): what marc gets below, he gets by catching up
    await collect_until(sophie, lambda m: m["type"] == "event" and m["kind"] == "evaluation.counted")

    marc = await sockets.open(cast.marc, cast.workshop.pk)
    await send(marc, {"type": "sync", "since": since})
    caught_up = content(await collect_until(marc, lambda m: m["type"] == "synced"))
    assert [m["kind"] for m in events_of(caught_up)] == ["learning.added", "evaluation.counted"]
    assert "secrète" not in str(caught_up) and "secret" not in str(caught_up)

    sophie_later = await sockets.open(cast.sophie, cast.workshop.pk)
    await send(sophie_later, {"type": "sync", "since": since})
    hers = content(await collect_until(sophie_later, lambda m: m["type"] == "synced"))
    assert [m["kind"] for m in events_of(hers)] == ["note.added", "learning.added", "evaluation.recorded", "evaluation.counted"]

    await send(marc, {"type": "sync", "since": 0})  # a full snapshot shows him nothing of hers either
    snapshot = await receive_until(marc, lambda m: m["type"] == "snapshot")
    assert "Note secrète" not in snapshot["ops"][0]["html"]
    assert "Commentaire secret" not in snapshot["ops"][0]["html"]
    assert "J&#x27;ai appris à me taire" in snapshot["ops"][0]["html"]


# --- the rule table, enforced at the socket ------------------------------------------------


@db
def contributions_state(cast) -> list[tuple]:
    return list(
        Contribution.objects.filter(workshop=cast.workshop)
        .order_by("pk")
        .values_list("pk", "cid", "author_id", "step", "kind", "body", "answer", "mark")
    )


@pytest.mark.parametrize(
    "step, make_message",
    [
        (4, lambda ids: {"type": "mark_contribution", "contribution_id": ids["contribution"], "mark": "keep"}),
        (5, lambda ids: {"type": "mark_contribution", "contribution_id": ids["contribution"], "mark": "explore"}),
        (2, lambda ids: {"type": "answer_question", "question_id": ids["question"], "body": "Je réponds à sa place"}),
        (3, lambda ids: {"type": "write_request", "request": "Aidez-moi à …", "help_kinds": ["ideas"]}),
        (5, lambda ids: {"type": "add_action", "cid": new_cid(), "what": "Une action pour lui"}),
    ],
    ids=["mark-in-consultation", "mark-in-plan", "answer", "request", "action"],
)
async def test_it_refuses_a_client_only_command_from_a_consultant_and_stores_nothing(cast, sockets, step, make_message):
    def prepare():
        cast.at_step(2)
        question = actions.ask_question(cast.workshop.pk, cid=new_cid(), body="Depuis quand ?", acting_user=cast.julien)
        ids = {"question": question.pk, "contribution": None}
        if step >= 4:
            cast.at_step(4)
            offer = actions.contribute(cast.workshop.pk, cid=new_cid(), kind="idea", body="Un rituel", acting_user=cast.julien)
            ids["contribution"] = offer.pk
        cast.at_step(step)
        return ids

    ids = await db(prepare)()
    room = await open_room(cast, sockets)
    before, seq, plan = await contributions_state(cast), await head(cast), await db(PlannedAction.objects.count)()
    request = await db(lambda: Workshop.objects.values_list("request", flat=True).get(pk=cast.workshop.pk))()

    reply, _ = await command(room["sophie"], make_message(ids))

    assert reply["type"] == "error" and reply["code"] == "refused", reply
    assert reply["message"]
    assert await contributions_state(cast) == before
    assert await head(cast) == seq
    assert await db(PlannedAction.objects.count)() == plan
    assert await db(lambda: Workshop.objects.values_list("request", flat=True).get(pk=cast.workshop.pk))() == request
    got = await received(cast, room)
    assert all(messages == [] for messages in got.values()), got


@pytest.mark.parametrize("who", ["marc", "sophie"])
async def test_it_refuses_advance_from_anyone_but_the_facilitator(cast, sockets, who):
    room = await open_room(cast, sockets, step=1)
    seq = await head(cast)
    reply, _ = await command(room[who], {"type": "advance", "from_step": 1})
    assert reply["type"] == "error" and reply["code"] == "refused", reply
    workshop = await db(Workshop.objects.get)(pk=cast.workshop.pk)
    assert (workshop.step, workshop.seq) == (1, seq)
    got = await received(cast, room)
    assert all(messages == [] for messages in got.values()), got


# --- broadcast ----------------------------------------------------------------------------


async def test_it_sends_an_event_to_every_member_with_the_same_seq_and_acks_the_sender(cast, sockets):
    room = await open_room(cast, sockets, step=4)
    reply, before_ack = await command(room["sophie"], {"type": "contribute", "cid": new_cid(), "kind": "experience", "body": "J'ai vécu ça"})
    assert reply["type"] == "ack" and reply["ref"]
    [(kind, audience)] = await new_events(cast, await head(cast) - 1)
    assert (kind, audience) == ("contribution.added", None)
    seq = await head(cast)
    got = await received(cast, room)
    for name in MEMBERS:
        in_order = events_of(before_ack) + got[name] if name == "sophie" else got[name]
        [event] = in_order
        assert (event["kind"], event["seq"]) == ("contribution.added", seq), name
        assert "J&#x27;ai vécu ça" in event["ops"][0]["html"]
    # the client's copy offers the marking buttons, the others' do not: rendered per member
    assert 'data-type="mark_contribution"' in events_of(got["marc"])[0]["ops"][0]["html"]
    assert 'data-type="mark_contribution"' not in events_of(got["julien"])[0]["ops"][0]["html"]


async def test_it_delivers_events_in_sequence_order(cast, sockets):
    room = await open_room(cast, sockets, step=4)
    since = await head(cast)

    async def post(name, n):
        for i in range(n):
            reply, _ = await command(room[name], {"type": "contribute", "cid": new_cid(), "kind": "idea", "body": f"{name} {i}"})
            assert reply["type"] == "ack"

    await asyncio.gather(post("sophie", 5), post("julien", 5))
    stored = await public_event_seqs(cast, since)
    assert len(stored) == 10
    got = await received(cast, room)
    for name in ("claire", "marc"):
        seqs = [m["seq"] for m in events_of(got[name])]
        assert seqs == stored, name  # all of them, once each, in order


async def test_it_sends_a_step_change_to_everyone_as_a_snapshot_of_the_new_step(cast, sockets):
    room = await open_room(cast, sockets, step=1)
    reply, before = await command(room["claire"], {"type": "advance", "from_step": 1})
    assert reply["type"] == "ack"
    seq = await head(cast)
    assert await new_events(cast, seq - 1) == [("step.changed", None)]
    for name, comm in room.items():
        already = [m for m in before if m["type"] in ("snapshot", "event")] if name == "claire" else []
        snapshot = already[0] if already else await receive_until(comm, lambda m: m["type"] in ("snapshot", "event"))
        assert snapshot["type"] == "snapshot", (name, snapshot)
        assert snapshot["seq"] == seq
        assert room_step(snapshot) == 2
        assert snapshot["timer"]["duration"] == 40 * 60
    marc_html = (await _snapshot_of(room["marc"]))["ops"][0]["html"]
    assert 'data-role="client"' in marc_html


async def _snapshot_of(comm) -> dict:
    await send(comm, {"type": "sync", "since": 0})
    return await receive_until(comm, lambda m: m["type"] == "snapshot")


async def last_presence(comm, seq: int) -> set[int]:
    seen = await collect_until(comm, is_sentinel(seq))
    lists = [m["people"] for m in seen if m["type"] == "presence"]
    assert lists, "no presence list came"
    return {person["id"] for person in lists[-1]}


async def test_the_presence_list_ends_right_when_many_join_and_leave_at_once(cast, sockets):
    """After a restart a room's sockets come back within milliseconds: each join publishes the list
    it read, and whatever the order they were read in, the last list everyone gets is the room."""
    await db(cast.at_step)(1)
    everyone = [cast.claire, cast.marc, cast.sophie, cast.julien]
    tabs = await asyncio.gather(*(sockets.open(user, cast.workshop.pk) for user in everyone * 2))
    seq = await sentinel(cast)
    for comm in tabs:
        assert await last_presence(comm, seq) == {user.pk for user in everyone}
    leaving = [tabs[3], tabs[7], tabs[2]]  # both of Julien's tabs, one of Sophie's
    await asyncio.gather(*(sockets.close(comm) for comm in leaving))
    seq = await sentinel(cast)
    for comm in tabs:
        if comm not in leaving:
            assert await last_presence(comm, seq) == {cast.claire.pk, cast.marc.pk, cast.sophie.pk}


async def test_a_live_event_does_not_wait_for_the_database_thread(cast, sockets):
    """Events and presence lists are sent from memory: while the process's one database thread is
    busy (a long snapshot, a slow query), they still reach every screen at once."""
    room = await open_room(cast, sockets, step=1)
    busy = asyncio.ensure_future(db(time.sleep)(2.0))  # holds the database thread for 2 s
    await asyncio.sleep(0.1)
    timer = {"running": True, "duration": 900, "elapsed": 10, "at": "2026-12-06T20:00:00+00:00"}
    event = {"seq": 10_000, "kind": "timer.changed", "data": {"op": "extend", "timer": timer}}
    await get_channel_layer().group_send(workshop_group(cast.workshop.pk), {"type": "workshop.event", "event": event})
    for name, comm in room.items():
        got = await receive_until(comm, lambda m: m["type"] == "event", timeout=1.0)  # well before the 2 s
        assert (got["seq"], got["ops"][0]["op"]) == (10_000, "timer"), name
    assert not busy.done()
    await busy


# --- exactly which events an action emits, and to whom --------------------------------------

ALL = "all"


def _question(cast):
    return actions.ask_question(cast.workshop.pk, cid=new_cid(), body="Depuis quand ?", acting_user=cast.sophie).pk


def _offer(cast):
    return actions.contribute(cast.workshop.pk, cid=new_cid(), kind="idea", body="Un rituel", acting_user=cast.sophie).pk


def _designated(cast):
    actions.designate_case(cast.workshop.pk, cast.case.pk, acting_user=cast.claire)


EMITS = [
    # (id, step (None: planned), actor, prepare(cast) -> value, message(value), [(kind, audience)])
    ("designate_case", None, "claire", None, lambda _: {"type": "designate_case", "case_id": "CASE"}, [("client.designated", ALL)]),
    ("start", None, "claire", _designated, lambda _: {"type": "start"}, [("workshop.started", ALL)]),
    ("edit_case", 1, "marc", None, lambda _: {"type": "edit_case", "title": "Reprendre une équipe muette"}, [("case.updated", ALL)]),
    ("write_note", 1, "julien", None, lambda _: {"type": "write_note", "cid": new_cid(), "body": "à creuser"}, [("note.added", "julien")]),
    ("advance", 1, "claire", None, lambda _: {"type": "advance", "from_step": 1}, [("step.changed", ALL)]),
    ("ask_question", 2, "sophie", None, lambda _: {"type": "ask_question", "cid": new_cid(), "body": "Qui ?"}, [("question.asked", ALL)]),
    ("answer_question", 2, "marc", _question, lambda q: {"type": "answer_question", "question_id": q, "body": "Depuis mars"}, [("question.answered", ALL)]),
    ("timer", 2, "claire", None, lambda _: {"type": "timer", "op": "pause"}, [("timer.changed", ALL)]),
    ("go_back", 2, "claire", None, lambda _: {"type": "go_back", "from_step": 2, "reason": "Exposé incomplet"}, [("step.changed", ALL)]),
    ("write_request", 3, "marc", None, lambda _: {"type": "write_request", "request": "Aidez-moi à …", "help_kinds": ["ideas"]}, [("contract.updated", ALL)]),
    ("accept_rules", 3, "sophie", None, lambda _: {"type": "accept_rules"}, [("rules.accepted", ALL)]),
    ("contribute", 4, "julien", None, lambda _: {"type": "contribute", "cid": new_cid(), "kind": "resource", "body": "Un livre"}, [("contribution.added", ALL)]),
    ("mark_contribution", 4, "marc", _offer, lambda c: {"type": "mark_contribution", "contribution_id": c, "mark": "keep"}, [("contribution.marked", ALL)]),
    ("add_action", 5, "marc", None, lambda _: {"type": "add_action", "cid": new_cid(), "what": "Un point d'équipe", "due": "2026-12-31"}, [("action.added", ALL)]),
    ("write_learning", 6, "claire", None, lambda _: {"type": "write_learning", "cid": new_cid(), "body": "Le silence aide"}, [("learning.added", ALL)]),
    ("evaluate", 6, "sophie", None, lambda _: {"type": "evaluate", "score": 5, "comment": "Merci"}, [("evaluation.recorded", "sophie"), ("evaluation.counted", ALL)]),
    ("end", 6, "claire", None, lambda _: {"type": "end"}, [("workshop.ended", ALL)]),
]


@pytest.mark.parametrize("step, actor, prepare, make_message, expected", [case[1:] for case in EMITS], ids=[case[0] for case in EMITS])
async def test_it_emits_exactly_these_events_to_exactly_these_members(cast, sockets, step, actor, prepare, make_message, expected):
    if step is not None:
        await db(cast.at_step)(step)
    value = await db(prepare)(cast) if prepare else None
    room = await open_room(cast, sockets)
    since = await head(cast)
    message = make_message(value)
    if message.get("case_id") == "CASE":
        message["case_id"] = cast.case.pk

    reply, before = await command(room[actor], message)
    assert reply["type"] == "ack", reply

    recorded = await new_events(cast, since)
    assert recorded == [(kind, None if audience == ALL else audience) for kind, audience in expected]
    seqs = {kind: since + 1 + i for i, (kind, _) in enumerate(expected)}
    structural_only = all(kind in STRUCTURAL for kind, _ in expected)
    if structural_only:  # the room may be planned or ended: no sentinel, everyone gets a snapshot
        for name, comm in room.items():
            early = content(before) if name == actor else []
            got = early if any(m["type"] == "snapshot" for m in early) else early + content(
                await collect_until(comm, lambda m: m["type"] == "snapshot" and m["seq"] >= since + 1)
            )
            assert [m["type"] for m in got] == ["snapshot"], name
            assert got[0]["seq"] == since + 1, name
        return
    got = await received(cast, room)
    got[actor] = content(before) + got[actor]
    for name in MEMBERS:
        wanted = [kind for kind, audience in expected if audience in (ALL, name)]
        assert [(m["kind"], m["seq"]) for m in events_of(got[name])] == [(k, seqs[k]) for k in wanted], name
        assert [m for m in got[name] if m["type"] != "event"] == [], name
        for event in events_of(got[name]):
            assert event["ops"], (name, event)
            assert "catchup" not in event


# --- catch-up after a reconnect ------------------------------------------------------------


async def test_it_replays_exactly_the_missed_events_after_a_reconnect(cast, sockets):
    room = await open_room(cast, sockets, step=4, members=("marc", "sophie", "julien"))
    await send(room["marc"], {"type": "sync", "since": await head(cast)})
    synced = await receive_until(room["marc"], lambda m: m["type"] in ("synced", "event", "snapshot"))
    assert synced == {"type": "synced", "seq": await head(cast)}
    last_seen = synced["seq"]
    await sockets.close(room.pop("marc"))

    for name, message in [
        ("sophie", {"type": "contribute", "cid": new_cid(), "kind": "idea", "body": "S1"}),
        ("julien", {"type": "contribute", "cid": new_cid(), "kind": "idea", "body": "J1"}),
        ("sophie", {"type": "write_note", "cid": new_cid(), "body": "privé"}),  # a gap in marc's numbers
        ("sophie", {"type": "contribute", "cid": new_cid(), "kind": "experience", "body": "S2"}),
        ("julien", {"type": "contribute", "cid": new_cid(), "kind": "resource", "body": "J2"}),
        ("julien", {"type": "contribute", "cid": new_cid(), "kind": "perspective", "body": "J3"}),
    ]:
        reply, _ = await command(room[name], message)
        assert reply["type"] == "ack"
    missed = await public_event_seqs(cast, last_seen)
    assert len(missed) == 5 and missed[-1] == await head(cast)
    # Delivered live to those still here before marc is back (Redis pub/sub hands a message to
    # the sockets in the group when it reads it): what marc gets now, he gets by catching up.
    await collect_until(room["julien"], lambda m: m["type"] == "event" and m["seq"] == missed[-1])

    marc = await sockets.open(cast.marc, cast.workshop.pk)
    await send(marc, {"type": "sync", "since": last_seen})
    caught_up = content(await collect_until(marc, lambda m: m["type"] == "synced"))
    *replayed, synced = caught_up
    assert [m["type"] for m in replayed] == ["event"] * 5
    assert [m["seq"] for m in replayed] == missed  # in order, each once, the note skipped
    assert [m["data"]["contribution"]["body"] for m in replayed] == ["S1", "J1", "S2", "J2", "J3"]
    assert all(m["catchup"] is True and m["ops"] for m in replayed)
    assert synced == {"type": "synced", "seq": await head(cast)}
    # and nothing comes twice afterwards
    got = await received(cast, {"marc": marc})
    assert got["marc"] == []


async def test_it_reports_the_head_when_the_last_missed_event_is_someone_elses_private_note(cast, sockets):
    """The browser compares pong's head with the last seq it knows: synced must move it up to
    the head, or every ping after someone's private note triggers another useless sync."""
    room = await open_room(cast, sockets, step=4, members=("sophie",))
    since = await head(cast)
    reply, _ = await command(room["sophie"], {"type": "contribute", "cid": new_cid(), "kind": "idea", "body": "S1"})
    assert reply["type"] == "ack"
    reply, _ = await command(room["sophie"], {"type": "write_note", "cid": new_cid(), "body": "privé"})
    assert reply["type"] == "ack"
    the_head = await head(cast)
    await collect_until(room["sophie"], lambda m: m["type"] == "event" and m["seq"] == the_head)  # delivered live

    marc = await sockets.open(cast.marc, cast.workshop.pk)
    await send(marc, {"type": "sync", "since": since})
    *replayed, synced = content(await collect_until(marc, lambda m: m["type"] == "synced"))
    assert [m["seq"] for m in replayed] == [since + 1]
    assert synced["seq"] == the_head, "synced stops at the last visible event, below the head the pong reports"

    await send(marc, {"type": "ping", "ref": "p"})
    pong = await receive_until(marc, lambda m: m["type"] == "pong")
    assert pong["seq"] <= synced["seq"], "the browser would sync again at every ping"


async def test_it_answers_a_sync_from_the_head_with_synced_alone(cast, sockets):
    room = await open_room(cast, sockets, step=2, members=("marc",))
    the_head = await head(cast)
    await send(room["marc"], {"type": "sync", "since": the_head})
    assert await receive_until(room["marc"], lambda m: m["type"] != "presence") == {"type": "synced", "seq": the_head}


@pytest.mark.parametrize("since", ["zero", "before-the-change"])
async def test_it_sends_a_snapshot_when_the_missed_events_include_a_step_change(cast, sockets, since):
    await db(cast.at_step)(1)
    before = 0 if since == "zero" else await head(cast)
    await db(cast.at_step)(2)
    marc = await sockets.open(cast.marc, cast.workshop.pk)
    await send(marc, {"type": "sync", "since": before})
    snapshot = await receive_until(marc, lambda m: m["type"] != "presence")
    assert snapshot["type"] == "snapshot"
    assert snapshot["seq"] == await head(cast)
    assert room_step(snapshot) == 2
    assert 'aria-current="step"' in snapshot["ops"][0]["html"]


async def test_it_sends_a_snapshot_for_an_invalid_since(cast, sockets):
    marc = (await open_room(cast, sockets, step=4, members=("marc",)))["marc"]
    for since in (-1, "3", None, 1.5, True, [1], {"seq": 1}):
        await send(marc, {"type": "sync", "since": since})
        snapshot = await receive_until(marc, lambda m: m["type"] != "presence")
        assert snapshot["type"] == "snapshot" and snapshot["seq"] == await head(cast), since
    assert await is_open(marc)


async def test_it_sends_a_snapshot_after_more_than_200_missed_events(cast, sockets):
    def many():
        cast.at_step(4)
        since = Workshop.objects.get(pk=cast.workshop.pk).seq
        for i in range(201):
            actions.contribute(cast.workshop.pk, cid=new_cid(), kind="idea", body=f"idée {i}", acting_user=cast.sophie)
        return since

    since = await db(many)()
    marc = await sockets.open(cast.marc, cast.workshop.pk)
    await send(marc, {"type": "sync", "since": since})
    snapshot = await receive_until(marc, lambda m: m["type"] != "presence")
    assert snapshot["type"] == "snapshot" and snapshot["seq"] == since + 201
    await send(marc, {"type": "sync", "since": since + 1})  # 200 exactly: replayed one by one
    replayed = content(await collect_until(marc, lambda m: m["type"] in ("synced", "snapshot")))
    assert [m["type"] for m in replayed] == ["event"] * 200 + ["synced"]


# --- a message sent again is stored once --------------------------------------------------

RETRIES = [
    # (id, step, actor, model, message, event kind)
    ("contribute", 4, "sophie", Contribution, {"type": "contribute", "kind": "idea", "body": "Une idée"}, "contribution.added"),
    ("ask_question", 2, "julien", Contribution, {"type": "ask_question", "body": "Pourquoi ?"}, "question.asked"),
    ("write_note", 1, "sophie", PrivateNote, {"type": "write_note", "body": "Pour moi"}, "note.added"),
    ("add_action", 5, "marc", PlannedAction, {"type": "add_action", "what": "Appeler Paul"}, "action.added"),
    ("write_learning", 6, "marc", Learning, {"type": "write_learning", "body": "Écouter d'abord"}, "learning.added"),
]


@pytest.mark.parametrize("step, actor, model, message, kind", [r[1:] for r in RETRIES], ids=[r[0] for r in RETRIES])
async def test_it_stores_a_resent_message_once_and_acks_every_attempt(cast, sockets, step, actor, model, message, kind):
    await db(cast.at_step)(step)
    user = getattr(cast, actor)
    sender = await sockets.open(user, cast.workshop.pk)
    watcher = await sockets.open(user, cast.workshop.pk)  # another tab of the author sees private events too
    message = {**message, "cid": new_cid(), "ref": "same"}

    await send(sender, message)  # a double click: twice, without waiting
    await send(sender, message)
    first = content(await collect_until(sender, lambda m: m["type"] in ("ack", "error")))
    second = content(await collect_until(sender, lambda m: m["type"] in ("ack", "error")))
    assert first[-1] == {"type": "ack", "ref": "same"} and second[-1] == {"type": "ack", "ref": "same"}
    got = await received(cast, {"sender": sender, "watcher": watcher})
    assert [m["kind"] for m in events_of(first + second + got["sender"])] == [kind]
    assert [m["kind"] for m in events_of(got["watcher"])] == [kind]

    await sockets.close(sender)
    again = await sockets.open(user, cast.workshop.pk)  # and once more from the outbox, after a reconnect
    reply, before = await command(again, message)
    assert reply == {"type": "ack", "ref": "same"}
    got = await received(cast, {"watcher": watcher, "again": again})
    assert events_of(before + got["again"]) == [] and events_of(got["watcher"]) == []

    assert await db(model.objects.filter(workshop=cast.workshop, cid=message["cid"]).count)() == 1
    assert await db(Event.objects.filter(workshop=cast.workshop, kind=kind).count)() == 1


# --- two facilitator tabs racing ----------------------------------------------------------


@pytest.mark.parametrize("command_type", ["advance", "go_back"])
async def test_it_moves_the_step_once_when_two_facilitator_tabs_race(cast, sockets, command_type):
    await db(cast.at_step)(2)
    tab1 = await sockets.open(cast.claire, cast.workshop.pk)
    tab2 = await sockets.open(cast.claire, cast.workshop.pk)
    marc = await sockets.open(cast.marc, cast.workshop.pk)
    since = await head(cast)
    message = {"type": command_type, "from_step": 2, "reason": "On reprend"}

    (r1, b1), (r2, b2) = await asyncio.gather(command(tab1, message), command(tab2, message))

    assert sorted([r1["type"], r2["type"]]) == ["ack", "error"], (r1, r2)
    loser_reply = r1 if r1["type"] == "error" else r2
    assert loser_reply["code"] == "conflict" and loser_reply["message"]
    workshop = await db(Workshop.objects.get)(pk=cast.workshop.pk)
    assert workshop.step == (3 if command_type == "advance" else 1)
    assert await new_events(cast, since) == [("step.changed", None)]

    (winner, won_before), (loser, lost_before) = ((tab1, b1), (tab2, b2)) if r1["type"] == "ack" else ((tab2, b2), (tab1, b1))
    got = await received(cast, {"winner": winner, "loser": loser, "marc": marc})
    got["winner"] = content(won_before) + got["winner"]
    got["loser"] = content(lost_before) + got["loser"]
    snapshots = {name: [m for m in got[name] if m["type"] == "snapshot"] for name in got}
    assert len(snapshots["winner"]) == 1 and len(snapshots["marc"]) == 1  # the step change
    # The refresh its conflict asks for already holds the step change: the event queued behind it
    # is not rendered again (a second snapshot only if the event came first).
    assert 1 <= len(snapshots["loser"]) <= 2
    assert all(room_step(s) == workshop.step for ss in snapshots.values() for s in ss)


# --- what people type is shown, never run ---------------------------------------------------

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"

ESCAPES = [  # (step, author, message) through the whole workshop
    (1, "marc", lambda: {"type": "edit_case", "title": XSS, "problem": XSS}),
    (1, "marc", lambda: {"type": "write_note", "cid": new_cid(), "body": XSS}),
    (2, "sophie", lambda: {"type": "ask_question", "cid": new_cid(), "body": XSS}),
    (3, "marc", lambda: {"type": "write_request", "request": XSS}),
    (4, "sophie", lambda: {"type": "contribute", "cid": new_cid(), "kind": "idea", "body": XSS}),
    (5, "marc", lambda: {"type": "add_action", "cid": new_cid(), "what": XSS, "first_step": XSS, "success_sign": XSS}),
    (6, "julien", lambda: {"type": "write_learning", "cid": new_cid(), "body": XSS}),
]


async def test_it_escapes_what_people_type_in_the_html_it_sends(cast, sockets):
    await db(cast.at_step)(1)
    room = await open_room(cast, sockets, members=("marc", "sophie", "julien"))
    for step, author, make_message in ESCAPES:
        workshop = await db(Workshop.objects.get)(pk=cast.workshop.pk)
        if workshop.step < step:  # everyone is present: the contract is left with a reason
            await db(actions.advance)(cast.workshop.pk, from_step=workshop.step, override_reason="tests", acting_user=cast.claire)
        message = make_message()
        reply, _ = await command(room[author], message)
        assert reply["type"] == "ack", (message["type"], reply)
        seq = await head(cast)
        event = await receive_until(room[author], lambda m, seq=seq: m["type"] == "event" and m["seq"] == seq)
        html = event["ops"][0]["html"]
        assert ESCAPED in html, message["type"]
        assert "<script" not in html and "<img" not in html, message["type"]
    room_html = (await _snapshot_of(room["marc"]))["ops"][0]["html"]
    assert room_html.count("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;") >= 8  # case ×2, note, question, request, offer, action ×3, learning
    assert "<script>alert" not in room_html and "<img src=x" not in room_html


# --- the member's language ----------------------------------------------------------------


def _french(msgid: str) -> str:
    with translation.override("fr"):
        return translation.gettext(msgid)


async def test_it_answers_in_english_to_an_english_member(cast, sockets):
    refusal = "Only the client marks contributions, during the consultation or the action plan."
    await db(cast.at_step)(4)
    by_cookie = await sockets.open(cast.sophie, cast.workshop.pk, lang="en")
    by_browser = await sockets.open(cast.sophie, cast.workshop.pk, lang=None, extra_headers=[(b"accept-language", b"en-GB,en;q=0.8")])
    for comm in (by_cookie, by_browser):
        reply, _ = await command(comm, {"type": "mark_contribution", "contribution_id": 1, "mark": "keep"})
        assert (reply["code"], reply["message"]) == ("refused", refusal)
        with translation.override("en"):
            assert reply["message"] == str(REFUSALS[Act.MARK_CONTRIBUTION])
        await comm.send_to(text_data="{oops")
        error = await receive_until(comm, lambda m: m["type"] == "error")
        assert error["message"] == "Malformed message: it is not JSON."


async def test_it_answers_in_french_to_a_french_member(cast, sockets):
    refusal = "Only the client marks contributions, during the consultation or the action plan."
    await db(cast.at_step)(4)
    by_cookie = await sockets.open(cast.sophie, cast.workshop.pk, lang="fr")
    by_default = await sockets.open(cast.sophie, cast.workshop.pk, lang=None)  # no cookie, no Accept-Language
    for comm in (by_cookie, by_default):
        reply, _ = await command(comm, {"type": "mark_contribution", "contribution_id": 1, "mark": "keep"})
        assert reply["code"] == "refused"
        assert reply["message"] == _french(refusal)  # whatever the catalogue says, the socket says it
    if _french(refusal) == refusal:
        pytest.xfail("the French catalogue (locale/fr/LC_MESSAGES/django.mo) has no translation for this message yet")
    assert reply["message"] == "Seul le client marque les contributions, pendant la consultation ou le plan d’action."
