"""What the hostile-input tests share: a group with something said at every stage of its life,
another group that nothing may touch, hostile values, and snapshots of what is saved.

The world (build_world): Groupe Test (the cast) has an ended workshop with its plan (W1, Marc's
case: questions, contributions, notes, plan, learning, evaluation), the opening of session 2 (W2:
a pool of three cases and one vote), a live workshop (W3, Julien's case) brought to any step, a
cycle, a pending invitation, a handover notice for Claire, journal entries and a reporting line.
"Autre groupe" has its own live workshop, notes, journal and invitation: the property every test
checks is that nothing there is ever changed."""
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.apps import apps
from django.contrib.auth.models import Permission, User
from django.db import connection, models
from django.utils import timezone
from hypothesis import strategies as st

from tests.conftest import Cast, make_cast, make_user
from workshops import actions, dispatch, journal, membership, pool, sessions
from workshops.models import Case, Group, Handover, Membership, Workshop
from workshops.steps import RULES as STEP_RULES
from workshops.steps import Act, Role, Step


def new_cid() -> str:
    return str(uuid.uuid4())


@dataclass
class World:
    cast: Cast
    corinne: User  # coordinator, member of no group
    ended: Workshop  # W1: Marc's case, with its plan (open)
    opening: Workshop  # W2: session 2, not started: pool, vote, follow-up
    live: Workshop  # W3: Julien's case, live
    sophie_case: Case  # in the pool: Sophie may withdraw it
    invitation_id: int
    token: str  # the pending invitation's link
    handover_id: int  # unseen by Claire
    entry_id: int  # Sophie's journal entry
    cycle_id: int
    record_id: int | None = None  # Marc's kept record of an older, purged case
    others: list[User] = field(default_factory=list)  # the other group's people
    other_group: Group | None = None
    ids: dict[str, list[int]] = field(default_factory=dict)  # object ids worth trying in fields

    def user(self, name: str | None):
        if name is None:
            return None
        if name == "corinne":
            return self.corinne
        return getattr(self.cast, name)


def _through(workshop_id: int, step: Step, facilitator) -> None:
    workshop = Workshop.objects.get(pk=workshop_id)
    while workshop.step < step:
        actions.advance(workshop.pk, from_step=workshop.step, acting_user=facilitator)
        workshop.refresh_from_db()


def _ended_workshop(cast: Cast) -> Workshop:
    """W1 lived through its six steps, with something written at each."""
    w = cast.workshop.pk
    cast.at_step(Step.CLARIFICATION)
    question = actions.ask_question(w, cid=new_cid(), body="Depuis quand l'équipe se tait-elle ?", anyway=True, acting_user=cast.sophie)
    actions.answer_question(w, question_id=question.pk, body="Depuis six mois.", acting_user=cast.marc)
    cast.at_step(Step.CONTRAT)
    actions.write_request(w, request="Aidez-moi à renouer le dialogue", help_kinds=["ideas"], acting_user=cast.marc)
    actions.accept_rules(w, acting_user=cast.sophie)
    cast.at_step(Step.CONSULTATION)
    idea = actions.contribute(w, cid=new_cid(), kind="idea", body="Un tour de table le lundi", acting_user=cast.sophie)
    actions.contribute(w, cid=new_cid(), kind="experience", body="J'ai vécu la même chose", acting_user=cast.julien)
    actions.mark_contribution(w, contribution_id=idea.pk, mark="keep", acting_user=cast.marc)
    actions.write_note(w, cid=new_cid(), body="Note privée de Sophie", acting_user=cast.sophie)
    cast.at_step(Step.PLAN)
    actions.add_action(w, cid=new_cid(), what="Voir chacun en tête-à-tête", due="2030-01-31", kept=[idea.pk], acting_user=cast.marc)
    actions.add_action(w, cid=new_cid(), what="Proposer un rituel", acting_user=cast.marc)
    cast.at_step(Step.APPRENTISSAGE)
    actions.write_learning(w, cid=new_cid(), body="Écouter avant de proposer", acting_user=cast.sophie)
    actions.evaluate(w, score=4, comment="Utile", acting_user=cast.julien)
    actions.end(w, acting_user=cast.claire)
    return Workshop.objects.get(pk=w)


