"""Throttling of guesses: passwords, sign-in links, invitation links.

At most LIMIT failed tries per WINDOW seconds per account and per client address; after that, the
account or address is locked for WINDOW seconds and every try is refused (even a right password)
with HTTP 429 and a clear message. One counter per account and one per address are shared by all
these endpoints, so switching from the password form to forged links earns no extra tries.

The counters live in Django's cache: Redis when REDIS_URL is set (every worker sees the same
counts), else the memory of the single process (settings.CACHES explains why).
"""
import hashlib
import ipaddress

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

LIMIT = 5  # failed tries allowed per window
WINDOW = 60  # seconds: the counting window, and how long a lock lasts
TEMPLATE = "accounts/too_many_attempts.html"


def message() -> str:
    return _("Too many attempts: wait a minute and try again.")


def client_address(request: HttpRequest) -> str:
    """REMOTE_ADDR; behind TRUSTED_PROXY reverse proxies, the address the outermost of them saw.

    Each proxy appends the address it received from to X-Forwarded-For, so only the last
    TRUSTED_PROXY entries were written by our proxies: the one before them on the right is the
    client. Entries further left were sent by the client itself and prove nothing.
    An IPv6 client is counted by its /64, the block one subscriber usually gets.
    """
    address = request.META.get("REMOTE_ADDR", "")
    hops = settings.TRUSTED_PROXY
    if hops:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= hops:
            address = forwarded[-hops]
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _key(kind: str, value: str) -> str:
    """A counter's cache key: a digest, so no username or address is stored as such."""
    return f"throttle:{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"


def _keys(request: HttpRequest, account: str) -> list[str]:
    keys = [_key("address", client_address(request))]
    if account.strip():
        keys.append(_key("account", account.strip().casefold()))
    return keys


def locked(request: HttpRequest, account: str = "") -> bool:
    """True while the address or the account is locked: refuse without checking anything."""
    return bool(cache.get_many([key + ":locked" for key in _keys(request, account)]))


def failed(request: HttpRequest, account: str = "") -> None:
    """Count one failed try; the LIMIT-th within a window locks for WINDOW seconds."""
    for key in _keys(request, account):
        cache.add(key, 0, WINDOW)  # the window starts at the first failure
        try:
            count = cache.incr(key)
        except ValueError:  # the window ended between add and incr
            cache.set(key, 1, WINDOW)
            count = 1
        if count >= LIMIT:
            cache.set(key + ":locked", True, WINDOW)


def succeeded(account: str) -> None:
    """A right answer clears the account's count (not the address's: an attacker holding one
    account of his own must not reset the counter of the address he guesses from)."""
    if account.strip():
        cache.delete(_key("account", account.strip().casefold()))


def refusal(request: HttpRequest, template: str = TEMPLATE, context: dict | None = None) -> HttpResponse:
    """The 429 page: the message, and Retry-After for scripts."""
    response = render(request, template, {"throttled": message(), **(context or {})}, status=429)
    response["Retry-After"] = str(WINDOW)
    return response
