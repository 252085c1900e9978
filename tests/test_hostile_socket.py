"""Hostile payloads at every message type of the room's websocket (issue 4 §6), one property per
type: whatever a member sends, he gets one `ack` or one `error` with a code and a message (sync
and ping get their own answers), the socket stays open, the room still answers a ping and a real
command, and what was saved before is neither lost nor altered.

tests/test_consumer_malformed.py covers frames that are not messages at all (not JSON, nested
arrays, lone surrogates, 64 KiB in few characters) with a consultant at the consultation. Here each
type of dispatch.COMMANDS (and sync, ping, unknown types) is sent where and by whom it makes sense
(tests/hostile.places: the opening for vote, follow-up and close_plan; the live workshop at the
step its rule allows), so that a payload that happens to be valid is applied and acknowledged:
fields of the wrong JSON type, huge or nested, unknown fields, any ref, binary and oversized frames."""
import json
import uuid

import pytest
from channels.db import database_sync_to_async as db
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests import ws
from tests.hostile import (
    NASTY_STRINGS,
    PLACEHOLDERS,
    SPECS,
    bind,
    build_world,
    changed_rows,
    foreign_keys,
    long_text,
    lost_rows,
    new_cid,
    owned_by_others,
    places,
    snapshot,
)
from tests.ws import collect_until, content, is_open, receive_until
from workshops import actions, dispatch, pool
from workshops.models import Workshop

pytestmark = pytest.mark.django_db(transaction=True)
consumer_hygiene, sockets = ws.consumer_hygiene, ws.sockets  # fixtures: per-test layer, sockets closed after

TYPES = sorted(SPECS) + ["sync", "ping", "unknown"]
CODES = {"invalid", "refused", "advice", "not_found", "conflict"}  # never server_error, nor forbidden for a member
LIMIT = settings.CODEV_MAX_MESSAGE_BYTES
WAIT = 10  # seconds for an answer: generous, the machine running the tests may be busy

# --- payloads -----------------------------------------------------------------------------

scalars = (
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.sampled_from([0, 1, -1, 6, 2**31, 2**63, -(2**63)])
    | st.floats() | st.sampled_from(NASTY_STRINGS) | long_text | st.text(max_size=30) | st.uuids().map(str)
)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=10
)
SENSIBLE = {
    dispatch.INT: st.sampled_from(PLACEHOLDERS) | st.integers(0, 7) | st.sampled_from([60, 61]),
    dispatch.TEXT: st.sampled_from(["idea", "experience", "keep", "explore", "done", "in_progress", "dropped", "pause", "extend",
                                    "reset", "2030-12-31", "9999-12-31", "0001-01-01", "Pourquoi maintenant ?",
                                    "Une vraie réponse."]) | st.uuids().map(str),
    dispatch.LIST: st.lists(st.sampled_from(PLACEHOLDERS) | st.integers(0, 50), max_size=4),
    dispatch.FLAG: st.sampled_from([True, False, 1, "1", "on", "true"]),
}
refs = st.none() | json_values  # None here: no ref at all


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def message_for(kind: str) -> st.SearchStrategy:
    """A message of this type: its fields sensible or of any JSON type, unknown fields, any ref."""
    if kind == "unknown":
        known = {*SPECS, "sync", "ping"}
        types = (st.sampled_from(["", "SYNC", "Vote", "vote ", "__proto__", "delete_everything"]) | long_text | st.text(max_size=20)
                 | json_values).filter(lambda t: not (isinstance(t, str) and t in known))
        return st.builds(lambda t, extra: {**extra, "type": t}, types, st.dictionaries(st.text(max_size=10), json_values, max_size=4))
    spec = {"sync": {"since": dispatch.INT}, "ping": {}}[kind] if kind in ("sync", "ping") else SPECS[kind]
    fields = {name: SENSIBLE[field_kind] | json_values for name, field_kind in spec.items()}
    if "cid" in spec:
        fields["cid"] = st.one_of(st.uuids().map(str), st.uuids().map(str), json_values)
    unknown = st.dictionaries(st.sampled_from(["owner", "author_id", "group", "role", "seq", "step", "audience", "__proto__"])
                              | st.text(max_size=10), json_values, max_size=3)
    return st.builds(lambda given_, extra: {**extra, **given_, "type": kind}, st.fixed_dictionaries({}, optional=fields), unknown)


