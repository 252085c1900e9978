"""Web hardening: production settings pass `check --deploy`; every page carries the
Content-Security-Policy and has nothing it would block (inline script or style, on*= handlers);
every POST form carries its CSRF token; passwords are hashed with Argon2; sign-in links are
single-use and expire exactly when they should."""
import datetime
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings as django_settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.tokens import signin_path, signin_tokens
from codev import security
from codev import settings as configured  # the module itself: tests/conftest.py overrides the hashers
from workshops import actions, journal, membership, sessions
from workshops.steps import Step

ROOT = Path(__file__).resolve().parent.parent

# --- production settings ------------------------------------------------------------------------

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k7Qp2vXn9LwR4tYb8sZc1mHd6jFg3aUe5oIr0yTq7WxNvBkLpMzC",
    "ALLOWED_HOSTS": "codev.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://codev.example.org",
    "CODEV_HTTPS": "1",
    "CODEV_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
}
OURS = (*PRODUCTION, "SECURE_COOKIES", "TRUSTED_PROXY", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_PRELOAD")


def run(args: list[str], tmp_path, **env) -> subprocess.CompletedProcess:
    """manage.py or python in a fresh process, with only the variables given (plus the database)."""
    base = {k: v for k, v in os.environ.items() if k not in OURS}
    return subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**base, "CODEV_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "codev.settings", **env},
    )


def test_the_production_settings_pass_check_deploy(tmp_path):
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], tmp_path, **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr


def test_without_https_check_deploy_names_what_is_missing(tmp_path):
    plain = {k: v for k, v in PRODUCTION.items() if k != "CODEV_HTTPS"}
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], tmp_path, **plain)
    assert result.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):  # HSTS, redirect, cookies
        assert check in result.stderr, check


def test_a_wildcard_host_is_refused_in_production(tmp_path):
    """ALLOWED_HOSTS=* would also let any site open websockets in a member's name."""
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], tmp_path, **{**PRODUCTION, "ALLOWED_HOSTS": "*"})
    assert result.returncode != 0 and "codev.W101" in result.stderr


SHOW = """
import django, json; django.setup()
from django.conf import settings as s
print(json.dumps({n: getattr(s, n, None) for n in (
    "DEBUG", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_PROXY_SSL_HEADER", "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE", "SESSION_COOKIE_NAME", "SESSION_COOKIE_HTTPONLY", "X_FRAME_OPTIONS", "SECURE_REFERRER_POLICY")}))
"""


