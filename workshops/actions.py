"""Every change to a workshop. Each action locks the workshop row, checks the rule table, writes
the change and its event in one transaction; the event is published after commit.

Callers (views, the consumer, commands) pass `acting_user` and translate nothing themselves.
"""
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from uuid import UUID

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from workshops import advice, attendance, events, presence, serialize, speaking, timer
from workshops.errors import AdviceHint, Conflict, Invalid, NotFound, Refused
from workshops.models import (
    Case,
    Contribution,
    Evaluation,
    Learning,
    PlannedAction,
    PrivateNote,
    RuleAcceptance,
    Workshop,
)
from workshops.people import access_workshop, display_name, role_in
from workshops.steps import (
    CONTRIBUTION_KINDS,
    HELP_KINDS,
    LAST,
    MARKS,
    MUST_ACCEPT_RULES,
    REFUSALS,
    Act,
    Role,
    Step,
    allowed,
    next_step,
    planned_seconds,
    previous_step,
)

# --- checks -------------------------------------------------------------------------------


@contextmanager
def _locked(workshop_id: int, acting_user) -> Iterator[tuple[Workshop, Role]]:
    """The workshop, locked for this transaction, and the acting user's role in it."""
    with transaction.atomic():
        rows = Workshop.objects.select_for_update(of=("self",)).select_related("case")
        workshop = access_workshop(acting_user, workshop_id, rows)  # membership, or Forbidden / NotFound
        yield workshop, role_in(workshop, acting_user.pk)


def _require_live(workshop: Workshop) -> None:
    if workshop.status == Workshop.PLANNED:
        raise Refused(_("The workshop has not started yet."))
    if workshop.status == Workshop.ENDED:
        raise Refused(_("The workshop has ended: it can be read, no longer changed."))


def _require(workshop: Workshop, role: Role, act: Act) -> None:
    _require_live(workshop)
    if not allowed(workshop.step, role, act):
        raise Refused(REFUSALS[act])


def _require_facilitator(role: Role) -> None:
    if role != Role.FACILITATOR:
        raise Refused(_("Only the facilitator can do this."))


def _require_step(workshop: Workshop, from_step) -> None:
    """Two tabs racing: the second one still believes in a step that has already changed."""
    if from_step is None or int(from_step) != workshop.step:
        raise Conflict(_("The step has already changed; your screen is being refreshed."))


def clean_text(value, *, required: bool = True, limit: int | None = None) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise Invalid(_("This field must be text."))
    value = value.replace("\x00", "").strip()
    limit = limit or settings.CODEV_MAX_TEXT
    if required and not value:
        raise Invalid(_("This field cannot be empty."))
    if len(value) > limit:
        raise Invalid(_("This text is too long (%(length)d characters, %(limit)d at most).") % {"length": len(value), "limit": limit})
    return value


def clean_cid(value) -> UUID:
    try:
        return UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        raise Invalid(_("This message has no valid identifier; reload the page.")) from None


# --- the facilitator guides the process ----------------------------------------------------


def may_choose_case(workshop: Workshop) -> bool:
    """Before the start, or during the exposé: later, the group has already worked on the case."""
    return workshop.status == Workshop.PLANNED or (workshop.status == Workshop.LIVE and workshop.step == Step.EXPOSE)


def end_needs_reason(workshop: Workshop) -> bool:
    """A workshop ends after the learning step; ending it earlier is an exception to explain."""
    return workshop.step != LAST


def designate_case(workshop_id: int, case_id: int, *, acting_user) -> Workshop:
    with _locked(workshop_id, acting_user) as (workshop, role):
        _require_facilitator(role)
        if not may_choose_case(workshop):
            raise Refused(_("The client can only be chosen before the workshop starts or during the exposé."))
        case = Case.objects.select_related("owner").filter(pk=case_id, group_id=workshop.group_id).first()
        if case is None:
            raise NotFound(_("This case does not belong to the group."))
        if case.status != Case.POOL and case.pk != workshop.case_id:
            raise Refused(_("This case is no longer in the pool."))
        if case.owner_id == workshop.facilitator_id:
            raise Refused(_("The facilitator guards the process and cannot be the client."))
        workshop.case = case
        workshop.save(update_fields=["case"])
        events.record(
            workshop,
            "client.designated",
            {"case": serialize.case(case), "client": serialize.person(case.owner)},
            actor=acting_user,
        )
        return workshop


