"""Guessing is throttled: 5 failed tries a minute per account and per address, then a minute of
refusals (HTTP 429, a clear message), even for the right password. Runs on the configured cache:
memory on the SQLite pass, Redis when REDIS_URL is set (every worker shares the counts)."""
import os
import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import RequestFactory, override_settings
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.tokens import signin_path
from codev import throttle
from workshops import membership
from workshops.models import Invitation

MESSAGE = "Too many attempts: wait a minute and try again."


@pytest.fixture(autouse=True)
def _english(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


def login(client, username, password, address="127.0.0.1"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def signed_in(client) -> bool:
    return SESSION_KEY in client.session


def fail_five_times(client, username="sophie", address="127.0.0.1"):
    for _ in range(throttle.LIMIT):
        response = login(client, username, "wrong", address)
        assert response.status_code == 200 and b"Wrong username or password" in response.content


def assert_refused(response):
    assert response.status_code == 429
    assert MESSAGE in response.content.decode()
    assert response["Retry-After"] == "60"


def test_the_cache_is_the_configured_one(settings):
    backend = settings.CACHES["default"]["BACKEND"]
    assert backend.endswith("RedisCache" if os.environ.get("REDIS_URL") else "LocMemCache")


def test_after_five_wrong_passwords_even_the_right_one_is_refused(client, cast):
    fail_five_times(client)
    response = login(client, "sophie", "pw-sophie")
    assert_refused(response)
    assert 'value="sophie"' in response.content.decode(), "the form is still there, with the name typed"
    assert not signed_in(client)


def test_four_wrong_passwords_leave_the_right_one_working(client, cast):
    for _ in range(throttle.LIMIT - 1):
        login(client, "sophie", "wrong")
    assert login(client, "sophie", "pw-sophie").status_code == 302
    assert signed_in(client)


def test_the_lock_ends_after_the_window(client, cast, monkeypatch):
    monkeypatch.setattr(throttle, "WINDOW", 1)
    fail_five_times(client)
    assert login(client, "sophie", "pw-sophie").status_code == 429
    time.sleep(1.2)
    assert login(client, "sophie", "pw-sophie").status_code == 302


def test_an_account_is_locked_whatever_the_address_and_the_case_of_its_name(client, cast):
    for n, name in enumerate(["sophie", "Sophie", "SOPHIE ", "sophie", "sOphie"]):
        login(client, name, "wrong", address=f"10.0.0.{n + 1}")
    assert_refused(login(client, "sophie", "pw-sophie", address="10.0.0.99"))
    assert login(client, "julien", "pw-julien", address="10.0.0.99").status_code == 302, "another account is free"


def test_an_address_is_locked_whatever_the_account_it_tries(client, cast):
    for name in ["claire", "marc", "julien", "nobody", "admin"]:
        login(client, name, "wrong", address="203.0.113.7")
    assert_refused(login(client, "sophie", "pw-sophie", address="203.0.113.7"))
    assert login(client, "sophie", "pw-sophie", address="198.51.100.1").status_code == 302, "another address is free"


def test_a_success_clears_the_account_count_but_not_the_address(client, cast):
    for n in range(throttle.LIMIT - 1):
        login(client, "sophie", "wrong", address=f"10.0.1.{n}")
    assert login(client, "sophie", "pw-sophie", address="10.0.2.1").status_code == 302
    client.logout()
    for n in range(throttle.LIMIT - 1):
        login(client, "sophie", "wrong", address=f"10.0.3.{n}")
    assert login(client, "sophie", "pw-sophie", address="10.0.2.2").status_code == 302, "4 + 4 failures, not 8"
    client.logout()
    # the address that failed 4 times keeps its count after its own success
    for n in range(throttle.LIMIT - 1):
        login(client, f"ghost{n}", "wrong", address="10.0.4.1")
    assert login(client, "julien", "pw-julien", address="10.0.4.1").status_code == 302
    client.logout()
    login(client, "ghost", "wrong", address="10.0.4.1")
    assert_refused(login(client, "julien", "pw-julien", address="10.0.4.1"))


def test_forged_sign_in_links_lock_the_account_they_name(client, cast):
    good = signin_path(cast.sophie)
    forged = good.rsplit("/", 2)[0] + "/forged-token/"
    for n in range(throttle.LIMIT):
        assert client.get(forged, REMOTE_ADDR=f"10.1.0.{n}").url == reverse("login")
    assert_refused(client.get(good, REMOTE_ADDR="10.1.0.99"))
    assert not signed_in(client)
    assert_refused(login(client, "sophie", "pw-sophie", address="10.1.0.99")), "one count for links and passwords"


def test_a_refused_link_is_not_used_up(client, cast, monkeypatch):
    monkeypatch.setattr(throttle, "WINDOW", 1)
    good = signin_path(cast.sophie)
    for _ in range(throttle.LIMIT):
        client.get("/signin/Mg/forged-token/")
    assert client.get(good).status_code == 429
    time.sleep(1.2)
    assert client.get(good).url == reverse("home") and signed_in(client)


def test_wrong_passwords_and_links_add_up_for_an_address(client, cast):
    for _ in range(3):
        client.get("/signin/Mg/forged-token/")
    for _ in range(2):
        login(client, "nobody", "wrong")
    assert_refused(client.get(signin_path(cast.julien)))


def invite(cast, email="nadia@example.org") -> str:
    links = []
    membership.invite(cast.group, email, acting_user=cast.claire, join_url=links.append)
    return links[0]


def test_guessing_invitation_links_locks_the_address(client, cast):
    token = invite(cast)
    for n in range(throttle.LIMIT):
        assert client.get(reverse("join", args=[f"guess-{n}"])).status_code == 404
    assert_refused(client.get(reverse("join", args=[token])))
    assert_refused(client.post(reverse("join", args=[token]), {"first_name": "Nadia"}))
    assert Invitation.objects.get().accepted_at is None, "the invitation is intact"
    other = client.post(reverse("join", args=[token]), {"first_name": "Nadia"}, REMOTE_ADDR="192.0.2.5")
    assert other.status_code == 302 and signed_in(client), "the invitee, from her own address, joins"


def test_a_bad_name_on_a_real_invitation_is_not_a_guess(client, cast):
    token = invite(cast)
    for _ in range(throttle.LIMIT + 1):
        client.post(reverse("join", args=[token]), {"first_name": "x" * 500})
    assert client.get(reverse("join", args=[token])).status_code == 200


# --- the client's address ---------------------------------------------------------------------

addresses = st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)).map(str)


