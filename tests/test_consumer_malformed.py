"""Whatever arrives on the room's websocket, the sender gets an error, nobody else hears of it,
the socket stays open, and nothing already said is changed."""
import json
import uuid

import pytest
from channels.db import database_sync_to_async as db
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests import ws
from tests.ws import (
    collect_until,
    command,
    content,
    is_open,
    receive_until,
)
from workshops import actions, dispatch
from workshops.models import Contribution, Event, Workshop

pytestmark = pytest.mark.django_db(transaction=True)
consumer_hygiene, sockets = ws.consumer_hygiene, ws.sockets  # fixtures: per-test layer, sockets closed after

BIG = 64 * 1024


def new_cid() -> str:
    return str(uuid.uuid4())


@db
def stored(cast) -> dict:
    """What is already said, and the head: a malformed message must change none of it."""
    workshop = Workshop.objects.get(pk=cast.workshop.pk)
    return {
        "contributions": list(
            Contribution.objects.filter(workshop=workshop)
            .order_by("pk")
            .values_list("pk", "cid", "author_id", "step", "kind", "body", "answer", "mark")
        ),
        "events": Event.objects.filter(workshop=workshop).count(),
        "head": (workshop.seq, workshop.step, workshop.status),
    }


def _consultation(cast):
    cast.at_step(4)
    for who, body in ((cast.sophie, "Un rituel du lundi"), (cast.julien, "J'ai vécu la même chose")):
        actions.contribute(cast.workshop.pk, cid=new_cid(), kind="idea", body=body, acting_user=who)
    first = Contribution.objects.filter(workshop=cast.workshop).order_by("pk").first()
    actions.mark_contribution(cast.workshop.pk, contribution_id=first.pk, mark="keep", acting_user=cast.marc)


async def open_consultation(cast, sockets) -> dict:
    """Step 4 with two contributions (one kept by the client), and a socket per member."""
    await db(_consultation)(cast)
    return {name: await sockets.open(getattr(cast, name), cast.workshop.pk) for name in ("claire", "marc", "sophie", "julien")}


async def sentinel(cast) -> int:
    workshop = await db(actions.control_timer)(cast.workshop.pk, op="extend", minutes=1, acting_user=cast.claire)
    return workshop.seq


async def send_frame(comm, frame) -> None:
    if isinstance(frame, bytes):
        await comm.send_input({"type": "websocket.receive", "bytes": frame})
    elif isinstance(frame, str):
        await comm.send_input({"type": "websocket.receive", "text": frame})  # "" too (send_to refuses it)
    else:
        await comm.send_input({"type": "websocket.receive", "text": json.dumps(frame)})


def frames_for_ref(message):
    """Dicts carry a ref, so the error can be matched to them."""
    return {**message, "ref": "bad"} if isinstance(message, dict) and "ref" not in message else message