def start(workshop_id: int, *, acting_user) -> Workshop:
    with _locked(workshop_id, acting_user) as (workshop, role):
        _require_facilitator(role)
        if workshop.status != Workshop.PLANNED:
            raise Conflict(_("The workshop has already started."))
        if workshop.case_id is None:
            raise Refused(_("Choose the client and their case before starting."))
        now = timezone.now()
        Case.objects.filter(pk=workshop.case_id).update(status=Case.TREATED)  # it leaves the pool
        workshop.status, workshop.step, workshop.started_at = Workshop.LIVE, Step.EXPOSE, now
        timer.restart(workshop, planned_seconds(Step.EXPOSE, workshop.short_format, workshop.minutes), now)
        workshop.save(update_fields=["status", "step", "started_at", *timer.TIMER_FIELDS])
        events.record(workshop, "workshop.started", {"step": workshop.step, "timer": timer.state(workshop, now)}, actor=acting_user)
        for user_id in presence.present_ids(workshop.pk):  # those already in the room are present
            attendance.mark_present_from_room(workshop.pk, user_id)
        return workshop


def missing_acceptances(workshop: Workshop) -> list[str]:
    """Present client and consultants who have not accepted the rules yet."""
    present = presence.present_ids(workshop.pk)
    accepted = set(RuleAcceptance.objects.filter(workshop=workshop).values_list("user_id", flat=True))
    waiting = [
        uid for uid in present - accepted if role_in(workshop, uid) in MUST_ACCEPT_RULES
    ]
    users = get_user_model().objects.filter(pk__in=waiting).order_by("first_name")
    return [display_name(u) for u in users]


def advance(workshop_id: int, *, from_step, acting_user, override_reason: str = "") -> Workshop:
    with _locked(workshop_id, acting_user) as (workshop, role):
        _require_facilitator(role)
        _require_live(workshop)
        _require_step(workshop, from_step)
        target = next_step(Step(workshop.step))
        if target is None:
            raise Refused(_("This is the last step: end the workshop instead."))
        payload = {"from": workshop.step, "step": int(target), "direction": "next"}
        if workshop.step == Step.CONTRAT:
            waiting = missing_acceptances(workshop)
            reason = clean_text(override_reason, required=False, limit=500)
            if waiting and not reason:
                raise Refused(
                    _("Not everyone present has accepted the rules yet: %(names)s. Wait, or give a reason to go on.")
                    % {"names": ", ".join(waiting)}
                )
            if waiting:
                payload["override"] = {"reason": reason, "waiting": waiting}
        return _move(workshop, target, payload, acting_user)


def go_back(workshop_id: int, *, from_step, reason, acting_user) -> Workshop:
    with _locked(workshop_id, acting_user) as (workshop, role):
        _require_facilitator(role)
        _require_live(workshop)
        _require_step(workshop, from_step)
        target = previous_step(Step(workshop.step))
        if target is None:
            raise Refused(_("This is the first step: there is no step before it."))
        reason = clean_text(reason, limit=500)
        payload = {"from": workshop.step, "step": int(target), "direction": "back", "reason": reason}
        return _move(workshop, target, payload, acting_user)


def _move(workshop: Workshop, target: Step, payload: dict, acting_user) -> Workshop:
    now = timezone.now()
    speaking.close_for_step_change(workshop, now)  # the open turn belongs to the step it began in
    workshop.step = target
    timer.restart(workshop, planned_seconds(target, workshop.short_format, workshop.minutes), now)
    workshop.save(update_fields=["step", *timer.TIMER_FIELDS])
    events.record(workshop, "step.changed", {**payload, "timer": timer.state(workshop, now)}, actor=acting_user)
    return workshop


