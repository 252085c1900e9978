"""Zero leaks: every page and every websocket message type, as every role, against the rule table.

A world is built through the domain where every piece of content is a unique marker ("SECRET…"),
each with the set of roles that may read it. Then:

- every URL pattern of the site is requested as every role (GET, and POST with an empty body
  when GET is not allowed), with its parameters filled from the world (our group, and another
  group the outsider belongs to); the status must follow codev.url_rules.RULES, a refused request
  must change nothing, and no response — page, PDF, Markdown, calendar, JSON, headers — may hold a
  marker its viewer may not read. Every marker must also be seen by exactly the roles allowed to:
  the world really contains what the test looks for.
- every websocket message type is sent by every member while a session opens and its workshop
  runs through the six steps; anonymous visitors, outsiders, the coordinator and the superuser
  cannot connect; no frame reaches a member with another member's private note or evaluation
  comment, or the vote tally unless he is the facilitator; catching up from any sequence number
  shows only what the member may see.

Each request runs in a transaction rolled back afterwards, so a request cannot change the world
the next one sees.
"""
import io
import itertools
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async as db
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.core.cache import cache
from django.db import connection, transaction
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from pypdf import PdfReader

from codev.url_rules import ALL_RULES, CLIENT, COORDINATOR, FACILITATOR, MEMBER, OWNER, PUBLIC, RULES, SIGNED_IN
from privacy import retention
from privacy.models import ClientRecord
from tests import ws
from tests.ws import collect_until, command, send
from workshops import actions, attendance, followup, guidance, journal, membership, pool, sessions, speaking
from workshops.dispatch import CASE_COMMAND, COMMANDS
from workshops.events import STRUCTURAL
from workshops.models import Case, Cycle, Group, JournalEntry, Session, Workshop
from workshops.steps import LAST, Step

consumer_hygiene, sockets = ws.consumer_hygiene, ws.sockets  # fixtures for the socket tests

# --- roles -------------------------------------------------------------------------------------

ANONYMOUS, OUTSIDER, COORDINATOR_ROLE, SUPERUSER = "anonymous", "outsider", "coordinator", "superuser"
MEMBER_ROLE, OTHER_MEMBER, CLIENT_ROLE, FACILITATOR_ROLE = "member", "other member", "client", "facilitator"
ROLES = (ANONYMOUS, OUTSIDER, COORDINATOR_ROLE, SUPERUSER, MEMBER_ROLE, OTHER_MEMBER, CLIENT_ROLE, FACILITATOR_ROLE)
GROUP = frozenset({MEMBER_ROLE, OTHER_MEMBER, CLIENT_ROLE, FACILITATOR_ROLE})  # members of our group
NOBODY = frozenset()


def only(*roles) -> frozenset:
    return frozenset(roles)


# --- the world ---------------------------------------------------------------------------------


@dataclass
class World:
    users: dict  # role → User (None for the anonymous visitor)
    group: Group
    other: Group
    markers: dict = field(default_factory=dict)  # marker → roles that may read it
    scopes: list = field(default_factory=list)  # each: URL parameter → values to try
    w1: Workshop = None  # ended: the whole workshop
    w2: Workshop = None  # live, in the consultation
    w3: Workshop = None  # planned: the opening of the next session, votes cast
    cases: dict = field(default_factory=dict)

    def role_of(self, user) -> str | None:
        return next((role for role, u in self.users.items() if u is not None and u.pk == getattr(user, "pk", None)), None)

    def secret(self, name: str, visible: frozenset) -> str:
        """A unique marker for a piece of content, and who may read it."""
        marker = f"SECRET{name}7f3a"
        assert marker not in self.markers
        self.markers[marker] = visible
        return marker


def _cid() -> str:
    return str(uuid.uuid4())


def _join(group, facilitator, email, first, last):
    """Invite by e-mail and join with the link, as a new member does."""
    tokens = []
    membership.invite(group, email, acting_user=facilitator, join_url=lambda t: tokens.append(t) or f"http://testserver/join/{t}/")
    user, _group = membership.accept_invitation(tokens[-1], first_name=first, last_name=last)
    return user


def _capture(tokens: list):
    return lambda token: tokens.append(token) or f"http://testserver/join/{token}/"


