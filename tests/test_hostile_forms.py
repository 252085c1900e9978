"""Hostile payloads at every form of the site (issue 4 §6): whatever is posted, the answer is a
page or a redirect (never a 500), a refusal says why, and nothing already saved is lost or altered.

The forms are found, not listed: every URL of the site is fetched as each kind of person, the
<form>s of each page are read, and each form's target becomes an endpoint to attack with the
fields that form has, as someone who was shown it. A new form is thus covered by itself; a URL
that accepts POST without any page showing its form must be declared in EXTRA_FORMS or NO_FORM.

Each example runs in a savepoint rolled back at its end, so every payload meets the same world
(tests/hostile.py)."""
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.contrib.messages import constants, get_messages
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from hypothesis import HealthCheck, event, example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.hostile import (
    HUGE,
    PLACEHOLDERS,
    SPECS,
    bind,
    build_world,
    changed_rows,
    foreign_keys,
    hostile_text,
    live_at,
    lost_rows,
    new_cid,
    owned_by_others,
    places,
    snapshot,
    texts,
)
from workshops import dispatch
from workshops.steps import Step

pytestmark = pytest.mark.django_db

ACTORS = ["sophie", "marc", "julien", "claire", "corinne", None]  # None: anonymous; the first shown a form posts it
DOWNLOAD = re.compile(r"\.(pdf|md|ics|csv|zip|json)$")  # not crawled for forms: files, not pages


# --- the site's URLs ----------------------------------------------------------------------


def url_names() -> dict[str, list[str]]:
    """Every named URL of the site: {name: its path parameters}."""
    names: dict[str, list[str]] = {}

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, f"{prefix}{p.namespace}:" if p.namespace else prefix)
            elif isinstance(p, URLPattern) and p.name:
                names[prefix + p.name] = list(p.pattern.converters)

    walk(get_resolver().url_patterns)
    return names


def fillers(world) -> dict[str, object]:
    """A value for each path parameter, naming something of Groupe Test its actor may use."""
    return {
        "group_id": world.cast.group.pk,
        "workshop_id": world.opening.pk,
        "session_id": world.ended.session_id,
        "cycle_id": world.cycle_id,
        "case_id": world.sophie_case.pk,
        "invitation_id": world.invitation_id,
        "handover_id": world.handover_id,
        "entry_id": world.entry_id,
        "token": world.token,
        "uidb64": "MQ",
        "record_id": world.record_id,
    }


# Forms shown only about another object than the fillers name: the self-assessment, once the
# workshop has ended.
FILLER_OVERRIDES = {"workshop_self_assessment": lambda world: {"workshop_id": world.ended.pk}}


def path_of(name: str, params: list[str], world, override: dict | None = None) -> str | None:
    values = {**fillers(world), **FILLER_OVERRIDES.get(name, lambda _world: {})(world)}
    if any(p not in values for p in params):
        return None
    return reverse(name, kwargs={p: (override or {}).get(p, values[p]) for p in params})


# --- finding the forms --------------------------------------------------------------------


@dataclass
class Form:
    target: str  # URL name posted to
    actor: str | None
    page: str  # URL name of the page that shows it (fetched again after a change)
    fields: dict[str, set] = field(default_factory=dict)  # name -> values seen (options, hidden…)
    required: set = field(default_factory=set)
    files: set = field(default_factory=set)
    variants: list[tuple[dict, set]] = field(default_factory=list)  # each <form> as shown: (fields, required)


class FormReader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self.current: dict | None = None
        self.select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.current = {"action": a.get("action") or "", "method": (a.get("method") or "get").lower(),
                            "fields": {}, "required": set(), "files": set()}
            self.forms.append(self.current)
        elif self.current is None:
            return
        elif tag in ("input", "textarea", "select", "button") and a.get("name"):
            name = a["name"]
            self.current["fields"].setdefault(name, set())
            if a.get("value") is not None:
                self.current["fields"][name].add(a["value"])
            if "required" in a:
                self.current["required"].add(name)
            if a.get("type") == "file":
                self.current["files"].add(name)
            self.select = name if tag == "select" else None
        elif tag == "option" and self.select and a.get("value") is not None:
            self.current["fields"][self.select].add(a["value"])

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None