def request_from(remote, forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


# Pure functions of the request: no fixture state carries over between examples.
pure = hypothesis_settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


@pure
@given(forged=st.lists(addresses, max_size=4), client_ip=st.ip_addresses(v=4).map(str))
def test_without_a_trusted_proxy_x_forwarded_for_is_ignored(forged, client_ip):
    with override_settings(TRUSTED_PROXY=0):
        assert throttle.client_address(request_from(client_ip, ", ".join(forged))) == client_ip


@pure
@given(forged=st.lists(addresses, max_size=4), client_ip=st.ip_addresses(v=4).map(str), hops=st.integers(1, 3))
def test_behind_trusted_proxies_the_address_they_saw_counts_not_what_the_client_wrote(forged, client_ip, hops):
    """Each proxy appends the address it received from: the client can only prepend."""
    chain = [*forged, client_ip] + [f"10.9.0.{n}" for n in range(hops - 1)]
    with override_settings(TRUSTED_PROXY=hops):
        assert throttle.client_address(request_from("10.9.9.9", ", ".join(chain))) == client_ip


def test_a_short_forwarded_header_falls_back_to_the_peer(settings):
    settings.TRUSTED_PROXY = 2
    assert throttle.client_address(request_from("10.9.9.9", "198.51.100.4")) == "10.9.9.9"


def test_an_ipv6_client_is_counted_by_its_64_block(client, cast):
    for n in range(throttle.LIMIT):
        login(client, f"ghost{n}", "wrong", address=f"2001:db8:1:2::{n + 1}")
    assert_refused(login(client, "sophie", "pw-sophie", address="2001:db8:1:2:ffff::9"))
    assert login(client, "sophie", "pw-sophie", address="2001:db8:1:3::1").status_code == 302
    assert throttle.client_address(request_from("::ffff:192.0.2.1")) == "192.0.2.1"