def live_at(world: World, step: Step) -> Workshop:
    """W3 brought to `step`, with something said in each step it went through."""
    cast, w = world.cast, world.live.pk
    workshop = Workshop.objects.get(pk=w)
    said = {
        Step.CLARIFICATION: lambda: actions.ask_question(w, cid=new_cid(), body="Qui décide ?", anyway=True, acting_user=cast.sophie),
        Step.CONSULTATION: lambda: actions.contribute(w, cid=new_cid(), kind="resource", body="Un livre", acting_user=cast.marc),
        Step.PLAN: lambda: actions.add_action(w, cid=new_cid(), what="Essayer", acting_user=cast.julien),
        Step.APPRENTISSAGE: lambda: actions.write_learning(w, cid=new_cid(), body="Appris", acting_user=cast.marc),
    }
    while workshop.step < step:
        actions.advance(w, from_step=workshop.step, acting_user=cast.claire)
        workshop.refresh_from_db()
        if workshop.step in said:
            said[workshop.step]()
    return workshop


def _other_group(cast: Cast) -> tuple[Group, list[User]]:
    """Autre groupe: Nadia facilitates, Olivier is client, Paul consultant; a live workshop."""
    group = Group.objects.get(name="Autre groupe")
    nadia, paul = make_user("nadia", "Nadia", "Roux"), make_user("paul", "Paul", "Martin")
    for user in (nadia, paul, cast.olivier):
        user.email = f"{user.username}@example.org"
        user.save(update_fields=["email"])
    Membership.objects.create(group=group, user=nadia, role=Membership.FACILITATOR)
    Membership.objects.create(group=group, user=paul)
    case = pool.submit_case(group.pk, title="Le cas d'Olivier", summary="Secret", urgency=3, acting_user=cast.olivier)
    w = sessions.plan_session(group, facilitator=nadia).workshops.get().pk
    actions.designate_case(w, case.pk, acting_user=nadia)
    actions.start(w, acting_user=nadia)
    _through(w, Step.CONSULTATION, nadia)
    idea = actions.contribute(w, cid=new_cid(), kind="idea", body="Idée de Paul", acting_user=paul)
    actions.mark_contribution(w, contribution_id=idea.pk, mark="explore", acting_user=cast.olivier)
    actions.write_note(w, cid=new_cid(), body="Note de Paul", acting_user=paul)
    journal.add_entry(cast.olivier, body="Journal d'Olivier")
    membership.invite(group, "invitee@example.org", acting_user=nadia, join_url=lambda token: token)
    membership.declare_reporting_line(cast.olivier, "chef@example.org", membership.MANAGER)
    return group, [cast.olivier, nadia, paul]


def _kept_record(owner, workshop) -> int:
    """A record retention left to its client (privacy.ClientRecord)."""
    from privacy.models import ClientRecord

    return ClientRecord.objects.create(owner=owner, workshop_id=workshop.pk + 10_000, title="Un vieux cas", body="# Un vieux cas\n").pk