# Frames by family: (id, sender, frame, expected error code). One room per family.
MALFORMED = {
    "not-a-json-object": [
        ("not-json", "sophie", "{type: contribute", "invalid"),
        ("json-array", "sophie", '[{"type": "ping"}]', "invalid"),
        ("json-string", "sophie", '"contribute"', "invalid"),
        ("json-number", "sophie", "42", "invalid"),
        ("json-null", "sophie", "null", "invalid"),
        ("nan", "sophie", "NaN", "invalid"),
        ("empty-frame", "sophie", "", "invalid"),
    ],
    "too-big-or-binary": [
        ("frame-over-64k", "sophie", {"type": "contribute", "cid": new_cid(), "kind": "idea", "body": "x" * BIG}, "invalid"),
        ("binary-frame", "sophie", b'{"type": "ping"}', "invalid"),
        ("binary-garbage", "sophie", b"\xff\x00\xfe", "invalid"),
    ],
    "no-usable-type": [
        ("type-is-a-number", "sophie", {"type": 42}, "invalid"),
        ("type-is-null", "sophie", {"type": None}, "invalid"),
        ("type-is-a-list", "sophie", {"type": ["contribute"]}, "invalid"),
        ("no-type", "sophie", {"body": "hello"}, "invalid"),
        ("unknown-type", "sophie", {"type": "delete_everything"}, "invalid"),
        ("long-unknown-type", "sophie", {"type": "x" * 10_000}, "invalid"),
        ("ref-is-a-dict", "sophie", {"type": "nope", "ref": {"a": 1}}, "invalid"),
    ],
    "missing-fields": [
        ("missing-body", "sophie", {"type": "contribute", "cid": new_cid(), "kind": "idea"}, "invalid"),
        ("missing-cid", "sophie", {"type": "contribute", "kind": "idea", "body": "Une idée"}, "invalid"),
        ("bad-cid", "sophie", {"type": "contribute", "cid": "not-a-uuid", "kind": "idea", "body": "Une idée"}, "invalid"),
        ("missing-kind", "sophie", {"type": "contribute", "cid": new_cid(), "body": "Une idée"}, "invalid"),
        ("missing-mark-id", "marc", {"type": "mark_contribution", "mark": "keep"}, "not_found"),
    ],
    "wrong-types": [
        ("body-list", "sophie", {"type": "contribute", "cid": new_cid(), "kind": "idea", "body": ["a", "b"]}, "invalid"),
        ("body-dict", "sophie", {"type": "contribute", "cid": new_cid(), "kind": "idea", "body": {"text": "a"}}, "invalid"),
        ("body-number", "sophie", {"type": "contribute", "cid": new_cid(), "kind": "idea", "body": 12}, "invalid"),
        ("body-bool", "sophie", {"type": "contribute", "cid": new_cid(), "kind": "idea", "body": True}, "invalid"),
        ("from-step-abc", "claire", {"type": "advance", "from_step": "abc"}, "invalid"),
        ("from-step-list", "claire", {"type": "advance", "from_step": [4]}, "invalid"),
        ("from-step-bool", "claire", {"type": "advance", "from_step": True}, "invalid"),
        ("from-step-float", "claire", {"type": "advance", "from_step": 4.5}, "invalid"),
        ("score-x", "sophie", {"type": "evaluate", "score": "x"}, "invalid"),
        ("mark-id-dict", "marc", {"type": "mark_contribution", "contribution_id": {"id": 1}, "mark": "keep"}, "invalid"),
        ("help-kinds-nested", "marc", {"type": "write_request", "request": "Aidez-moi", "help_kinds": [["ideas"]]}, "invalid"),
        ("edit-case-title-list", "marc", {"type": "edit_case", "title": ["x"]}, "invalid"),
    ],
    "bad-values": [
        ("body-empty", "sophie", {"type": "contribute", "cid": new_cid(), "kind": "idea", "body": ""}, "invalid"),
        ("body-blank", "sophie", {"type": "contribute", "cid": new_cid(), "kind": "idea", "body": " \n\t\x00 "}, "invalid"),
        ("body-5001", "sophie", {"type": "contribute", "cid": new_cid(), "kind": "idea", "body": "x" * 5001}, "invalid"),
        ("note-5001", "sophie", {"type": "write_note", "cid": new_cid(), "body": "é" * 5001}, "invalid"),
        ("unknown-kind", "sophie", {"type": "contribute", "cid": new_cid(), "kind": "rumour", "body": "Une idée"}, "invalid"),
        ("timer-op-unknown", "claire", {"type": "timer", "op": "explode"}, "invalid"),
        ("timer-extend-999", "claire", {"type": "timer", "op": "extend", "minutes": 999}, "invalid"),
        ("mark-unknown", "marc", {"type": "mark_contribution", "contribution_id": "FIRST", "mark": "burn"}, "invalid"),
        ("mark-id-unknown", "marc", {"type": "mark_contribution", "contribution_id": 999_999, "mark": "keep"}, "not_found"),
        ("mark-id-huge", "marc", {"type": "mark_contribution", "contribution_id": 10**30, "mark": "keep"}, "invalid"),
    ],
}