def build_world() -> World:
    cora = User.objects.create_user("cora", email="cora@example.org", first_name="Cora", last_name="Coordinatrice")
    cora.user_permissions.add(Permission.objects.get(codename="coordinate", content_type__app_label="workshops"))
    root = User.objects.create_superuser("root", email="root@example.org", password="pw-root")
    tokens: list[str] = []

    # Our group: the coordinator creates it for Félix, then names Fabienne instead (a handover).
    group = membership.create_group_for("Groupe Confiance", "felix@example.org", acting_user=cora, join_url=_capture(tokens))
    membership.accept_invitation(tokens[-1], first_name="Félix", last_name="Ancien")
    handover = membership.assign_facilitator(group, "fabienne@example.org", acting_user=cora, join_url=_capture(tokens))
    fabienne, _group = membership.accept_invitation(tokens[-1])
    users = {ANONYMOUS: None, COORDINATOR_ROLE: User.objects.get(pk=cora.pk), SUPERUSER: root, FACILITATOR_ROLE: fabienne}
    world = World(users=users, group=group, other=None)
    s = world.secret

    marc = _join(group, fabienne, "marc@example.org", "Marc", s("NAMEclient", GROUP))
    sophie = _join(group, fabienne, "sophie@example.org", "Sophie", s("NAMEmember", GROUP))
    julien = _join(group, fabienne, "julien@example.org", "Julien", s("NAMEother", GROUP))
    users.update({CLIENT_ROLE: marc, MEMBER_ROLE: sophie, OTHER_MEMBER: julien})
    invitation = membership.invite(group, "newcomer@example.org", acting_user=fabienne, join_url=_capture(tokens))
    join_token = tokens[-1]

    # Another group, the outsider's: he sees its pool, never ours.
    other = membership.create_group_for("Autre groupe", "oscar@example.org", acting_user=cora, join_url=_capture(tokens))
    oscar, _group = membership.accept_invitation(tokens[-1])
    otto = _join(other, oscar, "otto@example.org", "Otto", s("NAMEoutsider", only(OUTSIDER)))
    users[OUTSIDER] = otto
    world.other = other
    other_case = pool.submit_case(other.pk, title=s("otherpool", only(OUTSIDER)), acting_user=otto)
    other_session = sessions.plan_session(other, facilitator=oscar)
    other_entry = journal.add_entry(otto, body=s("journaloutsider", only(OUTSIDER)))

    # Cases in our pool, a cycle of three sessions.
    case1 = pool.submit_case(group.pk, title=s("casetitle", GROUP), summary=s("casesummary", GROUP),
                             stakes=s("casestakes", GROUP), urgency=3, acting_user=marc)
    case_j = pool.submit_case(group.pk, title=s("casejulien", GROUP), acting_user=julien)
    case_s = pool.submit_case(group.pk, title=s("poolcase", GROUP), summary=s("poolsummary", GROUP), acting_user=sophie)
    case2 = pool.submit_case(group.pk, title=s("secondcase", GROUP), acting_user=marc)
    world.cases = {"marc": case1, "julien": case_j, "sophie": case_s, "marc2": case2}
    cycle = sessions.plan_cycle(group, title="Cycle 2026", first_starts_at=timezone.now() + timedelta(days=1),
                                rhythm=Cycle.MONTHLY, count=3, acting_user=fabienne)
    s1, s2, s3 = cycle.sessions.order_by("number")
    w1, w2, w3 = (session.workshops.get() for session in (s1, s2, s3))

    # Session 1: a whole workshop on Marc's case.
    w = w1.pk
    authors = {MEMBER_ROLE: sophie, OTHER_MEMBER: julien, CLIENT_ROLE: marc, FACILITATOR_ROLE: fabienne}
    actions.designate_case(w, case1.pk, acting_user=fabienne)
    actions.start(w, acting_user=fabienne)
    actions.edit_case(w, fields={"context": s("casecontext", GROUP), "problem": s("caseproblem", GROUP)}, acting_user=marc)
    for role, user in authors.items():
        actions.write_note(w, cid=_cid(), body=s(f"note{role.replace(' ', '')}", only(role)), acting_user=user)
    actions.advance(w, from_step=Step.EXPOSE, acting_user=fabienne)
    question = actions.ask_question(w, cid=_cid(), body=s("question", GROUP), anyway=True, acting_user=sophie)
    actions.answer_question(w, question_id=question.pk, body=s("answer", GROUP), acting_user=marc)
    actions.advance(w, from_step=Step.CLARIFICATION, acting_user=fabienne)
    actions.write_request(w, request=s("request", GROUP), help_kinds=["ideas"], acting_user=marc)
    actions.advance(w, from_step=Step.CONTRAT, acting_user=fabienne)
    speaking.give_floor(w, user_id=sophie.pk, acting_user=fabienne)  # the session record keeps who spoke
    kept = actions.contribute(w, cid=_cid(), kind="idea", body=s("contribution", GROUP), acting_user=sophie)
    actions.contribute(w, cid=_cid(), kind="experience", body=s("contributionother", GROUP), acting_user=julien)
    actions.mark_contribution(w, contribution_id=kept.pk, mark="keep", acting_user=marc)
    actions.advance(w, from_step=Step.CONSULTATION, acting_user=fabienne)
    plan = actions.add_action(w, cid=_cid(), what=s("planwhat", GROUP), first_step=s("planfirst", GROUP),
                              success_sign=s("plansign", GROUP), kept=[kept.pk], acting_user=marc)
    actions.advance(w, from_step=Step.PLAN, acting_user=fabienne)
    for role, user in authors.items():
        actions.write_learning(w, cid=_cid(), body=s(f"learning{role.replace(' ', '')}", GROUP), acting_user=user)
    for role, user in ((MEMBER_ROLE, sophie), (OTHER_MEMBER, julien), (CLIENT_ROLE, marc)):
        comment = s(f"evaluation{role.replace(' ', '')}", only(role, FACILITATOR_ROLE))
        actions.evaluate(w, score=4, comment=comment, acting_user=user)
    actions.end(w, acting_user=fabienne)
    attendance.mark_all(s1, {u.pk: True for u in authors.values()}, acting_user=fabienne)

    # Session 2: Marc reports on his plan at the opening; Julien's case, live in the consultation.
    w = w2.pk
    followup.report(w, action_id=plan.pk, followup="in_progress", comment=s("followup", GROUP), acting_user=marc)
    pool.vote(w, votes=[case_j.pk], acting_user=sophie)
    actions.designate_case(w, case_j.pk, acting_user=fabienne)
    actions.start(w, acting_user=fabienne)
    actions.advance(w, from_step=Step.EXPOSE, acting_user=fabienne)
    actions.ask_question(w, cid=_cid(), body=s("questionlive", GROUP), anyway=True, acting_user=sophie)
    actions.advance(w, from_step=Step.CLARIFICATION, acting_user=fabienne)
    actions.advance(w, from_step=Step.CONTRAT, acting_user=fabienne)
    actions.contribute(w, cid=_cid(), kind="idea", body=s("contributionlive", GROUP), acting_user=sophie)
    speaking.raise_hand(w, acting_user=julien)
    speaking.give_floor(w, user_id=sophie.pk, acting_user=fabienne)
    actions.write_note(w, cid=_cid(), body=s("notelivemember", only(MEMBER_ROLE)), acting_user=sophie)
    actions.write_note(w, cid=_cid(), body=s("noteliveother", only(OTHER_MEMBER)), acting_user=julien)

    # Session 3 opens: votes; the tally, rotation and suggestion are the facilitator's alone.
    pool.vote(w3.pk, votes=[case_s.pk, case_s.pk, case2.pk], acting_user=sophie)
    pool.vote(w3.pk, votes=[case2.pk], acting_user=julien)
    world.markers['class="tally"'] = only(FACILITATOR_ROLE)
    world.markers['class="rotation"'] = only(FACILITATOR_ROLE)
    world.markers['id="suggestion"'] = only(FACILITATOR_ROLE)
    # Speaking figures: live, the facilitator's alone; in the session record, the group's (never the coordinator's).
    world.markers['id="speaking-balance"'] = only(FACILITATOR_ROLE)
    world.markers['id="speaking-record"'] = GROUP

    # Private things of each one: journals, a reporting line.
    entry = journal.add_entry(sophie, body=s("journalmember", only(MEMBER_ROLE)))
    for role in (OTHER_MEMBER, CLIENT_ROLE, FACILITATOR_ROLE):
        journal.add_entry(users[role], body=s(f"journal{role.replace(' ', '')}", only(role)))
    guidance.save_self_assessment(w1.pk, acting_user=fabienne, answers=dict.fromkeys(guidance.ITEM_KEYS, "partly"),
                                  comment=s("selfassessment", only(FACILITATOR_ROLE)))
    manager = "secretmanager7f3a"  # addresses are kept in lower case
    world.markers[manager] = only(MEMBER_ROLE)
    membership.declare_reporting_line(sophie, f"{manager}@example.org", membership.MANAGER)

    # A workshop past its retention: its content is purged, the client keeps his record.
    record = _kept_record(world, group, fabienne, marc)

    world.w1, world.w2, world.w3 = (Workshop.objects.get(pk=x.pk) for x in (w1, w2, w3))
    world.scopes = [
        {
            "group_id": [group.pk], "workshop_id": [w1.pk, w2.pk, w3.pk], "session_id": [s1.pk, s2.pk, s3.pk],
            "cycle_id": [cycle.pk], "case_id": [case_s.pk], "entry_id": [entry.pk], "invitation_id": [invitation.pk],
            "handover_id": [handover.pk], "token": [join_token], "record_id": [record.pk] if record else [],
        },
        {
            "group_id": [other.pk], "workshop_id": [other_session.workshops.get().pk], "session_id": [other_session.pk],
            "case_id": [other_case.pk], "entry_id": [other_entry.pk],
        },
    ]
    return world