TIMER_OPS = ("pause", "resume", "extend", "reset")


def control_timer(workshop_id: int, *, op: str, minutes=5, acting_user) -> Workshop:
    with _locked(workshop_id, acting_user) as (workshop, role):
        _require_facilitator(role)
        _require_live(workshop)
        now = timezone.now()
        if op == "pause":
            timer.pause(workshop, now)
        elif op == "resume":
            timer.resume(workshop, now)
        elif op == "extend":
            minutes = 5 if minutes is None else minutes
            if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= 60:
                raise Invalid(_("A step can be extended by 1 to 60 minutes."))
            timer.extend(workshop, minutes * 60)
        elif op == "reset":
            timer.restart(workshop, planned_seconds(Step(workshop.step), workshop.short_format, workshop.minutes), now)
        else:
            raise Invalid(_("Unknown timer command."))
        workshop.save(update_fields=timer.TIMER_FIELDS)
        events.record(workshop, "timer.changed", {"op": op, "timer": timer.state(workshop, now)}, actor=acting_user)
        if op == "pause":
            speaking.close_for_pause(workshop, now, acting_user)  # no speaking time while the clock stands still
        return workshop


def end(workshop_id: int, *, acting_user, reason: str = "") -> Workshop:
    with _locked(workshop_id, acting_user) as (workshop, role):
        _require_facilitator(role)
        _require_live(workshop)
        reason = clean_text(reason, required=False, limit=500)
        if end_needs_reason(workshop) and not reason:
            raise Refused(_("The workshop ends after the learning step; to end it earlier, give a reason."))
        now = timezone.now()
        timer.pause(workshop, now)
        speaking.close_for_step_change(workshop, now)
        workshop.status, workshop.ended_at = Workshop.ENDED, now
        workshop.save(update_fields=["status", "ended_at", *timer.TIMER_FIELDS])
        events.record(workshop, "workshop.ended", {"step": workshop.step, "reason": reason}, actor=acting_user)
        return workshop


# --- the participants live the steps ----------------------------------------------------


CASE_FIELDS = ("title", "context", "problem", "tried", "expectations")


def edit_case(workshop_id: int, *, fields: dict, acting_user) -> Case:
    with _locked(workshop_id, acting_user) as (workshop, role):
        _require(workshop, role, Act.EDIT_CASE)
        case = workshop.case
        for name in CASE_FIELDS:
            if name in fields:
                limit = 200 if name == "title" else None
                setattr(case, name, clean_text(fields[name], required=name == "title", limit=limit))
        case.save()
        events.record(workshop, "case.updated", {"case": serialize.case(case)}, actor=acting_user)
        return case


def write_note(workshop_id: int, *, cid, body, acting_user) -> PrivateNote:
    cid = clean_cid(cid)
    with _locked(workshop_id, acting_user) as (workshop, role):
        if existing := _once(PrivateNote, workshop, cid):
            if existing.author_id != acting_user.pk:
                raise Invalid(_("This message has no valid identifier; reload the page."))
            return existing
        _require(workshop, role, Act.WRITE_NOTE)
        note = PrivateNote.objects.create(workshop=workshop, author=acting_user, cid=cid, step=workshop.step, body=clean_text(body))
        events.record(workshop, "note.added", {"note": serialize.note(note)}, actor=acting_user, audience=acting_user)
        return note


def _once(model, workshop: Workshop, cid: UUID):
    """A retry (double click, resend after reconnect) finds what the first try stored."""
    return model.objects.filter(workshop=workshop, cid=cid).first()


def ask_question(workshop_id: int, *, cid, body, acting_user, anyway=False, on_behalf_of=None) -> Contribution:
    """A clarification question. One that reads as advice in disguise comes back with a hint; the
    consultant rephrases it, or posts it `anyway` and the facilitator sees it flagged."""
    return _contribute(
        workshop_id, Act.ASK_QUESTION, "question", cid, body, acting_user, "question.asked", screen=not anyway,
        on_behalf_of=on_behalf_of,
    )


