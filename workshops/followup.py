"""The "retour": a session opens with the previous clients telling where their plans stand.

A plan is the list of PlannedActions of an ended workshop. It stays open, session after session,
until its client closes it. Reports are made in the room of the opening session, so the group
sees them live; the event is recorded there.
"""
from django.utils import timezone
from django.utils.translation import gettext as _

from workshops import events
from workshops.actions import _locked, clean_text
from workshops.errors import Invalid, NotFound, Refused
from workshops.models import PlannedAction, Workshop

STATES = {PlannedAction.DONE, PlannedAction.IN_PROGRESS, PlannedAction.DROPPED}


def open_plans(group_id: int, *, before: Workshop | None = None):
    """Ended workshops of the group whose client has not closed the plan, oldest first."""
    plans = (
        Workshop.objects.filter(group_id=group_id, status=Workshop.ENDED, plan_closed_at__isnull=True, actions__isnull=False)
        .select_related("case__owner", "session")
        .prefetch_related("actions")
        .distinct()
        .order_by("ended_at", "id")
    )
    if before is not None:
        plans = plans.exclude(pk=before.pk)
    return plans


def _require_opening(workshop: Workshop) -> None:
    if workshop.status == Workshop.ENDED:
        raise Refused(_("The workshop has ended: it can be read, no longer changed."))


def _plan_of(room: Workshop, plan_id, acting_user) -> Workshop:
    plan = Workshop.objects.select_related("case").filter(pk=plan_id, group_id=room.group_id, status=Workshop.ENDED).first()
    if plan is None or plan.case_id is None:
        raise NotFound(_("This action plan does not exist."))
    if plan.case.owner_id != acting_user.pk:
        raise Refused(_("Only the client of this plan reports on it."))
    if plan.plan_closed_at is not None:
        raise Refused(_("This plan is closed."))
    return plan


def report(workshop_id: int, *, action_id, followup, comment="", acting_user) -> PlannedAction:
    """The plan's client says where one action stands: done, in progress or dropped."""
    with _locked(workshop_id, acting_user) as (room, _role):
        _require_opening(room)
        if followup not in STATES:
            raise Invalid(_("Choose: done, in progress or dropped."))
        action = PlannedAction.objects.select_related("workshop").filter(pk=action_id).first()
        if action is None:
            raise NotFound(_("This action does not exist."))
        _plan_of(room, action.workshop_id, acting_user)
        action.followup = followup
        action.followup_comment = clean_text(comment, required=False, limit=1000)
        action.followup_at = timezone.now()
        action.save(update_fields=["followup", "followup_comment", "followup_at"])
        events.record(room, "followup.updated", {"action": action.pk, "followup": followup}, actor=acting_user)
        return action


def close(workshop_id: int, *, plan_id, acting_user) -> Workshop:
    """The client closes his plan: it leaves the follow-up, and stays in his journal and record."""
    with _locked(workshop_id, acting_user) as (room, _role):
        _require_opening(room)
        plan = _plan_of(room, plan_id, acting_user)
        plan.plan_closed_at = timezone.now()
        plan.save(update_fields=["plan_closed_at"])
        events.record(room, "plan.closed", {"plan": plan.pk}, actor=acting_user)
        return plan
