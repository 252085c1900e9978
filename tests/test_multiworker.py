"""Several workers share one room: two real uvicorn processes on PostgreSQL + Redis.

A participant connected to worker A sees, live, what the facilitator does through worker B, and
the other way round; presence is the same on both. The servers run on a database of their own
(created and dropped here) and a Redis prefix of their own, exactly as `make serve-prod` runs them.
Skipped when PostgreSQL or Redis does not answer — unless CODEV_REQUIRE_POSTGRES=1, then it fails.
"""
import asyncio
import json
import os
import socket
import uuid
from urllib.parse import urlsplit

import pytest
import websockets

from bench.servers import CodevServer

ADMIN_URL = os.environ.get("DATABASE_URL", "") if os.environ.get("DATABASE_URL", "").startswith("postgres") else (
    os.environ.get("CODEV_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
)
REDIS_URL = os.environ.get("REDIS_URL") or os.environ.get("CODEV_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TIMEOUT = 10


def _answers(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def two_workers():
    missing = [name for name, url, port in (("PostgreSQL", ADMIN_URL, 5432), ("Redis", REDIS_URL, 6379)) if not _answers(url, port)]
    if missing:
        reason = f"{' and '.join(missing)} not reachable ({ADMIN_URL}, {REDIS_URL}): two workers need both"
        if os.environ.get("CODEV_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason + " (CODEV_REQUIRE_POSTGRES=1)")
        pytest.skip(reason)
    server = CodevServer(workers=2, postgres=ADMIN_URL, redis=REDIS_URL, database_name=f"codev_multiworker_{os.getpid()}")
    try:
        seed = server.prepare(2)  # one workshop per test: neither depends on the other's state
        server.start()
        yield server, seed["workshops"], seed["cookie_name"]
    finally:
        server.cleanup()


class Member:
    """One real websocket to one given worker, reading into a queue."""

    def __init__(self, member: dict, cookie_name: str):
        self.member, self.cookie_name = member, cookie_name
        self.messages: asyncio.Queue = asyncio.Queue()

    async def open(self, base: str, workshop: dict) -> "Member":
        self.ws = await websockets.connect(
            f"{base}/ws/workshops/{workshop['id']}/", origin="http://127.0.0.1",
            additional_headers={"Cookie": f"{self.cookie_name}={self.member['cookie']}"}, open_timeout=TIMEOUT,
        )
        self.reader = asyncio.create_task(self._read())
        await self.ws.send(json.dumps({"type": "sync", "since": workshop["seq"]}))
        await self.until(lambda m: m["type"] in ("synced", "snapshot"))
        return self

    async def _read(self):
        async for raw in self.ws:
            await self.messages.put(json.loads(raw))

    async def until(self, predicate) -> dict:
        async def wait():
            while True:
                message = await self.messages.get()
                if predicate(message):
                    return message

        return await asyncio.wait_for(wait(), TIMEOUT)

    async def command(self, message: dict) -> dict:
        ref = uuid.uuid4().hex
        await self.ws.send(json.dumps({**message, "ref": ref}))
        answer = await self.until(lambda m: m["type"] in ("ack", "error") and m.get("ref") == ref)
        assert answer["type"] == "ack", answer
        return answer

    async def close(self):
        await self.ws.close()
        self.reader.cancel()


async def test_a_participant_on_one_worker_sees_live_what_the_facilitator_does_on_the_other(two_workers):
    server, workshops, cookie_name = two_workers
    workshop = workshops[0]
    worker_a, worker_b = server.urls()
    facilitator, client, consultant, other = (Member(m, cookie_name) for m in workshop["members"][:4])
    await facilitator.open(worker_b, workshop)
    for member in (client, consultant, other):
        await member.open(worker_a, workshop)
    try:
        # Presence is one list for the room, whichever worker each socket is on.
        seen = await facilitator.until(lambda m: m["type"] == "presence" and len(m["people"]) == 4)
        assert {p["id"] for p in seen["people"]} == {m.member["id"] for m in (facilitator, client, consultant, other)}

        # The facilitator starts on worker B: the room changes shape on worker A's screens.
        await facilitator.command({"type": "start"})
        for member in (client, consultant):
            snapshot = await member.until(lambda m: m["type"] == "snapshot" and m["seq"] > workshop["seq"])
            assert 'data-step="1" data-status="live"' in snapshot["ops"][0]["html"]
        for step in (1, 2):
            await facilitator.command({"type": "advance", "from_step": step})
        for member in (client, consultant, other):  # the contract: everyone present accepts the rules
            await member.command({"type": "accept_rules"})
        await facilitator.command({"type": "advance", "from_step": 3})
        await consultant.until(lambda m: m["type"] == "snapshot" and 'data-step="4"' in m["ops"][0]["html"])

        # A consultant posts on worker A: the facilitator on worker B gets it, once.
        cid = str(uuid.uuid4())
        await consultant.command({"type": "contribute", "cid": cid, "kind": "idea", "body": "Un point d'équipe chaque lundi"})
        event = await facilitator.until(lambda m: m["type"] == "event" and m["kind"] == "contribution.added")
        assert event["data"]["contribution"]["cid"] == cid
        assert event["data"]["contribution"]["body"] == "Un point d'équipe chaque lundi"
        same = await other.until(lambda m: m["type"] == "event" and m["kind"] == "contribution.added")
        assert same["seq"] == event["seq"]

        # The facilitator pauses the timer on worker B: worker A's screens follow, numbered next.
        await facilitator.command({"type": "timer", "op": "pause"})
        timer = await client.until(lambda m: m["type"] == "event" and m["kind"] == "timer.changed")
        assert timer["seq"] == event["seq"] + 1 and timer["data"]["timer"]["running"] is False
    finally:
        for member in (facilitator, client, consultant, other):
            await member.close()


async def test_a_contribution_resent_through_the_other_worker_is_stored_once(two_workers):
    """A browser that reconnects lands on any worker: its resend (same cid) must not duplicate."""
    server, workshops, cookie_name = two_workers
    workshop = workshops[1]
    worker_a, worker_b = server.urls()
    facilitator = await Member(workshop["members"][0], cookie_name).open(worker_b, workshop)
    consultant_on_a = await Member(workshop["members"][3], cookie_name).open(worker_a, workshop)
    consultant_on_b = await Member(workshop["members"][3], cookie_name).open(worker_b, workshop)
    try:
        await facilitator.command({"type": "start"})
        for step in (1, 2):
            await facilitator.command({"type": "advance", "from_step": step})
        await consultant_on_a.command({"type": "accept_rules"})
        await facilitator.command({"type": "advance", "from_step": 3})
        before = await _head(facilitator)
        cid = str(uuid.uuid4())
        message = {"type": "contribute", "cid": cid, "kind": "experience", "body": "Vécu en 2021"}
        await consultant_on_a.command(message)
        await consultant_on_b.command(message)  # the resend: acknowledged again, stored once
        assert await _head(consultant_on_a) == before + 1, "the resend recorded a second event"
        # The facilitator sees it once: as its event, or inside a snapshot that already holds it
        # (a socket is not sent an event its last snapshot covers).
        shown = await facilitator.until(
            lambda m: (m["type"] == "event" and m["kind"] == "contribution.added")
            or (m["type"] == "snapshot" and m["seq"] >= before + 1)
        )
        if shown["type"] == "event":
            assert shown["data"]["contribution"]["cid"] == cid and shown["seq"] == before + 1
        else:
            assert "Vécu en 2021" in shown["ops"][0]["html"]
        assert await _head(facilitator) == before + 1
    finally:
        for member in (facilitator, consultant_on_a, consultant_on_b):
            await member.close()


async def _head(member: Member) -> int:
    """The room's last sequence number, as the server answers a ping."""
    ref = uuid.uuid4().hex
    await member.ws.send(json.dumps({"type": "ping", "ref": ref}))
    pong = await member.until(lambda m: m["type"] == "pong" and m.get("ref") == ref)
    return pong["seq"]