def build_world(live_step: Step = Step.CONSULTATION) -> World:
    cast = make_cast()
    for user in (cast.claire, cast.marc, cast.sophie, cast.julien):
        user.email = f"{user.username}@example.org"
        user.save(update_fields=["email"])
    corinne = make_user("corinne", "Corinne", "Vidal")
    corinne.user_permissions.add(Permission.objects.get(codename="coordinate"))
    ended = _ended_workshop(cast)

    sophie_case = pool.submit_case(cast.group.pk, title="Le cas de Sophie", summary="Un conflit", acting_user=cast.sophie)
    pool.submit_case(cast.group.pk, title="Second cas de Marc", stakes="Mon poste", urgency=3, acting_user=cast.marc)
    julien_case = pool.submit_case(cast.group.pk, title="Le cas de Julien", acting_user=cast.julien)
    live = sessions.plan_session(cast.group, facilitator=cast.claire, number=3).workshops.get()
    actions.designate_case(live.pk, julien_case.pk, acting_user=cast.claire)
    actions.start(live.pk, acting_user=cast.claire)
    actions.write_note(live.pk, cid=new_cid(), body="Note de Claire", acting_user=cast.claire)
    opening = sessions.plan_session(cast.group, facilitator=cast.claire, number=2).workshops.get()
    pool.vote(opening.pk, votes=[sophie_case.pk, sophie_case.pk], acting_user=cast.julien)
    cycle = sessions.plan_cycle(
        cast.group, title="Cycle 2030", first_starts_at=timezone.now() + timedelta(days=30), rhythm="monthly", count=2,
        acting_user=cast.claire,
    )

    tokens = []
    invitation = membership.invite(cast.group, "newbie@example.org", acting_user=cast.claire, join_url=tokens.append)
    handover = Handover.objects.create(group=cast.group, from_user=cast.julien, to_user=cast.claire)
    entry = journal.add_entry(cast.sophie, body="Mon journal à moi")
    journal.add_entry(cast.julien, body="Le journal de Julien")
    membership.declare_reporting_line(cast.sophie, "boss@example.org", membership.MANAGER)
    other_group, others = _other_group(cast)
    record_id = _kept_record(cast.marc, ended) if apps.is_installed("privacy") else None

    world = World(
        cast=cast, corinne=corinne, ended=ended, opening=opening, live=live, sophie_case=sophie_case,
        invitation_id=invitation.pk, token=tokens[0], handover_id=handover.pk, entry_id=entry.pk, cycle_id=cycle.pk,
        others=others, other_group=other_group, record_id=record_id,
    )
    live_at(world, live_step)
    world.ids = object_ids(world)
    return world


def object_ids(world: World) -> dict[str, list[int]]:
    """Ids of real rows, so that generated payloads sometimes name something that exists (ours
    or the other group's)."""
    from workshops.models import Contribution, PlannedAction, Session

    def pks(qs):
        return sorted(qs.values_list("pk", flat=True))

    return {
        "case": pks(Case.objects.all()),
        "contribution": pks(Contribution.objects.all()),
        "action": pks(PlannedAction.objects.all()),
        "workshop": pks(Workshop.objects.all()),
        "user": pks(User.objects.all()),
        "session": pks(Session.objects.all()),
    }


# --- snapshots of what is saved -----------------------------------------------------------

# Rows that are not content: who is connected, who signed in when.
NOT_CONTENT = {"workshops.presence", "sessions.session", "admin.logentry", "contenttypes.contenttype", "auth.permission"}
VOLATILE = {"last_login"}  # signing in (as the tests do) sets it


def content_models() -> list[type[models.Model]]:
    """Every model of the project's apps, and the users: new models are covered by themselves."""
    local = {"workshops", "accounts", "privacy"}
    chosen = [m for m in apps.get_models() if m._meta.app_label in local or m._meta.label_lower == "auth.user"]
    return [m for m in chosen if m._meta.label_lower not in NOT_CONTENT]


def snapshot() -> dict[str, dict]:
    """{model: {pk: row}}, rows as stored (encrypted text stays encrypted: a rewrite shows too)."""
    shot = {}
    with connection.cursor() as cursor:
        for model in content_models():
            meta = model._meta
            columns = [meta.pk.column, *(f.column for f in meta.concrete_fields if f.attname not in VOLATILE and not f.primary_key)]
            quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
            cursor.execute(f"SELECT {quoted} FROM {connection.ops.quote_name(meta.db_table)}")  # noqa: S608 (names from the models)
            shot[meta.label_lower] = {row[0]: row for row in cursor.fetchall()}
    return shot