@pytest.mark.parametrize("family", list(MALFORMED))
async def test_it_answers_a_malformed_message_with_an_error_to_its_sender_only(cast, sockets, family):
    room = await open_consultation(cast, sockets)
    before = await stored(cast)
    for case, sender, frame, code in MALFORMED[family]:
        if isinstance(frame, dict) and frame.get("contribution_id") == "FIRST":
            frame = {**frame, "contribution_id": before["contributions"][0][0]}
        frame = frames_for_ref(frame)

        await send_frame(room[sender], frame)
        error = await receive_until(room[sender], lambda m: m["type"] != "presence")

        assert error["type"] == "error", (case, error)
        assert error["code"] == code, (case, error)
        assert isinstance(error["message"], str) and error["message"], case
        readable = isinstance(frame, dict) and len(json.dumps(frame)) <= BIG  # an oversized frame is not even parsed
        assert error["ref"] == ("bad" if readable and frame.get("ref") == "bad" else None), (case, error)
        assert await stored(cast) == before, case
        assert await is_open(room[sender]), case  # and still answering

    seq = await sentinel(cast)
    for name, comm in room.items():
        seen = content(await collect_until(comm, lambda m: m["type"] == "event" and m["seq"] == seq))
        assert seen[:-1] == [], f"{name} heard of it: {seen[:-1]}"
    # still usable for real work
    reply, _ = await command(room["sophie"], {"type": "contribute", "cid": new_cid(), "kind": "idea", "body": "Et pourtant"})
    assert reply["type"] == "ack"
    assert (await stored(cast))["contributions"][:2] == before["contributions"]


async def test_it_refuses_a_frame_over_64_kib_even_with_fewer_characters(cast, sockets):
    """The limit is CODEV_MAX_MESSAGE_BYTES (64 KiB) and the protocol says 64 KiB: a frame of
    40,000 "é" is 80 KB on the wire, yet fewer than 65,536 characters."""
    room = await open_consultation(cast, sockets)
    frame = json.dumps({"type": "ping", "ref": "big", "pad": "é" * 40_000}, ensure_ascii=False)
    assert len(frame) < BIG < len(frame.encode())
    await send_frame(room["sophie"], frame)
    reply = await receive_until(room["sophie"], lambda m: m["type"] != "presence")
    assert reply["type"] == "error" and reply["code"] == "invalid", reply
    assert await is_open(room["sophie"])


async def test_it_survives_deeply_nested_json(cast, sockets):
    """A 40 KB frame of nested arrays is within the size limit; json.loads raises RecursionError
    (not ValueError) on it."""
    room = await open_consultation(cast, sockets)
    before = await stored(cast)
    await send_frame(room["sophie"], "[" * 20_000 + "]" * 20_000)
    error = await receive_until(room["sophie"], lambda m: m["type"] != "presence", timeout=1)
    assert error["type"] == "error" and error["code"] == "invalid", error
    assert await is_open(room["sophie"])
    assert await stored(cast) == before


@pytest.mark.parametrize(
    "frame",
    ['{"type": "\\ud800", "ref": "s"}', '{"type": "ping", "ref": "\\udc00"}'],
    ids=["in-the-type", "in-a-ref"],
)
async def test_it_answers_in_valid_utf8_when_json_spells_a_lone_surrogate(cast, sockets, frame):
    """JSON may spell a lone surrogate ("\\ud800"); echoed into a reply (the error message, the
    ref) it makes a text frame that is not UTF-8, which a real server cannot send: the socket dies."""
    room = await open_consultation(cast, sockets)
    await send_frame(room["sophie"], frame)
    text = await room["sophie"].receive_from()
    while json.loads(text)["type"] == "presence":
        text = await room["sophie"].receive_from()
    assert json.loads(text)["type"] in ("error", "pong")
    text.encode("utf-8")  # raises UnicodeEncodeError when the frame cannot go on the wire


