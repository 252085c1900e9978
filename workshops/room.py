"""What one member sees of a room, as template context: built for the page and for the socket,
so both render the very same templates."""
import json
import secrets
import time
import unicodedata
import uuid
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from workshops import (
    actions,
    agenda,
    followup,
    fragments,
    guidance,
    inperson,
    labels,
    pool,
    presence,
    serialize,
    speaking,
    speaking_view,
    timer,
)
from workshops.errors import Forbidden, NotFound
from workshops.models import Case, Evaluation, PlannedAction, RuleAcceptance, Workshop
from workshops.people import members_among, role_in
from workshops.steps import CONTRIBUTION_KINDS, HELP_KINDS, STEPS, Role, Step, acts_for, next_step, previous_step


def viewer(workshop: Workshop, user) -> dict:
    """The member's place in the room; templates ask it what to offer, never decide it."""
    role = role_in(workshop, user.pk)
    live = workshop.status == Workshop.LIVE
    return {
        "id": user.pk,
        "role": role.value,
        "is_facilitator": role == Role.FACILITATOR,
        "is_client": role == Role.CLIENT,
        "can": {act.value: True for act in acts_for(workshop.step, role)} if live else {},
        "act_url": reverse("workshop_act", args=[workshop.pk]),
    }


def guide(workshop: Workshop, me: dict) -> dict | None:
    """What the facilitator's controls offer now, from the domain; None for everyone else."""
    if not me["is_facilitator"] or workshop.status == Workshop.ENDED:
        return None
    if workshop.status == Workshop.PLANNED:
        return {"live": False, "choose_case": actions.may_choose_case(workshop), "start": workshop.case_id is not None}
    step = Step(workshop.step)
    return {
        "live": True,
        "can_advance": next_step(step) is not None,
        "can_go_back": previous_step(step) is not None,
        "may_override_contract": step == Step.CONTRAT,
        "end_needs_reason": actions.end_needs_reason(workshop),
        "on_behalf": inperson.choices(workshop),  # whom he may type a text for, per act
    }


def _steps(workshop: Workshop) -> list[dict]:
    current = workshop.step or 0
    ended = workshop.status == Workshop.ENDED
    return [
        {
            "number": int(step),
            "key": step.name.lower(),
            "title": info.title,
            "purpose": info.purpose,
            "rule": info.rule,
            "state": "todo" if step > current else "current" if step == current and not ended else "done",
            "shown": step <= current,
        }
        for step, info in STEPS.items()
    ]


class Batch(NamedTuple):
    """What the readers of one batch of snapshots share (see `snapshots`): the workshop was read
    for them all, at one instant, with one presence list, and their own parts in one query each."""
    now: datetime
    people: list[dict]
    own: dict[int, dict] | None = None  # per reader: `own_parts`


def own_parts(workshop: Workshop, user_ids) -> dict[int, dict]:
    """Each reader's own parts of the room: whether he accepted the rules, his notes, his evaluation."""
    accepted = set(RuleAcceptance.objects.filter(workshop=workshop, user_id__in=user_ids).values_list("user_id", flat=True))
    notes = {uid: [] for uid in user_ids}
    for note in workshop.notes.filter(author_id__in=user_ids):
        notes[note.author_id].append(serialize.note(note))
    evaluations = {e.author_id: {"score": e.score, "comment": e.comment}
                   for e in Evaluation.objects.filter(workshop=workshop, author_id__in=user_ids)}
    return {uid: {"accepted": uid in accepted, "notes": notes[uid], "evaluation": evaluations.get(uid)} for uid in user_ids}


