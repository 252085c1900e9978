"""What the coordinator (the organisation's training or HR person) sees of the groups: how the
process runs, never what is said in it.

Per group: its name, its facilitator (the coordinator named him), how many members, sessions held,
the attendance rate, the average satisfaction, open and closed action plans, and how many exports
were made. Never a case, a contribution, a plan's text, a journal, a comment, nor a member's name.

A figure computed from fewer than MIN_ANSWERS answers is not shown: with three evaluations, an
average says too much about each one. Counts of events (sessions, plans) are not answers and are
always shown. Creating groups and naming their facilitator is in workshops.membership.
"""
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

from privacy import audit
from workshops import attendance, evaluations
from workshops.errors import NotFound
from workshops.membership import check_coordinator, facilitator_of
from workshops.models import Evaluation, Group, Membership, Workshop
from workshops.people import display_name

MIN_ANSWERS = 5


@dataclass
class Figure:
    """A rate or an average, or why it is not shown. Below MIN_ANSWERS the value is dropped here,
    so no template can show it by mistake."""

    value: Decimal | None
    answers: int

    def __post_init__(self):
        if self.answers < MIN_ANSWERS:
            self.value = None

    @property
    def shown(self) -> bool:
        return self.value is not None

    @property
    def too_few(self) -> bool:
        return 0 < self.answers < MIN_ANSWERS


@dataclass
class GroupFigures:
    group: Group
    facilitator: str  # the one name the coordinator sees: he named that person
    members: int  # participants besides the facilitator
    sessions_held: int
    attendance: Figure  # percent present among those expected at held sessions
    satisfaction: Figure  # average evaluation score, 1 to 5
    plans_open: int
    plans_closed: int
    exports: int  # that an export happened, from the audit log: never who nor what


def _held(group: Group) -> list[Workshop]:
    return list(Workshop.objects.filter(group=group, status=Workshop.ENDED).select_related("session"))


def sessions_held(ended: list[Workshop]) -> int:
    """A session with at least one ended workshop; a workshop outside any session counts alone."""
    return len({w.session_id for w in ended if w.session_id} | {-w.pk for w in ended if not w.session_id})


def attendance_rate(ended: list[Workshop]) -> Figure:
    """Present marks over the people expected at each held session (its roster)."""
    sessions = {w.session_id: w.session for w in ended if w.session_id}
    expected = present = 0
    for session in sessions.values():
        rows = attendance.roster(session)
        expected += len(rows)
        present += sum(1 for row in rows if row["present"])
    value = (Decimal(100 * present) / Decimal(expected)).quantize(Decimal("1"), ROUND_HALF_UP) if expected else None
    return Figure(value, expected)


def satisfaction(group: Group) -> Figure:
    """The average score of every evaluation of the group (never who gave it)."""
    scores = list(Evaluation.objects.filter(workshop__group=group).values_list("score", flat=True))
    return Figure(evaluations.average(scores), len(scores))


def plans(ended: list[Workshop]) -> tuple[int, int]:
    """(open, closed) action plans: ended workshops that have actions, by whether the client closed it."""
    with_actions = set(
        Workshop.objects.filter(pk__in=[w.pk for w in ended], actions__isnull=False).values_list("pk", flat=True)
    )
    closed = sum(1 for w in ended if w.pk in with_actions and w.plan_closed_at is not None)
    return len(with_actions) - closed, closed


def group_figures(group: Group) -> GroupFigures:
    ended = _held(group)
    facilitator = facilitator_of(group)
    open_, closed = plans(ended)
    return GroupFigures(
        group=group,
        facilitator=display_name(facilitator) if facilitator else "",
        members=group.memberships.exclude(role=Membership.FACILITATOR).count(),
        sessions_held=sessions_held(ended),
        attendance=attendance_rate(ended),
        satisfaction=satisfaction(group),
        plans_open=open_,
        plans_closed=closed,
        exports=audit.export_count(group),
    )


def dashboard(user) -> list[GroupFigures]:
    """Every group of the organisation (one site: the coordinator sees them all), by name."""
    check_coordinator(user)
    return [group_figures(g) for g in Group.objects.order_by("name", "id")]


def access_group(user, group_id) -> Group:
    """A group for the coordinator's forms: its name and facilitator only, never its content."""
    check_coordinator(user)
    group = Group.objects.filter(pk=group_id).first()
    if group is None:
        raise NotFound(_("This group does not exist."))
    return group