def _lookup_to_group(model) -> str | None:
    """How a row of `model` reaches its group, for models that belong to one."""
    if model is Group:
        return "pk"
    for f in model._meta.concrete_fields:
        if f.is_relation and f.related_model is Group:
            return f.name
    for f in model._meta.concrete_fields:
        if f.is_relation and f.related_model is not None and f.related_model is not Group:
            inner = _lookup_to_group(f.related_model) if f.related_model._meta.app_label == "workshops" else None
            if inner and inner != "pk":
                return f"{f.name}__{inner}"
    return None


def _lookup_to_user(model) -> str | None:
    for f in model._meta.concrete_fields:
        if f.is_relation and f.related_model is User and f.name in ("owner", "author", "user", "declared_by"):
            return f.name
    return None


def foreign_keys(world: World) -> dict[str, set]:
    """The rows of the other group and of its people: {model: pks}. No request made in Groupe
    Test may change one of them."""
    keys = {}
    for model in content_models():
        label = model._meta.label_lower
        if model is User:
            keys[label] = {u.pk for u in world.others}
        elif (lookup := _lookup_to_group(model)) is not None:
            keys[label] = set(model.objects.filter(**{lookup: world.other_group.pk}).values_list("pk", flat=True))
        elif (lookup := _lookup_to_user(model)) is not None:
            keys[label] = set(model.objects.filter(**{f"{lookup}__in": world.others}).values_list("pk", flat=True))
    return keys


def owned_by_others(world: World, actor) -> dict[str, set]:
    """Rows written by someone else than `actor` (author, owner…): he may not make them vanish."""
    keys = {}
    for model in content_models():
        lookup = _lookup_to_user(model)
        if lookup is not None:
            rows = model.objects.exclude(**{lookup: actor}) if actor is not None else model.objects.all()
            keys[model._meta.label_lower] = set(rows.values_list("pk", flat=True))
    return keys


APPEND_ONLY = {"privacy.auditentry"}  # a log: writing to it is not changing what was saved


def changed_rows(before: dict, after: dict, keys: dict[str, set] | None = None) -> dict[str, list]:
    """What differs, restricted to `keys` when given: {model: [(pk, before, after)]}."""
    diff = {}
    for label, rows in before.items():
        now = after.get(label, {})
        if keys is not None:
            pks = keys.get(label, set())
        else:
            pks = set(rows) | (set() if label in APPEND_ONLY else set(now))
        changes = [(pk, rows.get(pk), now.get(pk)) for pk in sorted(pks, key=str) if rows.get(pk) != now.get(pk)]
        if changes:
            diff[label] = changes
    return diff


def lost_rows(before: dict, after: dict, keys: dict[str, set]) -> dict[str, list]:
    """Rows among `keys` that existed before and are gone."""
    lost = {}
    for label, pks in keys.items():
        gone = sorted(pk for pk in pks if pk in before.get(label, {}) and pk not in after.get(label, {}))
        if gone:
            lost[label] = gone
    return lost


def content_changed(before: dict, after: dict) -> bool:
    return bool(changed_rows(before, after))


# --- hostile values -----------------------------------------------------------------------