def _kept_record(world: World, group, fabienne, marc):
    """An old workshop on another case of Marc's, purged: only he keeps its record."""
    case = pool.submit_case(group.pk, title=world.secret("keptcase", only(CLIENT_ROLE)), acting_user=marc)
    old = sessions.plan_session(group, facilitator=fabienne, number=0).workshops.get()
    actions.designate_case(old.pk, case.pk, acting_user=fabienne)
    actions.start(old.pk, acting_user=fabienne)
    actions.end(old.pk, reason="short", acting_user=fabienne)
    retention.purge_workshop(old, now=timezone.now())
    return ClientRecord.objects.filter(owner=marc).first()


# --- URLs --------------------------------------------------------------------------------------


def url_patterns(resolver=None, prefix=""):
    """(name, route) of every named URL pattern of the site."""
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            yield from url_patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern) and entry.name:
            yield entry.name, prefix + str(entry.pattern)


PARAM = re.compile(r"<(?:\w+:)?(\w+)>")
# Per URL name, parameters that are not the world's objects.
OVERRIDES = {"signin": {"uidb64": ["MQ"], "token": ["not-a-valid-token"]}}
# Views that answer a refused action with a message and a redirect, as for any refused action.
REFUSED_BY_REDIRECT = {"case_withdraw"}


