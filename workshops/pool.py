"""Choosing the case: the group's pool, the vote that is a first pass, and whose turn it is.

Members bring cases to the pool between sessions. At the opening of a session each participant
spreads 3 votes; the facilitator sees the tally (never who voted what), the rotation (who was
client when) and a suggestion, then decides with actions.designate_case.
"""
from collections import Counter

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from workshops import events
from workshops.actions import _locked, clean_text
from workshops.errors import Invalid, NotFound, Refused
from workshops.models import Case, Membership, Session, Vote, Workshop
from workshops.people import access_group, display_name
from workshops.steps import Role

VOTES_PER_MEMBER = 3
URGENCIES = {value for value, _label in Case.URGENCIES}


# --- the pool ------------------------------------------------------------------------------


def _clean_urgency(value) -> int:
    try:
        urgency = int(value)
    except (TypeError, ValueError):
        urgency = 0
    if urgency not in URGENCIES:
        raise Invalid(_("Choose how urgent the case is."))
    return urgency


def _pool_changed(group_id: int, actor) -> None:
    """Sessions waiting to open show the pool: tell their rooms it changed."""
    for workshop_id in Workshop.objects.filter(group_id=group_id, status=Workshop.PLANNED).values_list("pk", flat=True):
        with _locked(workshop_id, actor) as (workshop, _role):
            events.record(workshop, "pool.changed", {}, actor=actor)


def submit_case(group_id: int, *, title, summary="", stakes="", urgency=2, acting_user) -> Case:
    group = access_group(acting_user, group_id)
    if Membership.objects.filter(group=group, user=acting_user, role=Membership.FACILITATOR).exists():
        raise Refused(_("The facilitator guards the process and does not bring a case."))
    with transaction.atomic():
        case = Case.objects.create(
            group=group,
            owner=acting_user,
            title=clean_text(title, limit=200),
            summary=clean_text(summary, required=False, limit=2000),
            stakes=clean_text(stakes, required=False, limit=2000),
            urgency=_clean_urgency(urgency),
        )
        _pool_changed(group.pk, acting_user)
    return case


def withdraw_case(case_id: int, *, acting_user) -> Case:
    """Only its owner takes a case back, and only while it waits in the pool."""
    case = Case.objects.filter(pk=case_id, owner_id=acting_user.pk).first()
    if case is None:
        raise NotFound(_("This case does not exist."))
    if case.status != Case.POOL or Workshop.objects.filter(case=case).exclude(status=Workshop.PLANNED).exists():
        raise Refused(_("This case has already been treated; it stays in the group's history."))
    with transaction.atomic():
        case.status = Case.WITHDRAWN
        case.save(update_fields=["status"])
        Workshop.objects.filter(case=case, status=Workshop.PLANNED).update(case=None)
        _pool_changed(case.group_id, acting_user)
    return case


def in_pool(group_id: int):
    return Case.objects.filter(group_id=group_id, status=Case.POOL).select_related("owner").order_by("-urgency", "created_at", "id")


# --- the vote ------------------------------------------------------------------------------


def vote(workshop_id: int, *, votes, acting_user) -> list[int]:
    """Replace the voter's 3 votes for this session: `votes` lists case ids, one per vote."""
    with _locked(workshop_id, acting_user) as (workshop, role):
        if workshop.status != Workshop.PLANNED or workshop.session_id is None:
            raise Refused(_("The vote takes place at the opening of the session, before the workshop starts."))
        if role == Role.FACILITATOR:
            raise Refused(_("The facilitator does not vote: he sees the tally and decides."))
        try:
            chosen = [int(v) for v in votes if str(v).strip() != ""]
        except (TypeError, ValueError):
            raise Invalid(_("A list of choices was expected.")) from None
        if len(chosen) > VOTES_PER_MEMBER:
            raise Invalid(_("Each member has %(count)s votes.") % {"count": VOTES_PER_MEMBER})
        pool = set(in_pool(workshop.group_id).values_list("pk", flat=True))
        if any(case_id not in pool for case_id in chosen):
            raise NotFound(_("This case is not in the group's pool."))
        Vote.objects.filter(session_id=workshop.session_id, voter=acting_user).delete()
        for case_id, count in Counter(chosen).items():
            Vote.objects.create(session_id=workshop.session_id, voter=acting_user, case_id=case_id, count=count)
        # Public: only how many have voted. The tally is rendered for the facilitator alone.
        voters = Vote.objects.filter(session_id=workshop.session_id).values("voter").distinct().count()
        events.record(workshop, "votes.updated", {"voters": voters}, actor=acting_user)
        return chosen


def my_votes(session_id: int | None, user) -> list[int]:
    """The voter's own choices, one case id per vote, to refill his form."""
    rows = Vote.objects.filter(session_id=session_id, voter_id=user.pk).order_by("id")
    return [row.case_id for row in rows for _ in range(row.count)]


def tally(session: Session | None, group_id: int) -> list[dict]:
    """Cases of the pool with their votes, most voted first; urgency breaks ties."""
    totals = {}
    if session is not None:
        totals = dict(
            Vote.objects.filter(session=session).values_list("case").annotate(total=Sum("count")).values_list("case", "total")
        )
    rows = [{"case": case, "votes": totals.get(case.pk, 0)} for case in in_pool(group_id)]
    return sorted(rows, key=lambda row: (-row["votes"], -row["case"].urgency, row["case"].created_at))


def voter_count(session_id: int | None) -> int:
    return Vote.objects.filter(session_id=session_id).values("voter").distinct().count() if session_id else 0


# --- whose turn ----------------------------------------------------------------------------


def rotation(group_id: int, cycle_id: int | None) -> list[dict]:
    """Each participant and the sessions where he was client, in this cycle (or ever, without one)."""
    treated = Workshop.objects.filter(group_id=group_id, case__isnull=False).exclude(status=Workshop.PLANNED)
    if cycle_id is not None:
        treated = treated.filter(session__cycle_id=cycle_id)
    turns: dict[int, list[Workshop]] = {}
    for workshop in treated.select_related("case", "session").order_by("started_at"):
        turns.setdefault(workshop.case.owner_id, []).append(workshop)
    participants = (
        Membership.objects.filter(group_id=group_id, role=Membership.MEMBER).select_related("user").order_by("user__first_name", "user__last_name")
    )
    return [
        {
            "person": {"id": m.user_id, "name": display_name(m.user)},
            "turns": [{"title": w.title, "at": w.started_at} for w in turns.get(m.user_id, [])],
        }
        for m in participants
    ]


def suggestion(group_id: int, cycle_id: int | None) -> list[dict]:
    """Who has not been client yet in this cycle, those with a case waiting in the pool first."""
    waiting = set(in_pool(group_id).values_list("owner_id", flat=True))
    fresh = [row["person"] for row in rotation(group_id, cycle_id) if not row["turns"]]
    return sorted(fresh, key=lambda person: person["id"] not in waiting)