async def test_it_survives_a_sync_with_an_out_of_range_since(cast, sockets):
    room = await open_consultation(cast, sockets)
    for since in (10**30, -(10**30), 2**63, 2**31):
        await send_frame(room["marc"], {"type": "sync", "since": since})
        reply = await receive_until(room["marc"], lambda m: m["type"] != "presence", timeout=1)
        assert reply["type"] in ("synced", "snapshot"), (since, reply)
        assert await is_open(room["marc"])


async def test_it_replies_to_a_ping_with_the_head(cast, sockets):
    room = await open_consultation(cast, sockets)
    await send_frame(room["julien"], {"type": "ping", "ref": 7})
    pong = await receive_until(room["julien"], lambda m: m["type"] != "presence")
    assert pong == {"type": "pong", "ref": 7, "seq": (await stored(cast))["head"][0]}


# --- a property: whatever JSON-ish frame a consultant throws at the room ---------------------

FIELDS = [
    "cid", "body", "kind", "from_step", "score", "comment", "contribution_id", "question_id", "mark",
    "op", "minutes", "case_id", "help_kinds", "kept", "due", "what", "title", "request", "reason", "ref",
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=30) | st.uuids().map(str),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
types = st.sampled_from(sorted([*dispatch.COMMANDS, dispatch.CASE_COMMAND])) | st.text(max_size=12) | json_values
messages = st.builds(lambda kind, fields: {**fields, "type": kind}, types, st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=5))
frames = (
    messages.map(json.dumps)
    | json_values.map(json.dumps)
    | st.text(max_size=60)
    | st.binary(min_size=1, max_size=60)
).filter(lambda f: f != "" and not _is_sync_or_ping(f))


def _is_sync_or_ping(frame) -> bool:
    """sync and ping are answered with synced/snapshot/pong: the property is about commands."""
    try:
        message = json.loads(frame)
    except (ValueError, TypeError, RecursionError):
        return False
    return isinstance(message, dict) and message.get("type") in ("sync", "ping")


@hsettings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frame=frames)
async def test_it_answers_any_frame_with_one_ack_or_error_and_changes_nothing_said(cast, sockets, frame):
    if not sockets.opened:  # once per test: the fixtures live as long as the whole property run
        await db(_consultation)(cast)
        await sockets.open(cast.sophie, cast.workshop.pk)
        sockets.before = (await stored(cast))["contributions"]
    sophie = sockets.opened[0]

    await send_frame(sophie, frame)
    ref = uuid.uuid4().hex
    await send_frame(sophie, {"type": "ping", "ref": ref})
    seen = content(await collect_until(sophie, lambda m: m["type"] == "pong" and m["ref"] == ref))[:-1]

    replies = [m for m in seen if m["type"] in ("ack", "error")]
    assert len(replies) == 1, (frame, seen)
    assert all(m["type"] in ("ack", "error", "event", "snapshot") for m in seen), seen
    if replies[0]["type"] == "error":
        assert replies[0]["code"] in ("invalid", "refused", "not_found", "conflict"), (frame, replies[0])
    assert not sophie.future.done()
    assert (await stored(cast))["contributions"][: len(sockets.before)] == sockets.before


@pytest.mark.parametrize(
    "message",
    [
        {"type": "sync", "since": 10**30},
        {"type": "mark_contribution", "contribution_id": 10**30, "mark": "keep"},
        {"type": "answer_question", "question_id": -(10**20), "body": "Oui"},
        {"type": "evaluate", "score": 10**40},
    ],
    ids=["since", "contribution_id", "question_id", "score"],
)
async def test_it_answers_huge_numbers_without_breaking(cast, message):
    """Integers beyond what the database columns hold get an answer, never a crash."""
    from channels.db import database_sync_to_async

    await database_sync_to_async(cast.at_step)(4)
    comm, ok, _ = await ws.connect(cast.marc, cast.workshop.pk)
    assert ok
    await ws.send(comm, {**message, "ref": "big"})
    answer = await receive_until(comm, lambda m: m["type"] in ("error", "snapshot", "synced", "ack"))
    if message["type"] != "sync":
        assert answer["type"] == "error" and answer["code"] == "invalid", answer
    assert await is_open(comm)
    await comm.disconnect()