def concrete_urls(world: World):
    """(name, url, kwargs) for every URL pattern, each parameter filled from each scope."""
    for name, route in url_patterns():
        params = PARAM.findall(route)
        if not params:
            yield name, reverse(name), {}
            continue
        done = set()
        for scope in world.scopes:
            values = {**scope, **OVERRIDES.get(name, {})}
            missing = [p for p in params if p not in values]
            assert not [p for p in missing if not any(p in s for s in world.scopes)], (
                f"{name}: no value for {missing} — add one to the world's scopes in tests/test_leaks.py"
            )
            if missing or not all(values[p] for p in params):
                continue
            for combo in itertools.product(*(values[p] for p in params)):
                kwargs = dict(zip(params, combo, strict=True))
                key = tuple(sorted(kwargs.items()))
                if key not in done:
                    done.add(key)
                    yield name, reverse(name, kwargs=kwargs), kwargs


def _group_of(kwargs) -> Group | None:
    if "group_id" in kwargs:
        return Group.objects.get(pk=kwargs["group_id"])
    for param, model in (("workshop_id", Workshop), ("session_id", Session), ("cycle_id", Cycle), ("case_id", Case)):
        if param in kwargs:
            return model.objects.get(pk=kwargs[param]).group
    return None


def _owner_of(kwargs):
    if "entry_id" in kwargs:
        return JournalEntry.objects.get(pk=kwargs["entry_id"]).owner
    if "case_id" in kwargs:
        return Case.objects.get(pk=kwargs["case_id"]).owner
    if "record_id" in kwargs:
        return ClientRecord.objects.get(pk=kwargs["record_id"]).owner
    return None