def frame_for(kind: str) -> st.SearchStrategy:
    """(message, ref, how): how it travels: as JSON text, binary, padded over the size limit, or
    with a field nested too deep for the JSON parser."""
    hows = st.sampled_from(["text"] * 6 + ["binary", "oversized", "deep"])
    return st.tuples(message_for(kind), refs, hows)


def encode(message: dict, ref, how: str) -> str | bytes:
    if ref is not None:
        message = {**message, "ref": ref}
    text = json.dumps(message, ensure_ascii=False)
    if how == "binary":
        return text.encode()
    if how == "oversized":
        return text[:-1] + ', "pad": "' + "é" * (LIMIT // 2 + 1) + '"}'
    if how == "deep":
        return text[:-1] + ', "deep": ' + nested(5000) + "}"
    return text


def echoed(ref):
    """The ref the answer carries: a string or a number is echoed, anything else is not."""
    if isinstance(ref, bool) or not isinstance(ref, (str, int)):
        return None
    return ref


# --- the room ---------------------------------------------------------------------------


async def send_frame(comm, frame) -> None:
    key = "bytes" if isinstance(frame, bytes) else "text"
    await comm.send_input({"type": "websocket.receive", key: frame})


def _setup(kind: str) -> dict:
    cells = places(kind) if kind in SPECS else [("live", 4, "sophie")]
    which, step, sender = cells[len(cells) // 2]
    world = build_world(live_step=step)
    return {"world": world, "workshop": getattr(world, which), "sender": world.user(sender)}


@db
def _state(room) -> tuple[dict, dict, dict]:
    world = room["world"]
    return snapshot(), foreign_keys(world), owned_by_others(world, room["sender"])


@db
def _bound(room, message: dict) -> dict:
    return bind(room["world"], room["workshop"].pk, message, as_text=False)


@db
def _status(workshop_id: int) -> str:
    return Workshop.objects.get(pk=workshop_id).status


HYPOTHESIS = {"deadline": None, "database": None,
              "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]}


@pytest.mark.parametrize("kind", TYPES)
@hsettings(max_examples=15, **HYPOTHESIS)
@given(example=st.data())
async def test_a_message_type_survives_hostile_payloads(sockets, kind, example):
    if not sockets.opened:  # once per type: the fixtures live as long as the whole property run
        sockets.room = await db(_setup)(kind)
        sockets.sender = await sockets.open(sockets.room["sender"], sockets.room["workshop"].pk)
    room, comm = sockets.room, sockets.sender
    message, ref, how = example.draw(frame_for(kind))
    message = await _bound(room, message)
    before, untouchable, others = await _state(room)

    frame = encode(message, ref, how)
    if how == "text" and len(frame.encode()) > LIMIT:  # long enough by itself
        how = "oversized"
    await send_frame(comm, frame)
    sentinel = uuid.uuid4().hex
    await send_frame(comm, json.dumps({"type": "ping", "ref": sentinel}))
    seen = content(await collect_until(comm, lambda m: m["type"] == "pong" and m["ref"] == sentinel, timeout=WAIT))[:-1]
    after = (await _state(room))[0]

    shown = {k: (v[:40] + "…" if isinstance(v, str) and len(v) > 40 else v) for k, v in message.items()}
    assert not comm.future.done(), (shown, how)
    # A snapshot may also come from the room's broadcast: a previous example's valid vote is a
    # structural event, and through Redis it can arrive after that example's pong. So only acks,
    # errors and pongs count as this frame's answer (a sync's answer is synced or a snapshot).
    replies = [m for m in seen if m["type"] in ("ack", "error", "pong")]
    refused = how != "text" or kind == "unknown" or any(m["type"] == "error" for m in replies)
    if how in ("binary", "oversized", "deep"):  # not even read: an error without ref
        assert [(m["type"], m["code"], m["ref"]) for m in replies] == [("error", "invalid", None)], (shown, how, seen)
    elif kind == "ping":
        assert [(m["type"], m["ref"]) for m in replies] == [("pong", echoed(ref))], (shown, seen)
    elif kind == "sync":
        assert not replies and any(m["type"] in ("synced", "snapshot") for m in seen), (shown, seen)
    else:
        answers = [m for m in replies if m["type"] in ("ack", "error")]
        assert len(answers) == 1, (shown, seen)
        answer = answers[0]
        assert answer["ref"] == echoed(ref), (shown, ref, answer)
        if answer["type"] == "error":
            assert answer["code"] in CODES, (shown, answer)
            assert isinstance(answer["message"], str) and answer["message"].strip(), (shown, answer)
    if refused or kind in ("ping", "sync"):
        assert not changed_rows(before, after), (shown, how, changed_rows(before, after))
    else:
        assert not changed_rows(before, after, untouchable), (shown, "changed the other group")
        assert not lost_rows(before, after, others), (shown, "lost other people's rows")


@pytest.mark.parametrize("kind", ["contribute", "vote", "report_followup", "close_plan", "ask_question", "unknown"])
async def test_the_room_still_works_after_the_worst_frames(sockets, kind):
    """After a burst of the worst frames of a type, the sender's socket answers a ping and takes a
    real command, and another member's socket, which heard nothing of it, too."""
    room = await db(_setup)(kind)
    sender = await sockets.open(room["sender"], room["workshop"].pk)
    world = room["world"]
    other = world.cast.julien if room["sender"] != world.cast.julien else world.cast.sophie
    observer = await sockets.open(other, room["workshop"].pk)
    worst = [
        {"type": kind, "body": "x" * (LIMIT + 1)},
        {"type": kind, "votes": [[[[[1]]]]], "action_id": {"$gt": 0}, "plan_id": [1, 2], "body": None, "anyway": {"a": 1}},
        {"type": kind, "cid": ["not", "a", "uuid"], "followup": 10**30, "comment": "\x00" * 1000, "ref": {"nested": [1]}},
        nested(3000),
    ]
    for frame in worst:
        before = await db(snapshot)()
        await send_frame(sender, frame if isinstance(frame, str) else json.dumps(frame))
        answer = await receive_until(sender, lambda m: m["type"] in ("ack", "error"), timeout=WAIT)
        if answer["type"] == "error":  # (a missing field may be valid: a vote without votes clears the ballot)
            assert answer["code"] in CODES and answer["message"], answer
            assert not changed_rows(before, await db(snapshot)()), frame
    assert await is_open(sender)

    live = await _status(room["workshop"].pk) == Workshop.LIVE
    if live:
        real = {"type": "write_note", "cid": new_cid(), "body": "Toujours là"}
    elif room["sender"] == world.cast.claire:
        real = {"type": "designate_case", "case_id": world.sophie_case.pk}
    else:
        real = {"type": "vote", "votes": []}
    reply, _before = await ws.command(sender, real, timeout=WAIT)
    assert reply["type"] == "ack", reply
    seq = await db(_sentinel)(room, live)
    heard = content(await collect_until(observer, lambda m: m["type"] in ("event", "snapshot") and m["seq"] >= seq, timeout=WAIT))
    assert all(m["type"] not in ("error", "ack") for m in heard), heard  # errors went to the sender only
    assert await is_open(observer)


def _sentinel(room, live: bool) -> int:
    """A change everyone hears of: the timer extended, or a vote."""
    world = room["world"]
    if live:
        return actions.control_timer(room["workshop"].pk, op="extend", minutes=1, acting_user=world.cast.claire).seq
    pool.vote(room["workshop"].pk, votes=[], acting_user=world.cast.marc)
    return Workshop.objects.get(pk=room["workshop"].pk).seq
