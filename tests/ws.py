"""Helpers to open real websockets on the ASGI application as a given member."""
import contextlib
import json
import os
import uuid

import pytest_asyncio
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db import connections

from codev.asgi import application


@database_sync_to_async
def session_cookie(user) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


async def connect(
    user,
    workshop_id: int,
    *,
    lang: str | None = "fr",
    origin: bytes | None = b"http://127.0.0.1",
    extra_headers: list[tuple[bytes, bytes]] = (),
):
    """An accepted or refused socket: returns (communicator, connected, close_code).

    `origin=None` sends no Origin header; `lang=None` sends no language cookie."""
    headers = [(b"host", b"127.0.0.1"), *extra_headers]
    if origin is not None:
        headers.insert(0, (b"origin", origin))
    cookies = [f"{settings.LANGUAGE_COOKIE_NAME}={lang}"] if lang else []
    if user is not None:
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={await session_cookie(user)}")
    if cookies:
        headers.append((b"cookie", "; ".join(cookies).encode()))
    comm = WebsocketCommunicator(application, f"/ws/workshops/{workshop_id}/", headers=headers)
    connected, code = await comm.connect()
    return comm, connected, code


async def receive(comm, timeout: float = 2) -> dict:
    text = await comm.receive_from(timeout=timeout)
    assert isinstance(text, str), f"the server sent a binary frame: {text!r}"
    text.encode("utf-8")  # a text frame must be valid UTF-8 (RFC 6455): a lone surrogate fails here
    return json.loads(text)


async def receive_until(comm, predicate, timeout: float = 3) -> dict:
    """Read messages until one matches (presence and other chatter are skipped)."""
    while True:
        message = await receive(comm, timeout)
        if predicate(message):
            return message


async def send(comm, message) -> None:
    await comm.send_to(text_data=json.dumps(message))


# --- for the consumer tests -----------------------------------------------------------------
# Note: a receive that times out cancels the communicator's application (asgiref), so tests
# never wait for "nothing": they wait for a later event they caused (a sentinel) and look at
# everything that came before it.


def content(messages: list[dict]) -> list[dict]:
    """Everything but presence, which is not content and comes and goes with sockets."""
    return [m for m in messages if m["type"] != "presence"]


def events_of(messages: list[dict]) -> list[dict]:
    return [m for m in messages if m["type"] == "event"]


async def collect_until(comm, predicate, timeout: float = 3) -> list[dict]:
    """Every message up to and including the first one that matches."""
    seen = []
    while True:
        message = await receive(comm, timeout)
        seen.append(message)
        if predicate(message):
            return seen


async def collect_until_seq(comm, seq: int, timeout: float = 3) -> list[dict]:
    """Every message up to the numbered one (event or snapshot) that reaches `seq`."""
    return await collect_until(
        comm, lambda m: m["type"] in ("event", "snapshot", "synced") and m["seq"] >= seq, timeout
    )


async def command(comm, message: dict, timeout: float = 3) -> tuple[dict, list[dict]]:
    """Send one command with a fresh ref; return its ack or error, and what came before it."""
    ref = message.get("ref") or uuid.uuid4().hex
    await send(comm, {**message, "ref": ref})
    before = await collect_until(comm, lambda m: m["type"] in ("ack", "error") and m.get("ref") == ref, timeout)
    return before[-1], before[:-1]


async def is_open(comm) -> bool:
    """The socket still answers: a ping gets its pong."""
    ref = uuid.uuid4().hex
    await send(comm, {"type": "ping", "ref": ref})
    await receive_until(comm, lambda m: m["type"] == "pong" and m["ref"] == ref)
    return not comm.future.done()


class Sockets:
    """The sockets a test opens, all closed at its end even when it fails."""

    def __init__(self):
        self.opened: list[WebsocketCommunicator] = []

    async def try_open(self, user, workshop_id: int, **kwargs):
        comm, connected, code = await connect(user, workshop_id, **kwargs)
        self.opened.append(comm)
        return comm, connected, code

    async def open(self, user, workshop_id: int, **kwargs) -> WebsocketCommunicator:
        comm, connected, code = await self.try_open(user, workshop_id, **kwargs)
        assert connected, f"{user} was refused with close code {code}"
        await is_open(comm)  # its own join is done: what follows is what the test caused
        return comm

    async def close(self, comm) -> None:
        if comm in self.opened:
            self.opened.remove(comm)
        await comm.disconnect()

    async def close_all(self) -> None:
        for comm in self.opened:
            with contextlib.suppress(Exception):  # already closed, or crashed: the test has said so
                await comm.disconnect()
        self.opened.clear()


@pytest_asyncio.fixture
async def sockets():
    opened = Sockets()
    yield opened
    await opened.close_all()


@pytest_asyncio.fixture(autouse=True)
async def consumer_hygiene(settings):
    """What every socket test needs around it, on SQLite as on PostgreSQL + Redis.

    1. A new channel layer for each test, under a prefix of its own on Redis. Changing
       CHANNEL_LAYERS makes channels drop its cached layer (setting_changed), so no test uses a
       layer, or Redis connections, made on the event loop of an earlier test; and the prefix
       keeps the groups `workshop.<id>` of parallel runs on the same Redis apart (another
       process's workshop 1 would otherwise talk into ours).
    2. Afterwards, the database connection of the thread that ran the consumers' queries is
       closed: the communicator turns channels' close_old_connections into a no-op while it
       waits, so that thread keeps its connection, and PostgreSQL then refuses to drop the test
       database at the end ("being accessed by other users", after a 5 s wait)."""
    layers = json.loads(json.dumps(settings.CHANNEL_LAYERS))
    default = layers["default"]
    if "redis" in default["BACKEND"]:
        default.setdefault("CONFIG", {})["prefix"] = f"codev-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    settings.CHANNEL_LAYERS = layers
    yield
    await sync_to_async(connections.close_all)()