def allowed_roles(world: World, rule: str, kwargs: dict) -> frozenset:
    signed_in = frozenset(ROLES) - {ANONYMOUS}
    if rule == PUBLIC:
        return frozenset(ROLES)
    if rule == SIGNED_IN:
        return signed_in
    if rule == COORDINATOR:
        return only(COORDINATOR_ROLE, SUPERUSER)
    if rule == OWNER:
        owner = _owner_of(kwargs)
        return signed_in if owner is None and not kwargs else only(*filter(None, [world.role_of(owner)]))
    group = _group_of(kwargs)
    members = {m.user_id: m.role for m in group.memberships.all()}
    if rule == MEMBER:
        return only(*(r for r, u in world.users.items() if u is not None and u.pk in members))
    if rule == FACILITATOR:
        heads = {pk for pk, role in members.items() if role == "facilitator"}
        if "session_id" in kwargs:
            heads.add(Session.objects.get(pk=kwargs["session_id"]).facilitator_id)
        return only(*(r for r, u in world.users.items() if u is not None and u.pk in heads))
    if rule == CLIENT:
        workshop = Workshop.objects.select_related("case").get(pk=kwargs["workshop_id"])
        client = workshop.case.owner if workshop.case_id else None
        return only(*filter(None, [world.role_of(client)]))
    raise AssertionError(f"unknown rule {rule!r}")


# --- responses as text ---------------------------------------------------------------------------

SPACE = re.compile(r"\s+")


def readable(response) -> str:
    """Everything a response shows, whitespace removed (PDF lines and .ics folding split words):
    the body, PDF text extracted, and the headers (a download's file name)."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if response.get("Content-Type", "").startswith("application/pdf"):
        text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    else:
        text = content.decode("utf-8", errors="replace")
    headers = " ".join(f"{k}: {v}" for k, v in response.items())
    return SPACE.sub("", text + headers)


def _rows(model) -> list:
    """The table's raw rows, as stored (encrypted text stays encrypted: reading is fast)."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 (a table name from the models)
        return sorted(cursor.fetchall(), key=repr)


def fingerprint() -> list:
    """The state a refused request must not change: every row of the domain (the audit log aside:
    it may note that something was refused)."""
    models = [m for m in apps.get_app_config("workshops").get_models() if m.__name__ != "Presence"]
    models += [User, *(m for m in apps.get_app_config("privacy").get_models() if m.__name__ != "AuditEntry")]
    return [_rows(m) for m in models]


@dataclass
class Walk:
    world: World
    problems: list = field(default_factory=list)
    seen: dict = field(default_factory=lambda: defaultdict(set))
    clients: dict = field(default_factory=dict)

    def client(self, role: str) -> Client:
        """One browser per role; signed in again if a request (logout, sign-in link) changed that."""
        user = self.world.users[role]
        client = self.clients.setdefault(role, Client(HTTP_ACCEPT_LANGUAGE="en"))
        if user is not None and client.session.get("_auth_user_id") != str(user.pk):
            client.force_login(user)
        return client

    def request(self, role, method, url, *, refused: bool):
        client = self.client(role)
        cache.clear()  # the sign-in throttle would count the walk's hundreds of requests
        with transaction.atomic():
            before = fingerprint() if refused else None
            response = getattr(client, method)(url)
            text = readable(response)
            changed = refused and fingerprint() != before
            transaction.set_rollback(True)
        return response, text, changed

    def check(self, name, url, kwargs, rule):
        allowed = allowed_roles(self.world, rule, kwargs)
        for role in ROLES:
            refused = role not in allowed
            method = "get"
            response, text, changed = self.request(role, method, url, refused=refused)
            if response.status_code == 405:
                method = "post"
                response, text, changed = self.request(role, method, url, refused=refused)
            where = f"{method.upper()} {url} ({name}, rule {rule}) as {role}"
            self.status(where, name, rule, role, refused, response)
            if changed:
                self.problems.append(f"{where}: refused, yet it changed the database")
            for marker, visible in self.world.markers.items():
                if marker in text:
                    self.seen[marker].add(role)
                    if role not in visible:
                        self.problems.append(f"LEAK {where}: shows {marker}, which only {sorted(visible)} may read")

    def status(self, where, name, rule, role, refused, response):
        code, location = response.status_code, response.get("Location", "")
        to_login = code == 302 and location.startswith(resolve_url(settings.LOGIN_URL))
        if not refused:
            ok = code in (200, 302, 400, 405, 410) and (rule == PUBLIC or not to_login)
        elif role == ANONYMOUS:
            ok = to_login
        else:
            ok = code in (403, 404, 405) or (name in REFUSED_BY_REDIRECT and code == 302 and not to_login)
        if not ok:
            verdict = "refused" if refused else "allowed"
            self.problems.append(f"{where}: {verdict} by the rule, got {code} {location}")