def context(workshop: Workshop, user, *, reuse: bool = False, batch: Batch | None = None) -> dict:
    """Everything the room shows to `user`. The sequence number is read first: what follows is at
    least that recent, and later events apply idempotently on top. `reuse`: the sockets' snapshots
    may share what every member sees alike at this sequence number (`shared`); `batch`: the
    workshop was just read for several readers (`snapshots`)."""
    if batch is None:
        workshop.refresh_from_db()  # state and seq in one read, before any content
        batch = Batch(timezone.now(), presence.people(workshop.pk))
    now = batch.now
    seq = workshop.seq
    me = viewer(workshop, user)
    alike = shared(workshop) if reuse else _alike(workshop)
    contributions = alike["contributions"]
    own = batch.own[user.pk] if batch.own is not None else own_parts(workshop, [user.pk])[user.pk]
    current = STEPS.get(Step(workshop.step)) if workshop.step else None
    return {
        "workshop": workshop,
        "seq": seq,
        "viewer": me,
        "can": me["can"],
        "guide": guide(workshop, me),
        "script": guidance.script_for(workshop) if me["is_facilitator"] else None,  # the facilitator's alone
        "steps": _steps(workshop),
        "current": current,
        "timer": timer.state(workshop, now),
        "agenda": agenda.card(workshop, now, alike["agenda"]),
        "case": alike["case"],
        "client": alike["client"],
        "cases": alike["cases"],
        "questions": [c for c in contributions if c["kind"] == "question"],
        "contributions": [c for c in contributions if c["kind"] != "question"],
        "kept": [c for c in contributions if c["mark"] in ("keep", "explore")],
        "help_kinds": HELP_KINDS,
        "contribution_kinds": CONTRIBUTION_KINDS,
        "rules": labels.RULES,
        "acceptances": alike["acceptances"],
        "accepted": own["accepted"],
        "actions": alike["actions"],
        "learnings": alike["learnings"],
        "notes": own["notes"],
        "evaluation": own["evaluation"],
        "evaluation_count": alike["evaluation_count"],
        "people": batch.people,
        "log": alike["log"] if me["is_facilitator"] or workshop.status == Workshop.ENDED else [],
        "opening": opening(workshop, user, me) if workshop.status == Workshop.PLANNED else None,
        **speaking_view.room_context(workshop, me, alike["speaking"], now),
    }


def _alike(workshop: Workshop) -> dict:
    """The parts of the room that are the same for every member, whatever their role. Nothing
    here may depend on who looks: the member's own parts and a role's alone stay in `context`
    (the process log is here, but `context` gives it to the facilitator only until the end)."""
    return {
        "contributions": inperson.typed(workshop, serialize.contributions(workshop.contributions.all())),
        "case": serialize.case(workshop.case) if workshop.case_id else None,
        "client": serialize.person(workshop.case.owner) if workshop.case_id else None,
        "cases": [serialize.case(c) for c in _by_title(Case.objects.filter(group=workshop.group, status=Case.POOL).select_related("owner"))],
        "acceptances": [serialize.person(a.user) for a in RuleAcceptance.objects.filter(workshop=workshop).select_related("user").order_by("accepted_at")],
        "actions": [serialize.planned_action(a) for a in workshop.actions.prefetch_related("kept")],
        "learnings": inperson.typed(workshop, serialize.learnings(workshop.learnings.all()), "learning"),
        "evaluation_count": workshop.evaluations.count(),
        "log": _log(workshop),
        "agenda": agenda.history(workshop),  # its times are applied per reader (now)
        "speaking": speaking.public_state(workshop) if workshop.status == Workshop.LIVE else None,
    }


# A step change makes every open socket of the room ask for a snapshot at once (8 per group, one
# after the other on the process's database thread). What is alike for all of them at one
# sequence number is built once per process and language and kept a few seconds: any change of
# the room moves the sequence number, so an entry is never reused for a newer room.
SHARED_SECONDS = 5.0
SHARED_MAX = 2048
_shared: dict[tuple, tuple[float, dict]] = {}


def shared(workshop: Workshop) -> dict:
    key = (workshop.pk, workshop.seq, translation.get_language())
    now = time.monotonic()
    hit = _shared.get(key)
    if hit is not None and now - hit[0] < SHARED_SECONDS:
        return hit[1]
    if len(_shared) >= SHARED_MAX:  # bounded: forget what has expired, else everything
        for old in [k for k, (at, _parts) in _shared.items() if now - at >= SHARED_SECONDS] or list(_shared):
            _shared.pop(old, None)
    parts = _alike(workshop)
    _shared[key] = (now, parts)
    return parts