def contribute(workshop_id: int, *, cid, kind, body, acting_user, on_behalf_of=None) -> Contribution:
    if kind not in CONTRIBUTION_KINDS:
        raise Invalid(_("Choose the kind of contribution: idea, experience, resource or perspective."))
    return _contribute(workshop_id, Act.CONTRIBUTE, kind, cid, body, acting_user, "contribution.added", on_behalf_of=on_behalf_of)


def _contribute(workshop_id, act, kind, cid, body, acting_user, event_kind, screen=False, on_behalf_of=None) -> Contribution:
    cid = clean_cid(cid)
    with _locked(workshop_id, acting_user) as (workshop, role):
        if existing := _once(Contribution, workshop, cid):
            return existing
        author, role = _author(workshop, role, acting_user, on_behalf_of)
        _require(workshop, role, act)
        body = clean_text(body)
        flagged = kind == "question" and advice.is_advice(body)
        if flagged and screen:
            raise AdviceHint(advice.hint_text(advice.classify(body)))
        item = Contribution.objects.create(
            workshop=workshop, author=author, cid=cid, step=workshop.step, kind=kind, body=body, flagged=flagged
        )
        said = _typed(serialize.contribution(item), acting_user)
        events.record(workshop, event_kind, {"contribution": said}, actor=acting_user)
        return item


def _author(workshop: Workshop, role: Role, acting_user, on_behalf_of):
    """Who a text is from, and his role: the one who typed it or, in the room, the participant the
    facilitator types it for (someone without a screen). The act is then checked against his role."""
    if on_behalf_of is None or on_behalf_of == acting_user.pk:
        return acting_user, role
    _require_facilitator(role)
    person = get_user_model().objects.filter(pk=on_behalf_of, memberships__group_id=workshop.group_id).first()
    if person is None:
        raise NotFound(_("This person is not a member of the group."))
    return person, role_in(workshop, person.pk)


def _typed(said: dict, acting_user) -> dict:
    """What an event says of a text typed for someone else: who typed it."""
    if said["author"]["id"] != acting_user.pk:
        said["typed_by"] = serialize.person(acting_user)
    return said


def _contribution(workshop: Workshop, contribution_id, step: Step) -> Contribution:
    try:
        pk = int(contribution_id)
    except (TypeError, ValueError):
        pk = None
    item = Contribution.objects.filter(workshop=workshop, pk=pk, step=step).select_related("author").first()
    if item is None:
        raise NotFound(_("This contribution does not exist in this workshop."))
    return item


def answer_question(workshop_id: int, *, question_id, body, acting_user) -> Contribution:
    with _locked(workshop_id, acting_user) as (workshop, role):
        _require(workshop, role, Act.ANSWER_QUESTION)
        question = _contribution(workshop, question_id, Step.CLARIFICATION)
        question.answer = clean_text(body)
        question.save(update_fields=["answer"])
        events.record(workshop, "question.answered", {"contribution": serialize.contribution(question)}, actor=acting_user)
        return question


def mark_contribution(workshop_id: int, *, contribution_id, mark, acting_user) -> Contribution:
    with _locked(workshop_id, acting_user) as (workshop, role):
        _require(workshop, role, Act.MARK_CONTRIBUTION)
        if mark not in MARKS:
            raise Invalid(_("A contribution is marked “I keep it”, “to explore” or nothing."))
        item = _contribution(workshop, contribution_id, Step.CONSULTATION)
        item.mark = mark
        item.save(update_fields=["mark"])
        events.record(workshop, "contribution.marked", {"contribution": serialize.contribution(item)}, actor=acting_user)
        return item