def test_every_url_name_has_a_rule():
    names = {name for name, _route in url_patterns()}
    missing = sorted(names - set(RULES))
    assert not missing, (
        f"URL names without a rule: {missing}. Declare who may reach each one in codev/url_rules.py (RULES)."
    )
    assert not sorted(set(RULES) - names), f"rules for URL names that no longer exist: {sorted(set(RULES) - names)}"
    assert set(RULES.values()) <= set(ALL_RULES)


@pytest.mark.django_db
def test_no_page_shows_anything_to_whom_may_not_read_it():
    world = build_world()
    walk = Walk(world)
    for name, url, kwargs in concrete_urls(world):
        rule = RULES.get(name)
        if rule is None:
            walk.problems.append(f"{url}: the URL name {name!r} has no rule; declare it in codev/url_rules.py")
            continue
        walk.check(name, url, kwargs, rule)
    assert not walk.problems, "\n".join(walk.problems)
    unseen = sorted(m for m, visible in world.markers.items() if visible and not walk.seen[m])
    assert not unseen, f"markers no allowed role ever saw (the world or the walk is wrong): {unseen}"


# --- websockets ------------------------------------------------------------------------------------

ROOM_ROLES = (CLIENT_ROLE, MEMBER_ROLE, OTHER_MEMBER, FACILITATOR_ROLE)  # the facilitator acts last: he moves on
PRIVATE_TYPES = {"write_note", "evaluate"}  # what they carry is its author's alone in the room
SOCKET_TYPES = ("sync", "ping")  # answered by the consumer itself


def frame_text(frame) -> str:
    """Every string a frame carries (keys included), HTML fragments and event data alike."""
    if isinstance(frame, dict):
        return " ".join(frame_text(k) + " " + frame_text(v) for k, v in frame.items())
    if isinstance(frame, list):
        return " ".join(frame_text(item) for item in frame)
    return str(frame)


def room_visibility(world: World, marker: str) -> frozenset:
    """Who may read a marker in a room: as on the pages, except that evaluation comments reach the
    facilitator only on his evaluations page, never over the socket."""
    visible = world.markers[marker]
    return visible - {FACILITATOR_ROLE} if marker.startswith("SECRETevaluation") else visible