HUGE = "x" * 100_000
NASTY_STRINGS = [
    "",
    " ",
    "\t\n \r\n",
    "\x00",
    "a\x00b",
    "\x01\x02\x07\x08\x1b[31m\x7f",
    "\u202eevil\u202c txt",  # right-to-left override
    "\u200b\u200c\u200d\ufeff",  # zero-width and BOM
    "e\u0301" * 40,  # combining marks
    "Z̴̡̢͎a̵̛̛l̶̨̛g̷o̸",
    "👨‍👩‍👧‍👦🙂🏳️‍🌈",
    "مرحبا بالعالم",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'; DROP TABLE workshops_case; --",
    "1' OR '1'='1",
    "%(name)s {{ x }} {% x %} %s %d {0}",
    "${7*7} #{7*7}",
    "../../etc/passwd",
    "javascript:alert(1)",
    "0",
    "-1",
    "1.5",
    "1e309",
    "NaN",
    "true",
    "null",
    "[]",
    "{}",
    "１２",  # full-width digits: int() reads them
    "١٢",  # Arabic-Indic digits: so does int()
    "²",  # a digit for str.isdigit(), not for int()
    "--5",
    str(2**31),
    str(2**63),
    "-" + str(2**63),
    "9" * 40,
    "2030-02-30",
    "a@b",
]
texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
long_text = st.sampled_from([201, 1001, 5001, 100_000]).map(lambda n: "x" * n)  # built, not listed: short reprs
hostile_text = st.sampled_from(NASTY_STRINGS) | texts | st.integers(-(2**70), 2**70).map(str) | long_text


# --- the room's commands ------------------------------------------------------------------

SPECS = {kind: spec for kind, (_action, spec) in dispatch.COMMANDS.items()} | {
    dispatch.CASE_COMMAND: dict.fromkeys(actions.CASE_FIELDS, dispatch.TEXT)
}
ACT_OF = {"add_action": Act.WRITE_ACTION}  # the other content commands are named like their Act
AT_OPENING = {"designate_case": ["claire"], "start": ["claire"], "vote": ["sophie", "marc", "julien"],
              "report_followup": ["marc"], "close_plan": ["marc"]}
PEOPLE = {Role.FACILITATOR: ["claire"], Role.CLIENT: ["julien"], Role.CONSULTANT: ["sophie", "marc"]}  # in the live W3
BY_PARTICIPANTS = {"raise_hand", "lower_hand", "speak"}  # speaking: any participant, any step; not the facilitator


def places(kind) -> list[tuple[str, Step, str]]:
    """Where and by whom a command makes sense: [(workshop, step, sender)], the rule table's cells.
    The facilitator's commands (and any new one) go to the live workshop, in any step."""
    if kind in AT_OPENING:
        return [("opening", Step.EXPOSE, name) for name in AT_OPENING[kind]]
    if kind in BY_PARTICIPANTS:
        return [("live", step, name) for step in Step for name in PEOPLE[Role.CLIENT] + PEOPLE[Role.CONSULTANT]]
    act = ACT_OF.get(kind) or (Act(kind) if kind in Act._value2member_map_ else None)
    if act is None:
        return [("live", step, "claire") for step in Step]
    return [("live", step, name) for step, acts in STEP_RULES.items() for role in acts.get(act, ()) for name in PEOPLE[role]]


# Late-bound ids: rows made inside the example (the live workshop's step content) get their ids then.
PLACEHOLDERS = ("@step", "@contribution", "@question", "@action", "@plan", "@case")


def bind(world, workshop_id: int, payload: dict, *, as_text: bool = True) -> dict:
    """The payload with each placeholder replaced by the id it stands for, read now (as a form
    sends it, text, or as a number for JSON)."""
    from workshops.models import Contribution, PlannedAction

    said = Contribution.objects.filter(workshop_id=workshop_id).order_by("-pk")
    values = {
        "@step": Workshop.objects.get(pk=workshop_id).step,
        "@contribution": said.exclude(kind="question").values_list("pk", flat=True).first(),
        "@question": said.filter(kind="question").values_list("pk", flat=True).first(),
        "@action": PlannedAction.objects.filter(workshop=world.ended).values_list("pk", flat=True).first(),
        "@plan": world.ended.pk,
        "@case": world.sophie_case.pk,
    }

    def one(v):
        if not (isinstance(v, str) and v in values):
            return v
        return str(values[v]) if as_text else values[v]

    return {k: [one(x) for x in v] if isinstance(v, list) else one(v) for k, v in payload.items()}


