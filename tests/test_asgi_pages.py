"""Pages served through the production ASGI application (codev/pages.py): they answer as Django
would, a form posts with its CSRF token, a static file streams whole, and a hundred pages leave no
pile of open database connections behind them."""
import os
import re

import pytest
from asgiref.sync import sync_to_async
from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.db import connection

from codev import pages
from codev.asgi import application
from tests.conftest import make_cast
from tests.ws import session_cookie

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def get(path: str, cookie: str = "", method: str = "GET", body: bytes = b"", extra=()):
    """One request through the ASGI application, as uvicorn would make it. (Channels'
    HttpCommunicator cannot read a stream's closing message, which carries no body.)"""
    headers = [(b"host", b"127.0.0.1"), (b"accept-language", b"fr"), *extra]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    scope = {"type": "http", "http_version": "1.1", "method": method, "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "scheme": "http", "headers": headers,
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}
    call = ApplicationCommunicator(application, scope)
    await call.send_input({"type": "http.request", "body": body, "more_body": False})
    start = await call.receive_output(10)
    chunks, more = [], True
    while more:
        message = await call.receive_output(10)
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    await call.wait(10)
    named: dict[str, str] = {}
    for key, value in start["headers"]:  # Set-Cookie comes once per cookie
        named[key.decode().lower()] = "\n".join(filter(None, [named.get(key.decode().lower()), value.decode()]))
    return {"status": start["status"], "headers": named, "body": b"".join(chunks)}


def open_database_connections() -> int:
    """Connections this process holds to the test database, whoever opened them."""
    if connection.vendor == "sqlite":
        name = os.path.realpath(connection.settings_dict["NAME"])
        fds = os.listdir("/proc/self/fd")
        return sum(1 for fd in fds if _target(fd) == name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return cursor.fetchone()[0]


def _target(fd: str) -> str | None:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return None


@pytest.fixture
def cast(db):
    return make_cast()


async def test_the_room_page_answers_as_django_would(cast):
    cookie = f"{settings.SESSION_COOKIE_NAME}={await session_cookie(cast.sophie)}"
    room = await get(f"/workshops/{cast.workshop.pk}/", cookie)
    assert room["status"] == 200
    assert "text/html" in room["headers"]["content-type"]
    assert "Content-Security-Policy" not in room["headers"]  # lower-cased above
    assert "default-src 'self'" in room["headers"]["content-security-policy"]
    assert cast.workshop.title.encode() in room["body"]
    outsider = await get(f"/workshops/{cast.workshop.pk}/", f"{settings.SESSION_COOKIE_NAME}={await session_cookie(cast.olivier)}")
    assert outsider["status"] == 403
    anonymous = await get(f"/workshops/{cast.workshop.pk}/")
    assert anonymous["status"] == 302 and "/login/" in anonymous["headers"]["location"]
    missing = await get("/no-such-page/", cookie)
    assert missing["status"] == 404


async def test_a_form_posts_with_its_csrf_token_and_not_without(cast):
    login = await get("/login/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', login["body"]).group(1).decode()
    csrf_cookie = re.search(r"csrftoken=([^;]+)", login["headers"]["set-cookie"]).group(1)
    form = f"csrfmiddlewaretoken={token}&username=sophie&password=pw-sophie".encode()
    typed = [(b"content-type", b"application/x-www-form-urlencoded"), (b"origin", b"http://127.0.0.1")]
    signed_in = await get("/login/", f"csrftoken={csrf_cookie}", "POST", form, typed)
    assert signed_in["status"] == 302
    assert f"{settings.SESSION_COOKIE_NAME}=" in signed_in["headers"]["set-cookie"]
    forged = await get("/login/", "", "POST", b"username=sophie&password=pw-sophie", typed)
    assert forged["status"] == 403


async def test_a_static_file_streams_whole():
    answer = await get("/static/workshops/room.js")
    assert answer["status"] == 200
    on_disk = (settings.BASE_DIR / "workshops" / "static" / "workshops" / "room.js").read_bytes()
    assert answer["body"] == on_disk


async def test_many_pages_leave_no_pile_of_database_connections(cast):
    """Django's own ASGI handler opened a connection on a new thread for every page, and the
    persistent ones stayed open until the garbage collector found them."""
    cookie = f"{settings.SESSION_COOKIE_NAME}={await session_cookie(cast.sophie)}"
    before = await sync_to_async(open_database_connections)()
    for _ in range(pages.THREADS * 5):
        assert (await get(f"/workshops/{cast.workshop.pk}/", cookie))["status"] == 200
    assert await sync_to_async(open_database_connections)() - before <= pages.THREADS