@dataclass
class Room:
    world: World
    workshop_id: int
    sockets: dict  # role → communicator
    frames: dict = field(default_factory=lambda: defaultdict(list))
    sent: dict = field(default_factory=lambda: defaultdict(int))

    @staticmethod
    def prefix(kind: str, role: str) -> str:
        return f"SECRETws{kind.replace('_', '')}{role.replace(' ', '')}n"

    def secret(self, kind: str, role: str) -> str:
        self.sent[kind, role] += 1
        visible = only(role) if kind in PRIVATE_TYPES else GROUP
        return self.world.secret(self.prefix(kind, role)[len("SECRET"):] + str(self.sent[kind, role]), visible)

    async def send_all(self, role: str, step) -> None:
        """One message of every type from this member, with a fresh marker in each text field."""
        comm = self.sockets[role]
        for kind in [*COMMANDS, CASE_COMMAND]:
            if kind == "end" and (role != FACILITATOR_ROLE or step == LAST):
                continue  # the facilitator ends the workshop at the very end
            message = await db(self.message)(kind, role)
            reply, before = await command(comm, message)
            self.frames[role] += [*before, reply]
        ref = uuid.uuid4().hex
        await send(comm, {"type": "ping", "ref": ref})
        self.frames[role] += await collect_until(comm, lambda m: m["type"] == "pong" and m.get("ref") == ref)
        await self.sync(role, 0)

    async def sync(self, role: str, since: int) -> None:
        comm = self.sockets[role]
        await send(comm, {"type": "sync", "since": since})
        self.frames[role] += await collect_until(comm, lambda m: m["type"] in ("synced", "snapshot"))

    def message(self, kind: str, role: str) -> dict:
        """A plausible message of each type: the ids of what is in the room, a marker in each text."""
        w, world = self.workshop_id, self.world
        latest = Workshop.objects.get(pk=w).contributions.order_by("-id")
        question = latest.filter(kind="question").first()
        contribution = latest.exclude(kind="question").first()
        plan = world.w1.actions.first()
        messages = {
            "designate_case": lambda: {"case_id": world.cases["marc2"].pk},
            "start": lambda: {},
            "vote": lambda: {"votes": [world.cases["sophie"].pk, world.cases["marc2"].pk]},
            "report_followup": lambda: {"action_id": plan.pk if plan else 0, "followup": "done", "comment": self.secret(kind, role)},
            "close_plan": lambda: {"plan_id": world.w1.pk},
            "advance": lambda: {"from_step": 0, "override_reason": self.secret(kind, role)},  # stale: a conflict
            "go_back": lambda: {"from_step": 0, "reason": self.secret(kind, role)},
            "timer": lambda: {"op": "extend", "minutes": 1},
            "end": lambda: {"reason": ""},  # before the last step, refused without a reason
            "write_note": lambda: {"cid": _cid(), "body": self.secret(kind, role)},
            "ask_question": lambda: {"cid": _cid(), "body": self.secret(kind, role), "anyway": True},
            "answer_question": lambda: {"question_id": question.pk if question else 0, "body": self.secret(kind, role)},
            "write_request": lambda: {"request": self.secret(kind, role), "help_kinds": ["ideas"]},
            "accept_rules": lambda: {},
            "contribute": lambda: {"cid": _cid(), "kind": "idea", "body": self.secret(kind, role)},
            "mark_contribution": lambda: {"contribution_id": contribution.pk if contribution else 0, "mark": "keep"},
            "add_action": lambda: {"cid": _cid(), "what": self.secret(kind, role), "success_sign": self.secret(kind, role)},
            "write_learning": lambda: {"cid": _cid(), "body": self.secret(kind, role)},
            "evaluate": lambda: {"score": 3, "comment": self.secret(kind, role)},
            "raise_hand": lambda: {},
            "lower_hand": lambda: {"user_id": world.users[OTHER_MEMBER].pk},
            "give_floor": lambda: {"user_id": world.users[MEMBER_ROLE].pk},
            "speak": lambda: {"on": True},
            "end_turn": lambda: {},
            CASE_COMMAND: lambda: {"context": self.secret(kind, role), "problem": self.secret(kind, role)},
        }
        assert kind in messages, f"no test message for the websocket type {kind!r}: add one to Room.message in tests/test_leaks.py"
        return {"type": kind, **messages[kind]()}

    def leaks(self) -> list[str]:
        found = []
        for role, frames in self.frames.items():
            for frame in frames:
                text = frame_text(frame)
                for marker in self.world.markers:
                    if marker in text and role not in room_visibility(self.world, marker):
                        found.append(f"LEAK in workshop {self.workshop_id}: {role} received {marker} in a {frame['type']} frame")
        return found

    def seen_by(self, role: str, marker: str) -> bool:
        return any(marker in frame_text(frame) for frame in self.frames[role])


@db
def _step(workshop_id: int) -> int | None:
    return Workshop.objects.get(pk=workshop_id).step