def settings_under(tmp_path, **env) -> dict:
    import json

    result = run(["-c", SHOW], tmp_path, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_https_turns_on_secure_cookies_redirect_and_hsts(tmp_path):
    prod = settings_under(tmp_path, **PRODUCTION)
    assert prod["DEBUG"] is False and prod["SECURE_SSL_REDIRECT"] is True and prod["SECURE_HSTS_SECONDS"] >= 31536000
    assert prod["SESSION_COOKIE_SECURE"] and prod["CSRF_COOKIE_SECURE"] and prod["SESSION_COOKIE_HTTPONLY"]
    assert prod["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert prod["X_FRAME_OPTIONS"] == "DENY" and prod["SECURE_REFERRER_POLICY"] == "same-origin"
    assert prod["SECURE_PROXY_SSL_HEADER"] is None, "X-Forwarded-Proto is trusted only behind a declared proxy"
    proxied = settings_under(tmp_path, **PRODUCTION, TRUSTED_PROXY="1")
    assert proxied["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_the_local_defaults_stay_plain_http(tmp_path):
    """`make demo` serves http://127.0.0.1:8000: no redirect, no HSTS, cookies sent over http."""
    local = settings_under(tmp_path)
    assert local["SECURE_SSL_REDIRECT"] is False and local["SECURE_HSTS_SECONDS"] == 0
    assert local["SESSION_COOKIE_SECURE"] is False and local["SESSION_COOKIE_NAME"] == "sessionid"


# --- what a page may contain --------------------------------------------------------------------


class PageAudit(HTMLParser):
    """What the CSP would block, and POST forms without their CSRF token."""

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if tag == "script" and not found.get("src"):
            self.problems.append("an inline <script>")
        if tag == "style":
            self.problems.append("a <style> block")
        for name, value in attrs:
            if name == "style":
                self.problems.append(f"style= on <{tag}>")
            if name.startswith("on"):
                self.problems.append(f"{name}= on <{tag}>")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"a javascript: URL on <{tag}>")
        if tag == "form":
            self.forms.append({"method": (found.get("method") or "get").lower(), "action": found.get("action"), "csrf": False})
        if tag == "input" and found.get("name") == "csrfmiddlewaretoken" and found.get("value") and self.forms:
            self.forms[-1]["csrf"] = True

    handle_startendtag = handle_starttag


def audit(response, where: str) -> list[str]:
    """Problems of one HTML response; [] when it is clean (non-HTML responses are not pages)."""
    if not response.get("Content-Type", "").startswith("text/html"):
        return []
    problems = []
    if response.get("Content-Security-Policy") != security.POLICY:
        problems.append(f"{where}: no Content-Security-Policy header")
    page = PageAudit()
    page.feed(response.content.decode())
    problems += [f"{where}: {p}" for p in page.problems]
    problems += [f"{where}: a POST form to {f['action']} without CSRF token" for f in page.forms if f["method"] == "post" and not f["csrf"]]
    return problems


def url_patterns(resolver=None, names=None):
    """Every named URL pattern of the site, with the names of its arguments."""
    names = [] if names is None else names
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            url_patterns(entry, names)
        elif isinstance(entry, URLPattern) and entry.name:
            names.append((entry.name, list(entry.pattern.converters)))
    return names


class World:
    """The cast's group with something everywhere: an invitation, a cycle, a journal entry, and a
    workshop with content at every step."""

    def __init__(self, cast):
        self.cast = cast
        self.coordinator = User.objects.create_user("rh", first_name="Rose", last_name="Hamon")
        self.coordinator.user_permissions.add(Permission.objects.get(codename="coordinate"))
        links = []
        self.invitation = membership.invite(cast.group, "nadia@example.org", acting_user=cast.claire, join_url=links.append)
        self.join_token = links[0]
        self.cycle = sessions.plan_cycle(
            cast.group, title="Cycle 2027", first_starts_at=timezone.now() + datetime.timedelta(days=30),
            rhythm="monthly", count=2, acting_user=cast.claire,
        )
        self.entry = journal.add_entry(cast.sophie, body="Ce que j'ai appris")
        self.values = {
            "group_id": cast.group.pk, "workshop_id": cast.workshop.pk, "session_id": cast.workshop.session_id,
            "cycle_id": self.cycle.pk, "invitation_id": self.invitation.pk, "case_id": cast.case.pk,
            "entry_id": self.entry.pk, "token": self.join_token, "user_id": cast.sophie.pk,
        }

    def url(self, name: str, converters: list[str]) -> str:
        """The URL filled with real objects; an argument nobody here knows gets 1 (a 404 is a page too)."""
        return reverse(name, kwargs={arg: self.values.get(arg, 1) for arg in converters})

    def people(self):
        c = self.cast
        return {"anonymous": None, "member": c.sophie, "client": c.marc, "facilitator": c.claire,
                "coordinator": self.coordinator, "outsider": c.olivier}


# Links that act on GET (sign in) or only end a session: their pages are visited elsewhere.
NOT_WALKED = {"signin", "logout"}


def walk(client: Client, world: World, problems: list[str]) -> int:
    pages = 0
    for role, user in world.people().items():
        client.logout()
        if user is not None:
            client.force_login(user)
        for name, converters in url_patterns():
            if name in NOT_WALKED:
                continue
            url = world.url(name, converters)
            response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
            problems += audit(response, f"{role} GET {url}")
            pages += response.get("Content-Type", "").startswith("text/html")
    return pages


def test_every_page_carries_the_policy_and_nothing_it_would_block(client, cast, cid):
    world = World(cast)
    problems: list[str] = []
    pages = walk(client, world, problems)
    # The room at every step, as each of its roles, with content on the screen.
    w = cast.workshop.pk
    for step in Step:
        cast.at_step(step)
        if step == Step.CLARIFICATION:
            question = actions.ask_question(w, cid=cid(), body="Depuis quand ?", acting_user=cast.sophie, anyway=True)
            actions.answer_question(w, question_id=question.pk, body="Six mois.", acting_user=cast.marc)
            actions.write_note(w, cid=cid(), body="Une piste", acting_user=cast.sophie)
        if step == Step.CONSULTATION:
            actions.contribute(w, cid=cid(), kind="idea", body="Un tour de table", acting_user=cast.julien)
        if step == Step.PLAN:
            actions.add_action(w, cid=cid(), what="Parler à chacun", acting_user=cast.marc)
        if step == Step.APPRENTISSAGE:
            actions.write_learning(w, cid=cid(), body="Écouter", acting_user=cast.julien)
            actions.evaluate(w, score=4, comment="Utile", acting_user=cast.sophie)
        for user in (cast.claire, cast.marc, cast.sophie):
            client.force_login(user)
            problems += audit(client.get(reverse("workshop", args=[w])), f"room step {step} as {user}")
            pages += 1
    actions.end(w, acting_user=cast.claire)
    pages += walk(client, world, problems)  # everything again, with an ended workshop and its records
    # Pages rendered after a refused form, and the throttle's refusal.
    client.logout()
    problems += audit(client.post(reverse("login"), {"username": "sophie", "password": "wrong"}), "login refused")
    problems += audit(client.post(reverse("join", args=[world.join_token]), {"first_name": "x" * 500}), "join refused")
    problems += audit(client.get(reverse("join", args=["gone"])), "join unknown")
    for _ in range(5):
        client.post(reverse("login"), {"username": "sophie", "password": "wrong"})
    problems += audit(client.post(reverse("login"), {"username": "sophie", "password": "pw-sophie"}), "login throttled")
    client.force_login(cast.sophie)
    problems += audit(client.post(reverse("group_create"), {"name": ""}), "group refused")
    assert pages > 200, "the walk reached the pages"
    assert not problems, "\n".join(sorted(set(problems)))


def test_the_server_error_page_has_the_policy_too(client, cast, settings):
    from django.urls import path

    def broken(request):
        raise RuntimeError("boom")

    settings.ROOT_URLCONF = type("urls", (), {"urlpatterns": [path("boom/", broken)], "handler500": None})
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    assert not audit(response, "500")


def test_downloads_are_not_pages(client, cast):
    client.force_login(cast.sophie)
    for name in ("journal_md", "journal_pdf"):
        response = client.get(reverse(name))
        assert response.status_code == 200 and not response["Content-Type"].startswith("text/html")
        assert "Content-Security-Policy" not in response, name


# --- templates, read as files: what the walk might not reach ---------------------------------------

PDF_CALL = re.compile(r"""(?:pdf_download|render_pdf)\(\s*["']([^"']+\.html)["']""")
INCLUDE = re.compile(r"""{%\s*include\s+["']([^"']+)["']""")


def template_files() -> dict[str, Path]:
    """Template name -> file, for every template directory of the project (not the venv)."""
    found = {}
    for base in [ROOT / "templates", *ROOT.glob("*/templates")]:
        for file in base.rglob("*.html"):
            found[file.relative_to(base).as_posix()] = file
    return found


def pdf_templates(files: dict[str, Path]) -> set[str]:
    """Templates rendered to PDF (and what they include): they are never served as pages."""
    roots = set()
    for source in ROOT.glob("*/**/*.py"):
        if ".venv" not in source.parts:
            roots |= set(PDF_CALL.findall(source.read_text(encoding="utf-8")))
    names = set(roots)
    for name in roots:
        if name in files:
            names |= set(INCLUDE.findall(files[name].read_text(encoding="utf-8")))
    return names


def test_served_templates_have_no_inline_script_style_or_handler():
    files = template_files()
    pdf = pdf_templates(files)
    assert "workshops/records/record_pdf.html" in pdf and "workshops/records/_pdf_style.html" in pdf
    problems = []
    for name, file in files.items():
        if name in pdf:
            continue
        text = file.read_text(encoding="utf-8")
        for pattern, what in [
            (r"<script(?![^>]*\bsrc=)", "inline <script>"),
            (r"<style", "<style> block"),
            (r"\sstyle\s*=", "style= attribute"),
            (r"\son[a-z]+\s*=", "on*= handler"),
            (r"javascript:", "javascript: URL"),
        ]:
            if re.search(pattern, text, re.IGNORECASE):
                problems.append(f"{name}: {what}")
    assert not problems, "\n".join(problems)


FORM = re.compile(r"<form\b[^>]*>.*?</form>", re.DOTALL | re.IGNORECASE)


def test_every_post_form_in_the_templates_has_its_csrf_token():
    files = template_files()
    pdf = pdf_templates(files)
    missing = []
    for name, file in files.items():
        if name in pdf:
            continue
        for form in FORM.findall(file.read_text(encoding="utf-8")):
            opening = form[: form.index(">") + 1]
            if re.search(r"""method\s*=\s*["']?post""", opening, re.IGNORECASE) and "{% csrf_token %}" not in form:
                missing.append(f"{name}: {opening}")
    assert not missing, "\n".join(missing)


def test_a_post_without_its_csrf_token_is_refused(cast, cid):
    cast.at_step(Step.CLARIFICATION)
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(reverse("login"), {"username": "sophie", "password": "pw-sophie"}).status_code == 403
    strict.force_login(cast.sophie)
    response = strict.post(reverse("workshop_act", args=[cast.workshop.pk]), {"type": "ask_question", "cid": cid(), "body": "?"})
    assert response.status_code == 403
    assert not cast.workshop.contributions.exists()


def test_a_post_from_a_foreign_origin_is_refused_even_with_a_token(cast):
    strict = Client(enforce_csrf_checks=True)
    page = strict.get(reverse("login"))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    response = strict.post(
        reverse("login"), {"username": "sophie", "password": "pw-sophie", "csrfmiddlewaretoken": token},
        HTTP_ORIGIN="http://evil.example",
    )
    assert response.status_code == 403 and SESSION_KEY not in strict.session


# --- passwords ----------------------------------------------------------------------------------


@pytest.fixture
def argon2(settings):
    settings.PASSWORD_HASHERS = configured.PASSWORD_HASHERS  # the real list, not the tests' fast MD5


def test_a_new_password_is_stored_with_argon2(argon2, db):
    user = User.objects.create_user("nadia", password="un mot de passe long")
    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password("un mot de passe long") and not user.check_password("autre")


def test_an_old_pbkdf2_hash_still_signs_in_and_is_upgraded(argon2, client, db):
    user = User.objects.create_user("paul")
    User.objects.filter(pk=user.pk).update(password=make_password("ancien secret", hasher="pbkdf2_sha256"))
    assert client.post(reverse("login"), {"username": "paul", "password": "faux"}).status_code == 200
    user.refresh_from_db()
    assert user.password.startswith("pbkdf2_sha256$"), "a wrong password upgrades nothing"
    assert client.post(reverse("login"), {"username": "paul", "password": "ancien secret"}).status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2$")
    client.logout()
    assert client.post(reverse("login"), {"username": "paul", "password": "ancien secret"}).status_code == 302


# --- sign-in links ------------------------------------------------------------------------------


def at(monkeypatch, moment: datetime.datetime):
    monkeypatch.setattr(signin_tokens, "_now", lambda: moment)


def test_a_sign_in_link_works_until_its_last_second_and_not_one_more(client, cast, settings, monkeypatch):
    settings.PASSWORD_RESET_TIMEOUT = 3600
    issued = datetime.datetime.now().replace(microsecond=0)
    at(monkeypatch, issued)
    path = signin_path(cast.sophie)
    at(monkeypatch, issued + datetime.timedelta(seconds=3601))
    assert client.get(path).url == reverse("login") and SESSION_KEY not in client.session
    at(monkeypatch, issued + datetime.timedelta(seconds=3600))
    assert client.get(path).url == reverse("home") and SESSION_KEY in client.session


def test_the_lifetime_comes_from_signin_link_timeout():
    assert django_settings.PASSWORD_RESET_TIMEOUT == django_settings.SIGNIN_LINK_TIMEOUT


def test_signing_in_any_way_uses_up_every_link_sent_before(client, cast):
    first, second = signin_path(cast.sophie), signin_path(cast.sophie)
    assert client.post(reverse("login"), {"username": "sophie", "password": "pw-sophie"}).status_code == 302
    client.logout()
    for path in (first, second):
        assert client.get(path).url == reverse("login")


def test_a_link_stops_working_when_the_password_changes(client, cast):
    path = signin_path(cast.sophie)
    cast.sophie.set_password("nouveau secret")
    cast.sophie.save()
    assert client.get(path).url == reverse("login")


def test_a_link_for_one_member_does_not_open_another_account(client, cast):
    uid = signin_path(cast.julien).split("/")[2]
    token = signin_path(cast.sophie).split("/")[3]
    assert client.get(f"/signin/{uid}/{token}/").url == reverse("login") and SESSION_KEY not in client.session


def test_an_inactive_member_cannot_use_his_link(client, cast):
    path = signin_path(cast.sophie)
    cast.sophie.is_active = False
    cast.sophie.save()
    assert client.get(path).url == reverse("login") and SESSION_KEY not in client.session