def write_request(workshop_id: int, *, request, help_kinds, acting_user) -> Workshop:
    with _locked(workshop_id, acting_user) as (workshop, role):
        _require(workshop, role, Act.WRITE_REQUEST)
        kinds = help_kinds if isinstance(help_kinds, list) else [help_kinds] if help_kinds else []
        if any(k not in HELP_KINDS for k in kinds):
            raise Invalid(_("Unknown kind of help."))
        workshop.request = clean_text(request, limit=1000)
        workshop.help_kinds = [k for k in HELP_KINDS if k in kinds]
        workshop.save(update_fields=["request", "help_kinds"])
        events.record(
            workshop, "contract.updated", {"request": workshop.request, "help_kinds": workshop.help_kinds}, actor=acting_user
        )
        return workshop


def accept_rules(workshop_id: int, *, acting_user) -> RuleAcceptance:
    with _locked(workshop_id, acting_user) as (workshop, role):
        _require(workshop, role, Act.ACCEPT_RULES)
        acceptance, created = RuleAcceptance.objects.get_or_create(workshop=workshop, user=acting_user)
        if created:
            events.record(workshop, "rules.accepted", {"person": serialize.person(acting_user)}, actor=acting_user)
        return acceptance


def _parse_due(value) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise Invalid(_("The date must look like 2026-12-31.")) from None


def add_action(workshop_id: int, *, cid, what, first_step="", due=None, success_sign="", kept=(), acting_user) -> PlannedAction:
    cid = clean_cid(cid)
    with _locked(workshop_id, acting_user) as (workshop, role):
        if existing := _once(PlannedAction, workshop, cid):
            return existing
        _require(workshop, role, Act.WRITE_ACTION)
        kept_ids = list(kept) if isinstance(kept, (list, tuple)) else [kept] if kept not in (None, "") else []
        try:
            kept_ids = [int(k) for k in kept_ids]
        except (TypeError, ValueError):
            raise Invalid(_("Unknown contribution.")) from None
        kept_items = list(Contribution.objects.filter(workshop=workshop, pk__in=kept_ids, mark__in=("keep", "explore")))
        if len(kept_items) != len(set(kept_ids)):
            raise Invalid(_("An action can only be linked to contributions you marked."))
        item = PlannedAction.objects.create(
            workshop=workshop,
            cid=cid,
            what=clean_text(what, limit=1000),
            first_step=clean_text(first_step, required=False, limit=1000),
            due=_parse_due(due),
            success_sign=clean_text(success_sign, required=False, limit=1000),
        )
        item.kept.set(kept_items)
        events.record(workshop, "action.added", {"action": serialize.planned_action(item)}, actor=acting_user)
        return item


def write_learning(workshop_id: int, *, cid, body, acting_user, on_behalf_of=None) -> Learning:
    cid = clean_cid(cid)
    with _locked(workshop_id, acting_user) as (workshop, role):
        if existing := _once(Learning, workshop, cid):
            return existing
        author, role = _author(workshop, role, acting_user, on_behalf_of)
        _require(workshop, role, Act.WRITE_LEARNING)
        item = Learning.objects.create(workshop=workshop, author=author, cid=cid, body=clean_text(body))
        events.record(workshop, "learning.added", {"learning": _typed(serialize.learning(item), acting_user)}, actor=acting_user)
        return item


def evaluate(workshop_id: int, *, score, comment="", acting_user) -> Evaluation:
    """One evaluation per participant; sending again replaces it. Only its author sees it."""
    with _locked(workshop_id, acting_user) as (workshop, role):
        _require(workshop, role, Act.EVALUATE)
        try:
            score = int(score)
        except (TypeError, ValueError):
            score = 0
        if not 1 <= score <= 5:
            raise Invalid(_("Give a score from 1 to 5."))
        item, _created = Evaluation.objects.update_or_create(
            workshop=workshop, author=acting_user,
            defaults={"score": score, "comment": clean_text(comment, required=False, limit=1000)},
        )
        events.record(
            workshop, "evaluation.recorded", {"score": item.score, "comment": item.comment},
            actor=acting_user, audience=acting_user,
        )
        events.record(workshop, "evaluation.counted", {"count": workshop.evaluations.count()}, actor=acting_user)
        return item
