"""Working in one room: the projector's view of the step, and texts the facilitator types for
participants without a screen (the action checks who may; here is only what the room shows)."""
from django.contrib.auth import get_user_model
from django.utils import timezone

from workshops import agenda, labels, serialize, timer
from workshops.models import RuleAcceptance, Workshop
from workshops.people import role_in
from workshops.steps import STEPS, Act, Role, Step, allowed

# The acts a facilitator may type for someone else, by the form that offers them.
ON_BEHALF = (Act.ASK_QUESTION, Act.CONTRIBUTE, Act.WRITE_LEARNING)
TYPED_EVENTS = {"question.asked": "contribution", "contribution.added": "contribution", "learning.added": "learning"}


def choices(workshop: Workshop) -> dict[str, list[dict]]:
    """For the facilitator's forms: per act of this step, the members he may type it for."""
    if workshop.status != Workshop.LIVE:
        return {}
    acts = [act for act in ON_BEHALF if any(allowed(workshop.step, role, act) for role in (Role.CLIENT, Role.CONSULTANT))]
    if not acts:
        return {}
    members = get_user_model().objects.filter(memberships__group_id=workshop.group_id).exclude(pk=workshop.facilitator_id)
    people = sorted(members, key=lambda u: (u.first_name.casefold(), u.last_name.casefold(), u.pk))
    return {
        act.value: [serialize.person(u) for u in people if allowed(workshop.step, role_in(workshop, u.pk), act)]
        for act in acts
    }


def typed(workshop: Workshop, items: list[dict], key: str = "contribution") -> list[dict]:
    """`items` (serialized), each one the facilitator typed for its author marked `typed_by`, as
    its event said. Only the facilitator's events can carry it: a short read of the log."""
    marks = {}
    events = workshop.events.filter(kind__in=TYPED_EVENTS, actor_id=workshop.facilitator_id).only("kind", "payload")
    for event in events:
        said = event.payload.get(TYPED_EVENTS[event.kind]) or {}
        if TYPED_EVENTS[event.kind] == key and said.get("typed_by"):
            marks[said.get("id")] = said["typed_by"]
    for item in items:
        if item["id"] in marks:
            item["typed_by"] = marks[item["id"]]
    return items


def projector(workshop: Workshop) -> dict:
    """What the room's screen shows: the step, its timer and rule, and what the group has said in
    it — what every member sees alike, never a private note, a flag or the facilitator's tally."""
    step = Step(workshop.step) if workshop.step else None
    now = timezone.now()
    ctx = {
        "workshop": workshop,
        "step": step,
        "info": STEPS[step] if step else None,
        "timer": timer.state(workshop, now),
        "run": agenda.of(workshop, now).run if workshop.status == Workshop.LIVE else 0,
        "client": serialize.person(workshop.case.owner) if workshop.case_id else None,
    }
    if step in (Step.CLARIFICATION, Step.CONSULTATION):
        said = workshop.contributions.filter(step=step).select_related("author")  # a text keeps the step it was said in
        ctx["items"] = typed(workshop, [serialize.contribution(c) for c in said])
    elif step == Step.EXPOSE and workshop.case_id:
        ctx["case"] = serialize.case(workshop.case)
    elif step == Step.CONTRAT:
        ctx["rules"] = labels.RULES
        ctx["acceptances"] = [serialize.person(a.user) for a in RuleAcceptance.objects.filter(workshop=workshop).select_related("user").order_by("accepted_at")]
    elif step == Step.PLAN:
        ctx["actions"] = [serialize.planned_action(a) for a in workshop.actions.prefetch_related("kept")]
    elif step == Step.APPRENTISSAGE:
        ctx["items"] = typed(workshop, [serialize.learning(item) for item in workshop.learnings.select_related("author")], "learning")
    return ctx