def read_forms(html: str, page_path: str) -> list[dict]:
    reader = FormReader()
    reader.feed(html)
    forms = []
    for form in reader.forms:
        if form["method"] != "post":
            continue
        path = urlsplit(form["action"]).path or page_path
        form["target"] = resolve(path).url_name
        forms.append(form)
    return forms


def client_for(world, actor: str | None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if actor is not None:
        client.force_login(world.user(actor))
    return client


_FORMS: dict[str, Form] = {}  # found once per run: names and fields do not depend on row ids


def discover(world) -> dict[str, Form]:
    """Fetch every page as every actor and read its forms."""
    if _FORMS:
        return _FORMS
    for actor in ACTORS:
        client = client_for(world, actor)
        for name, params in url_names().items():
            path = path_of(name, params, world)
            if path is None or DOWNLOAD.search(path):
                continue
            response = client.get(path)
            cache.clear()  # a wrong link counts as a failed try: never let the crawl get throttled
            if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
                continue
            for found in read_forms(response.content.decode(), path):
                form = _FORMS.setdefault(found["target"], Form(found["target"], actor, name))
                if form.actor != actor:
                    continue  # the first actor shown it posts it; other pages may add fields
                for key, values in found["fields"].items():
                    form.fields.setdefault(key, set()).update(values)
                form.required |= found["required"]
                form.files |= found["files"]
                variant = ({k: set(v) for k, v in found["fields"].items()}, set(found["required"]))
                if variant not in form.variants:
                    form.variants.append(variant)
    return _FORMS


# Forms no page shows with the fixture's data, declared by hand: name -> (actor, page, fields).
EXTRA_FORMS: dict[str, tuple[str | None, str, dict[str, set]]] = {}

# URLs whose views answer POST like GET (pages, downloads) or refuse it: nothing to submit.
NO_FORM = {
    "home", "group", "workshop", "session", "session_attendance_pdf", "session_ics", "cycle_ics",
    "journal", "journal_md", "journal_pdf", "workshop_record_md", "workshop_record_pdf", "group_evaluations",
    "signin", "coordination", "my_data", "my_data_export", "client_records", "client_record_md", "group_audit",
    "workshop_clock",  # its forms post to workshop_act
    "workshop_projector",  # the room's shared screen: no form at all (GET only)
}


@pytest.fixture
def world():
    return build_world()


@pytest.fixture
def forms(world) -> dict[str, Form]:
    found = dict(discover(world))
    for name, (actor, page, fields_) in EXTRA_FORMS.items():
        found.setdefault(name, Form(name, actor, page, {k: set(v) for k, v in fields_.items()}))
    return found


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """Throttle counters in a cache of this test's own (never a shared Redis), emptied per example."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": new_cid()}}


# --- what a response says -----------------------------------------------------------------


class AlertReader(HTMLParser):
    """The texts a page shows as errors: role="alert" elements and error messages."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.texts: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self.depth:
            self.depth += 1
        elif a.get("role") == "alert" or (tag == "li" and "error" in (a.get("class") or "").split()):
            self.depth = 1
            self.texts.append("")

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.texts[-1] += data


def shown_errors(response) -> list[str]:
    texts = [m.message for m in get_messages(response.wsgi_request) if m.level >= constants.ERROR]
    if "text/html" in response.get("Content-Type", "") and not getattr(response, "streaming", False):
        reader = AlertReader()
        reader.feed(response.content.decode(errors="replace"))
        texts += reader.texts
    return [t.strip() for t in texts if str(t).strip()]


def shown_successes(response) -> list[str]:
    return [m.message for m in get_messages(response.wsgi_request) if m.level in (constants.SUCCESS, constants.INFO, constants.WARNING)]


REFUSING = {400, 403, 404, 405, 409, 410, 413, 429}


def judge(response, before, after, *, world, actor, payload) -> bool:
    """The assertions every answer obeys; returns whether the submission was accepted."""
    status = response.status_code
    assert status < 500, (status, payload)
    assert status in REFUSING | {200, 302}, (status, payload)
    errors, successes = shown_errors(response), shown_successes(response)
    refused = status >= 400 or (errors and not successes)
    if status == 400:
        assert errors, f"a 400 without a message saying why: {payload}"
    if refused:
        diff = changed_rows(before, after)
        assert not diff, f"refused ({status}: {errors}) yet saved content changed: {diff} for {payload}"
    else:
        untouchable = foreign_keys(world)
        diff = changed_rows(before, after, untouchable)
        assert not diff, f"the other group's content changed: {diff} for {payload}"
        lost = lost_rows(before, after, owned_by_others(world, world.user(actor)))
        assert not lost, f"rows of other people vanished: {lost} for {payload}"
    return not refused


# --- hostile payloads ---------------------------------------------------------------------

UNKNOWN_FIELDS = ["is_staff", "is_superuser", "owner", "owner_id", "group", "group_id", "role", "author", "pk", "id",
                  "status", "facilitator", "__proto__", "constructor", "type[]", "body[0]", "a" * 300, "é🙂", "u²", "u١", "u-1",
                  "u99999999999999999999"]
unknown_names = st.sampled_from(UNKNOWN_FIELDS) | texts.filter(lambda s: s and "\x00" not in s)


def csv_files():
    rows = st.lists(st.tuples(hostile_text, hostile_text).map(lambda r: f"{r[0]},{r[1]}"), max_size=5)
    good = st.builds(lambda body: "manager_email,report_email\n" + "\n".join(body), rows).map(lambda s: s.encode("utf-8", "replace"))
    content = good | st.binary(max_size=200) | st.sampled_from([b"", b"\xff\xfe\x00", b"manager_email;report_email\na@b.c;d@e.f",
                                                                 b"x" * (1024 * 1024 + 1)])
    return st.builds(lambda body, name: SimpleUploadedFile(name, body, "text/csv"), content, st.sampled_from(["lines.csv", "../../x.csv", "é.csv"]))


def sensible(world) -> list[str]:
    """Values a real user would type somewhere: names, addresses, dates, choices."""
    people = [world.user(n) for n in ("claire", "marc", "sophie", "julien", "corinne")] + world.others
    return [
        *(u.username for u in people), *(u.email for u in people if u.email), "newbie@example.org", "new.one@example.org",
        "Claire Morel <claire@example.org>", "a@example.org, b@example.org; c@example.org", "2030-05-01T18:00", "2030-05-01 18:00",
        "9999-12-31T23:59", "0001-01-01T00:00", "2030-03-31T02:30", "2030-10-27T02:30",  # the ends of time, DST gap and overlap
        "24", "6", "https://meet.example.org/codev", "monthly", "weekly", "long", "short", "custom", "manager", "report", "pw-sophie",
        "Une vraie phrase, avec des accents : é, à, ç.",
    ]


def field_values(world, seen: set) -> st.SearchStrategy:
    ids = [str(pk) for kind in world.ids.values() for pk in kind]
    one = hostile_text | st.sampled_from(sorted(seen) or [""]) | st.sampled_from(ids) | st.sampled_from(sensible(world))
    return one | st.lists(one, min_size=2, max_size=4)  # a list: the key repeated


def typical(name: str) -> str:
    """What a person would type in a field of this name: the base a hostile value is put into."""
    name = name.lower()
    if "email" in name:
        return "new.one@example.org"
    if name.endswith("_at") or "date" in name:
        return "2030-05-01T18:00"
    if "url" in name:
        return "https://meet.example.org/codev"
    if name in ("count", "months") or name.startswith("minutes"):
        return "6"
    return "Une vraie phrase, avec des accents : é, à, ç."


def base_of(form: Form, fields_: dict[str, set]) -> dict:
    """The form filled in as a person would: choices and hidden values as shown, typical text elsewhere."""
    payload = {}
    for name, seen in fields_.items():
        if name in form.files:
            payload[name] = SimpleUploadedFile("lines.csv", b"manager_email,report_email\na@example.org,b@example.org\n", "text/csv")
        elif seen - {""}:
            payload[name] = sorted(seen - {""})[0]
        else:
            payload[name] = typical(name)
    return payload


def payloads(world, form: Form) -> st.SearchStrategy:
    """Any subset of the form's fields with hostile or sensible values, or the form filled in as a
    person would with one or two fields made hostile; and fields nobody asked for."""
    names = sorted(form.fields)

    def value(name):
        if name in form.files:
            return csv_files() | hostile_text
        return field_values(world, form.fields[name])

    anything = st.fixed_dictionaries({}, optional={name: value(name) for name in names})
    bases = [base_of(form, fields_) for fields_, _required in form.variants] or [base_of(form, form.fields)]
    mutated = st.builds(
        lambda base, changes: {**base, **changes},
        st.sampled_from(bases),
        st.dictionaries(st.sampled_from(names), hostile_text, min_size=1, max_size=2) if names else st.just({}),
    )
    unknown = st.dictionaries(unknown_names, field_values(world, set()), max_size=3)
    return st.builds(lambda k, u: {**u, **k}, anything | mutated, unknown)


def act_messages(world) -> st.SearchStrategy:
    """What the room's forms post: mostly a known command with its own fields (dispatch.COMMANDS),
    sensible or hostile values; sometimes anything at all."""
    numbers = sorted({str(pk) for kind in world.ids.values() for pk in kind} | {str(n) for n in range(0, 7)} | {"60", "61"})
    words = ["idea", "experience", "resource", "perspective", "keep", "explore", "done", "in_progress", "dropped", "pause",
             "resume", "extend", "reset", "ideas", "reframing", "2030-12-31", "9999-12-31", "0001-01-01", "Une question ?",
             "Pourquoi pas ?"]
    number = st.sampled_from(PLACEHOLDERS) | st.sampled_from(numbers) | hostile_text
    text = st.sampled_from(words) | st.uuids().map(str) | hostile_text
    by_kind = {
        dispatch.INT: number,
        dispatch.TEXT: text,
        dispatch.LIST: st.lists(number, max_size=4),
        dispatch.FLAG: st.sampled_from(["1", "on", "true", "0", ""]) | hostile_text,
    }

    def typed(kind):
        spec = SPECS[kind]
        cid = st.uuids().map(str)
        required = {"cid": st.one_of(cid, cid, cid, text)} if "cid" in spec else {}
        optional = {name: by_kind[field_kind] for name, field_kind in spec.items() if name != "cid"}
        return st.fixed_dictionaries({"type": st.just(kind), **required}, optional=optional)

    every_field = sorted({name for spec in SPECS.values() for name in spec})
    anything = st.fixed_dictionaries(
        {"type": hostile_text | st.sampled_from(["sync", "ping", "delete_everything"])},
        optional={name: text | st.lists(text, max_size=3) for name in every_field},
    )
    known = st.sampled_from(sorted(SPECS)).flatmap(typed)
    unknown = st.dictionaries(unknown_names, text, max_size=2)
    return st.builds(lambda k, u: {**u, **k}, st.one_of(known, known, known, anything), unknown)


def intended(kind) -> st.SearchStrategy:
    return st.sampled_from(places(kind))


def room_examples(world) -> st.SearchStrategy:
    """(payload, workshop, step, actor): mostly where the command makes sense, else anywhere."""
    anywhere = st.tuples(st.sampled_from(WORKSHOPS), st.sampled_from(Step), st.sampled_from(["claire", "marc", "sophie", "julien"]))

    def place(payload):
        kind = payload.get("type")
        where = intended(kind) if kind in SPECS else anywhere
        return st.tuples(st.just(payload), st.one_of(where, where, anywhere))

    return act_messages(world).flatmap(place)


def short(payload) -> dict:
    """The payload as a failure message shows it (100 KB strings shortened)."""
    def cut(v):
        if isinstance(v, list):
            return [cut(x) for x in v]
        if isinstance(v, str) and len(v) > 80:
            return v[:40] + f"…({len(v)} chars)"
        return v if isinstance(v, str) else f"<file {getattr(v, 'name', v)!r}>"
    return {k[:60]: cut(v) for k, v in payload.items()}


def post(client, path, payload):
    for v in payload.values():  # files are read once: rewind for a replay by hypothesis
        for f in v if isinstance(v, list) else [v]:
            if hasattr(f, "seek"):
                f.seek(0)
    return client.post(path, payload)


def attack(world, path: str, actor, payload, *, pages=(), viewers=(), prepare=None):
    """One example: post in a savepoint, judge the answer, check that the pages showing what was
    saved still render for the actor and `viewers`, then roll back. `prepare` runs first, in the
    savepoint too (it brings the live workshop to a step)."""
    with transaction.atomic():
        if prepare is not None:
            payload = prepare() or payload
        before = snapshot()
        response = post(client_for(world, actor), path, payload)
        after = snapshot()
        accepted = judge(response, before, after, world=world, actor=actor, payload=short(payload))
        event(f"{response.status_code} {'accepted' if accepted else 'refused'}{' and saved' if after != before else ''}")
        if accepted and after != before:
            for who in {actor, *viewers}:
                client = client_for(world, who)
                for page in pages:
                    status = client.get(page).status_code
                    assert status < 500, (who, page, status, short(payload))
        transaction.set_rollback(True)
    cache.clear()


HYPOTHESIS = {"deadline": None, "database": None, "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                                                             HealthCheck.data_too_large]}


# --- the tests ----------------------------------------------------------------------------


def test_every_url_that_takes_a_post_is_attacked_or_declared_without_form(world, forms):
    names = set(url_names())
    unfillable = [n for n, params in url_names().items() if path_of(n, params, world) is None]
    assert not unfillable, f"give tests/test_hostile_forms.fillers a value for the path parameters of {unfillable}"
    undeclared = sorted(names - set(forms) - NO_FORM)
    assert not undeclared, f"no page shows a form posting to {undeclared}: add it to EXTRA_FORMS or NO_FORM"
    assert "workshop_act" in forms and "case_submit" in forms and "group_invite" in forms  # the crawl works
    assert not (set(forms) & NO_FORM), "a NO_FORM URL has a form now: remove it from NO_FORM"


# Explicit examples before the random ones: each value in every field one types in at once, and
# each value that targets a parser (NUL for PostgreSQL, the ends of the calendar, a 40-digit number)
# in one field at a time, the others filled in as a person would (else an early refusal hides it).
SWEEP_ALL = ["\x01\x08\x1b[31m\x7f", "\u202e\u200b\ufeff", HUGE, "<script>alert(1)</script>'; DROP TABLE workshops_case; -- %(name)s {{ x }}"]
SWEEP_ONE = ["a\x00b", "9999-12-31T23:59", "0001-01-01T00:00", "9" * 40]


def sweeps(form: Form) -> list[dict]:
    shapes = {frozenset(fields_): fields_ for fields_, _required in form.variants} or {frozenset(form.fields): form.fields}
    found = []
    for fields_ in shapes.values():
        base = base_of(form, fields_)
        free = [name for name, seen in fields_.items() if not seen - {""} and name not in form.files and name != "csrfmiddlewaretoken"]
        found += [{**base, **dict.fromkeys(free, value)} for value in SWEEP_ALL if free]
        found += [{**base, name: value} for name in fields_ if name not in form.files and name != "csrfmiddlewaretoken"
                  for value in SWEEP_ONE]
    return found


FORM_NAMES = sorted(set(url_names()) - NO_FORM - {"workshop_act"})


@pytest.mark.parametrize("name", FORM_NAMES)
def test_a_form_survives_hostile_payloads(world, forms, name):
    form = forms.get(name)
    if form is None:
        pytest.fail(f"no form found for {name} (see test_every_url_that_takes_a_post_is_attacked_or_declared_without_form)")
    params = url_names()[name]
    page_path = path_of(form.page, url_names()[form.page], world)
    others = {"group_id": world.other_group.pk, "workshop_id": world.ids["workshop"][-1], "session_id": world.ids["session"][0]}
    weird_ids = st.sampled_from([0, 2**31, 2**63 - 1, 10**30, *others.values()])
    overrides = st.none() | st.fixed_dictionaries({p: weird_ids for p in params if p.endswith("_id")})

    @hsettings(max_examples=10, **HYPOTHESIS)
    @given(payload=payloads(world, form), override=overrides)
    def run(payload, override):
        path = path_of(name, params, world, override)
        attack(world, path, form.actor, payload, pages=[page_path, reverse("home")] if form.actor else [page_path])

    for payload in sweeps(form):
        run = example(payload=payload, override=None)(run)
    run()


WORKSHOPS = ("ended", "opening", "live")


@pytest.fixture
def room_world():
    return build_world(live_step=Step.EXPOSE)


def test_the_room_form_survives_hostile_commands(room_world):
    """The plain-HTML fallback of the room (workshop_act): every command, as every member, in the
    ended workshop, the opening of the next session, and the live one at any step."""
    world = room_world

    @hsettings(max_examples=100, **HYPOTHESIS)
    @given(example=room_examples(world))
    def run(example):
        payload, (which, step, actor) = example
        workshop_id = getattr(world, which).pk
        path, page = reverse("workshop_act", args=[workshop_id]), reverse("workshop", args=[workshop_id])

        def prepare():
            if which == "live":
                live_at(world, step)
            return bind(world, workshop_id, payload)

        attack(world, path, actor, payload, pages=[page], viewers=["claire", "sophie"], prepare=prepare)

    run()


def _blank_required(form: Form) -> list[dict]:
    """Each variant of the form as shown, its required fields missing, empty, or blank."""
    payloads = []
    for fields_, required in form.variants:
        if not required:
            continue
        base = {k: sorted(v)[0] for k, v in fields_.items() if v and k not in form.files}
        payloads += [
            {k: v for k, v in base.items() if k not in required},
            {**base, **{k: "" for k in required}},
            {**base, **{k: " \t\n\u00a0\u3000" if k not in form.files else "" for k in required}},
        ]
    return payloads


def test_a_required_field_left_blank_is_refused_with_a_message(world, forms):
    """Every form whose page marks a field required: sent without it, empty, or blank, it is
    refused with a message saying why, and nothing is saved."""
    checked = []
    for name in FORM_NAMES:
        form = forms.get(name)
        if form is None or not form.required:
            continue
        path = path_of(name, url_names()[name], world)
        for payload in _blank_required(form):
            before = snapshot()
            with transaction.atomic():
                response = post(client_for(world, form.actor), path, payload)
                assert response.status_code < 500, (name, payload)
                assert shown_errors(response) or response.status_code in REFUSING - {400}, (
                    f"{name}: a submission without its required fields {sorted(form.required)} got no error message: {payload}"
                )
                assert not changed_rows(before, snapshot()), (name, payload)
                transaction.set_rollback(True)
            cache.clear()
        checked.append(name)
    assert {"case_submit", "journal_add", "group_invite", "cycle_create"} <= set(checked)


def test_a_post_to_a_page_without_form_changes_nothing(world):
    """Pages and downloads answer a POST like a GET, or refuse it: never a 500, never a change."""
    payload = {"body": "<script>alert(1)</script>", "type": "end", "reason": HUGE, "x": ["1", "2"], "\u202e": "\x00"}
    for name in sorted(NO_FORM):
        path = path_of(name, url_names()[name], world)
        for actor in ("claire", "marc"):
            before = snapshot()
            with transaction.atomic():
                response = client_for(world, actor).post(path, payload)
                assert response.status_code < 500, (name, actor)
                assert not changed_rows(before, snapshot()), (name, actor)
                transaction.set_rollback(True)
            cache.clear()
