"""Content-Security-Policy for every HTML page: only our own scripts, styles and images.

The pages have no inline script, no on*= handler and no style= attribute (tests/test_hardening.py
checks every page), so the browser may refuse anything injected into a page: even if a hostile
text slipped past escaping, it could neither run nor phone home. Websockets (room.js) need ws:/wss:.
"""
from collections.abc import Callable

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.core import checks
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import sync_and_async_middleware

POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self' ws: wss:",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "object-src 'none'",
    ]
)


def _add_policy(response: HttpResponse) -> HttpResponse:
    if response.get("Content-Type", "").startswith("text/html"):
        response.setdefault("Content-Security-Policy", POLICY)
    return response


@sync_and_async_middleware
def content_security_policy(get_response: Callable):
    """Adds the policy to HTML responses (PDF, .ics and Markdown downloads are not pages).
    Sync and async alike, so it adds no thread hop under ASGI."""
    if iscoroutinefunction(get_response):

        async def middleware(request: HttpRequest) -> HttpResponse:
            return _add_policy(await get_response(request))

    else:

        def middleware(request: HttpRequest) -> HttpResponse:
            return _add_policy(get_response(request))

    return middleware


@checks.register(checks.Tags.security, deploy=True)
def check_allowed_hosts(app_configs=None, **kwargs) -> list[checks.Warning]:
    """Channels' origin check on websockets compares the Origin with ALLOWED_HOSTS: a wildcard
    would let any web site open a room's socket in a signed-in member's name."""
    if any(host == "*" for host in settings.ALLOWED_HOSTS):
        return [
            checks.Warning(
                "ALLOWED_HOSTS contains '*': the websocket origin check then accepts every site.",
                hint="List the host names Codev is reached at, e.g. ALLOWED_HOSTS=codev.example.org.",
                id="codev.W101",
            )
        ]
    return []