def _by_title(cases) -> list[Case]:
    """Titles are encrypted at rest: the database cannot order them. Accents aside, as a reader would."""
    def key(case):
        bare = "".join(c for c in unicodedata.normalize("NFKD", case.title) if not unicodedata.combining(c))
        return bare.casefold(), case.title, case.pk
    return sorted(cases, key=key)


def opening(workshop: Workshop, user, me: dict) -> dict:
    """Before the six steps: the previous clients' follow-up, then choosing the case.
    The tally, rotation and suggestion are the facilitator's alone: a vote is a first pass."""
    session = workshop.session
    cycle_id = session.cycle_id if session else None
    plans = [
        {
            "id": plan.pk,
            "title": plan.title,
            "case": plan.case.title,
            "client": serialize.person(plan.case.owner),
            "mine": plan.case.owner_id == user.pk,
            "actions": [serialize.planned_action(a) for a in plan.actions.all()],
        }
        for plan in followup.open_plans(workshop.group_id, before=workshop)
    ]
    ctx = {
        "plans": plans,
        "followups": PlannedAction.FOLLOWUPS[1:],
        "pool": [serialize.case(c) for c in pool.in_pool(workshop.group_id)],
        "can_vote": session is not None and not me["is_facilitator"],
        "my_votes": pool.my_votes(workshop.session_id, user),
        "vote_slots": range(pool.VOTES_PER_MEMBER),
        "voters": pool.voter_count(workshop.session_id),
    }
    if me["is_facilitator"]:
        ctx["tally"] = [{"case": serialize.case(row["case"]), "votes": row["votes"]} for row in pool.tally(session, workshop.group_id)]
        ctx["rotation"] = pool.rotation(workshop.group_id, cycle_id)
        ctx["suggestion"] = pool.suggestion(workshop.group_id, cycle_id)
    return ctx


def _log(workshop: Workshop) -> list[dict]:
    """The process log: step changes with their reasons and overrides. No content."""
    rows = workshop.events.filter(kind__in=("step.changed", "workshop.started", "workshop.ended")).select_related("actor")
    return [{"kind": e.kind, "data": e.payload, "at": e.created_at} for e in rows]


def render_room(ctx: dict) -> str:
    return render_to_string("workshops/_room.html", ctx)


# The context keys that are the same for every reader of one batch: they come from the workshop at
# one sequence number, in one language, at one instant (the rest is the reader's own). A key not
# listed here counts as the reader's own, so a new one can never be shown to someone else.
ALIKE_KEYS = frozenset({
    "workshop", "seq", "steps", "current", "timer", "agenda", "case", "client", "cases", "questions", "contributions",
    "kept", "help_kinds", "contribution_kinds", "rules", "acceptances", "actions", "learnings", "evaluation_count", "people",
})


def snapshots(workshop_id: int, readers: list[tuple]) -> list:
    """The whole room for several members of one workshop at once: a step change reaches all of a
    room's screens together. The workshop, the members' access, the presence list and what is
    alike are read once, and a room is rendered once for all the readers who see it the same way
    (the six consultants, most often). Each reader is (user, language); each result is
    (viewer, seq, html, timer), or the reader's own Forbidden or NotFound."""
    workshop = Workshop.objects.filter(pk=workshop_id).first()
    members = members_among(workshop, [user.pk for user, _lang in readers]) if workshop else set()
    batch = Batch(timezone.now(), presence.people(workshop_id), own_parts(workshop, members)) if members else None
    rendered: dict[tuple, str] = {}
    results = []
    for user, language in readers:
        with translation.override(language):
            if workshop is None:
                results.append(NotFound(_("This workshop does not exist.")))
                continue
            if user.pk not in members:
                results.append(Forbidden(_("You are not a member of this workshop's group.")))
                continue
            ctx = context(workshop, user, reuse=True, batch=batch)
            key = (language, _view_key(ctx))
            if key not in rendered:
                rendered[key] = render_room({**ctx, "cid_stand_in": CID_STAND_IN})
            results.append((ctx["viewer"], ctx["seq"], _own_cids(rendered[key]), ctx["timer"]))
    return results