@db
def _resync_points(workshop_id: int) -> list[int]:
    """Sequence numbers to catch up from: the start, around the last change of the room's shape
    (after it, a catch-up replays events one by one), and the head."""
    events = list(Workshop.objects.get(pk=workshop_id).events.order_by("seq").values_list("seq", "kind"))
    last_shape = max((seq for seq, kind in events if kind in STRUCTURAL), default=0)
    head = events[-1][0] if events else 0
    return sorted({-1, 0, max(last_shape - 1, 0), last_shape, min(last_shape + 1, head), head})


@pytest.mark.django_db(transaction=True)
async def test_only_members_open_a_room_socket(sockets):
    world = await db(build_world)()
    ours = [world.w1.pk, world.w2.pk, world.w3.pk]
    theirs = world.scopes[1]["workshop_id"][0]
    for workshop_id in [*ours, theirs]:
        _comm, connected, code = await sockets.try_open(None, workshop_id)
        assert (connected, code) == (False, 4401), workshop_id
        strangers = (OUTSIDER, COORDINATOR_ROLE, SUPERUSER) if workshop_id in ours else (COORDINATOR_ROLE, SUPERUSER, *GROUP)
        for role in strangers:
            _comm, connected, code = await sockets.try_open(world.users[role], workshop_id)
            assert (connected, code) == (False, 4403), (role, workshop_id)
    outsider = await sockets.open(world.users[OUTSIDER], theirs)  # his own group's room
    room = Room(world, theirs, {OUTSIDER: outsider})
    await room.sync(OUTSIDER, -1)  # a number the room never had: a whole snapshot
    assert room.seen_by(OUTSIDER, "SECRETotherpool7f3a")
    assert not room.leaks()


@pytest.mark.django_db(transaction=True)
async def test_no_frame_reaches_a_member_who_may_not_read_it(sockets):
    """Session 3 opens (votes, follow-up) and its workshop runs its six steps; at each stage every
    member sends every message type. Then each one catches up from several points, in the three
    rooms: the ended one, the live one, and this one."""
    world = await db(build_world)()
    room = Room(world, world.w3.pk, {role: await sockets.open(world.users[role], world.w3.pk) for role in ROOM_ROLES})
    for role in ROOM_ROLES:  # the opening: the facilitator, last, chooses the case and starts
        await room.send_all(role, None)
    assert await _step(room.workshop_id) == Step.EXPOSE
    for step in Step:
        for role in ROOM_ROLES:
            await room.send_all(role, step)
        if step != LAST:
            reply, before = await command(room.sockets[FACILITATOR_ROLE], {"type": "advance", "from_step": int(step)})
            room.frames[FACILITATOR_ROLE] += [*before, reply]
            assert reply["type"] == "ack", reply
    reply, before = await command(room.sockets[FACILITATOR_ROLE], {"type": "end"})
    assert reply["type"] == "ack", reply
    for role in ROOM_ROLES:
        for since in await _resync_points(room.workshop_id):
            await room.sync(role, since)
    leaks = room.leaks()
    # The test saw what it looks for: each one's own notes, the group's contributions, the tally.
    for role in ROOM_ROLES:
        assert room.seen_by(role, room.prefix("write_note", role)), role
        assert room.seen_by(role, room.prefix("contribute", MEMBER_ROLE)), role
        assert room.seen_by(role, room.prefix("evaluate", role)) == (role != FACILITATOR_ROLE), role
    assert room.seen_by(FACILITATOR_ROLE, 'class="tally"')

    for workshop in (world.w1, world.w2):  # the ended room and the live one, from every point
        other = Room(world, workshop.pk, {role: await sockets.open(world.users[role], workshop.pk) for role in ROOM_ROLES})
        for role in ROOM_ROLES:
            for since in await _resync_points(workshop.pk):
                await other.sync(role, since)
        leaks += other.leaks()
        if workshop == world.w2:  # after the last step change, notes come back one by one, to their author
            assert other.seen_by(MEMBER_ROLE, "SECRETnotelivemember7f3a")
            assert other.seen_by(OTHER_MEMBER, "SECRETnoteliveother7f3a")
    assert not leaks, "\n".join(leaks)
