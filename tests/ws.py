"""Helpers to open real websockets on the ASGI application as a given member."""
import json

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from codev.asgi import application


@database_sync_to_async
def session_cookie(user) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


async def connect(user, workshop_id: int, *, lang: str = "fr", origin: bytes = b"http://127.0.0.1"):
    """An accepted or refused socket: returns (communicator, connected, close_code)."""
    headers = [(b"origin", origin), (b"host", b"127.0.0.1")]
    cookies = [f"{settings.LANGUAGE_COOKIE_NAME}={lang}"]
    if user is not None:
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={await session_cookie(user)}")
    headers.append((b"cookie", "; ".join(cookies).encode()))
    comm = WebsocketCommunicator(application, f"/ws/workshops/{workshop_id}/", headers=headers)
    connected, code = await comm.connect()
    return comm, connected, code


async def receive(comm, timeout: float = 2) -> dict:
    return json.loads(await comm.receive_from(timeout=timeout))


async def receive_until(comm, predicate, timeout: float = 3) -> dict:
    """Read messages until one matches (presence and other chatter are skipped)."""
    while True:
        message = await receive(comm, timeout)
        if predicate(message):
            return message


async def send(comm, message) -> None:
    await comm.send_to(text_data=json.dumps(message))