# Where a shared rendering's forms carry their new identifier (`new_cid`). Two readers must never
# get the same one: the second member's first note would be taken for a resend of the first's.
CID_STAND_IN = f"cid-{secrets.token_hex(16)}"


def _own_cids(html: str) -> str:
    parts = html.split(CID_STAND_IN)
    return "".join(part + (str(uuid.uuid4()) if i < len(parts) - 1 else "") for i, part in enumerate(parts))


def _view_key(ctx: dict) -> str:
    """What makes one reader's room differ from another's in the same batch. The member's id is
    left out: the room's templates never show it (tests/test_room_snapshots.py renders each reader
    alone and compares)."""
    own = {key: value for key, value in ctx.items() if key not in ALIKE_KEYS}
    own["viewer"] = {**own["viewer"], "id": None}
    return repr(sorted(own.items()))


# Non-structural events become small upserts: replace the element with this id, or append it.
ITEM_TEMPLATES = {
    "case.updated": ("workshops/_case.html", "case", None),
    "question.asked": ("workshops/_question.html", "contribution", "questions"),
    "question.answered": ("workshops/_question.html", "contribution", "questions"),
    "contribution.added": ("workshops/_contribution.html", "contribution", "contributions"),
    "contribution.marked": ("workshops/_contribution.html", "contribution", "contributions"),
    "contract.updated": ("workshops/_request.html", None, None),
    "rules.accepted": ("workshops/_acceptance.html", "person", "acceptances"),
    "action.added": ("workshops/_action.html", "action", "actions"),
    "learning.added": ("workshops/_learning.html", "learning", "learnings"),
    "note.added": ("workshops/_note.html", "note", "notes"),
    "evaluation.recorded": ("workshops/_my_evaluation.html", None, None),
    "evaluation.counted": ("workshops/_evaluation_count.html", None, None),
    "speaking.changed": ("workshops/_speaking.html", None, None),
}


def item_ops(event: dict, me: dict) -> list[dict]:
    """The DOM changes one event makes for one member, rendered from the event alone (no query)."""
    kind, data = event["kind"], event["data"]
    if kind == "timer.changed":
        restarted = {"run": event["seq"]} if data.get("op") == "reset" else {}  # room.js: its cues may sound again
        return [{"op": "timer", "timer": data["timer"], **restarted}]
    if kind not in ITEM_TEMPLATES:
        return []
    template, key, into = ITEM_TEMPLATES[kind]
    ctx = {"viewer": me, "can": me["can"], **data}
    if key:
        ctx["item"] = data[key]
    if kind == "contract.updated":
        ctx["workshop"] = data
    if kind == "evaluation.recorded":
        ctx["evaluation"] = data
    if kind == "evaluation.counted":
        ctx["evaluation_count"] = data["count"]
    if kind == "speaking.changed":
        ctx.update(speaking_view.card(data.get("speaking") or {}, me, timezone.now()))
    html = fragments.item_html(template, ctx["item"], ctx) if template in fragments.ACTING else render_to_string(template, ctx).strip()
    ops = [{"op": "upsert", "into": into, "html": html}]
    if kind == "rules.accepted" and data["person"]["id"] == me["id"]:
        ops.append({"op": "upsert", "into": None, "html": render_to_string("workshops/_accept.html", {**ctx, "accepted": True}).strip()})
    return ops + speaking_view.refresh_ops(kind, me)


def presence_op(people: list[dict]) -> dict:
    """The presence card. Every socket of a room renders the same list when someone joins: after a
    restart, 8 joins x 8 screens per room, so each (language, list) is rendered once."""
    return {"op": "upsert", "into": None, "html": _presence_html(translation.get_language(), json.dumps(people, ensure_ascii=False))}


@lru_cache(maxsize=1024)
def _presence_html(language: str, people: str) -> str:
    with translation.override(language):
        return render_to_string("workshops/_presence.html", {"people": json.loads(people)}).strip()
