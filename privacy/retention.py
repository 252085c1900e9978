"""Retention: what was said in a workshop does not stay forever.

N months after a workshop ended (CODEV_RETENTION_MONTHS, or the group's own GroupPolicy), its
content is purged. First, what belongs to individuals is put in their hands: each member's
learnings and private notes (and, for the client, his plan) become an entry of his journal, and
the client keeps the record of his case as a ClientRecord that only he reads and deletes. Then
the contributions, notes, learnings, plan, evaluation comments, rule acceptances and votes are
deleted, the case texts and the request blanked, and the event payloads emptied. What stays is
the process: the workshop, its session, attendance, scores, and the event log's kinds and actors.

`purge_expired` runs daily from cron (`manage.py purge_expired`); a purge happens once per
workshop (a Purge row), so running it again changes nothing.
"""
import calendar
from dataclasses import dataclass, fields
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from privacy import audit
from privacy.models import RETENTION_RANGE, ClientRecord, GroupPolicy, Purge
from workshops import records
from workshops.errors import Forbidden, Invalid
from workshops.membership import is_facilitator
from workshops.models import (
    Case,
    Contribution,
    Evaluation,
    Event,
    Group,
    JournalEntry,
    Learning,
    PlannedAction,
    PrivateNote,
    RuleAcceptance,
    Vote,
    Workshop,
)
from workshops.people import display_name
from workshops.steps import STEPS

CASE_TEXTS = ("summary", "stakes", "context", "problem", "tried", "expectations")


# --- how long ---------------------------------------------------------------------------------


def default_months() -> int:
    months = settings.CODEV_RETENTION_MONTHS
    if not RETENTION_RANGE[0] <= months <= RETENTION_RANGE[1]:
        raise ImproperlyConfigured("CODEV_RETENTION_MONTHS must be between 1 and 120")
    return months


def months_for(group: Group) -> int:
    policy = GroupPolicy.objects.filter(group=group).first()
    return policy.retention_months if policy else default_months()


def months_before(moment: datetime, months: int) -> datetime:
    """The same wall-clock moment `months` earlier; the 31st becomes the month's last day."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def set_months(group: Group, months, *, acting_user) -> GroupPolicy:
    """The facilitator sets his group's retention (1 to 120 months)."""
    if not is_facilitator(group, acting_user):
        raise Forbidden(_("Only the group's facilitator can change how long its content is kept."))
    try:
        months = int(str(months).strip())
    except (TypeError, ValueError):
        months = None
    low, high = RETENTION_RANGE
    if months is None or not low <= months <= high:
        raise Invalid(_("Give a number of months between %(low)d and %(high)d.") % {"low": low, "high": high})
    previous = months_for(group)
    policy, _created = GroupPolicy.objects.update_or_create(
        group=group, defaults={"retention_months": months, "updated_at": timezone.now(), "updated_by": acting_user}
    )
    audit.record(acting_user, "retention.changed", group=group, target=group, months=months, previous=previous)
    return policy


# --- what is due ------------------------------------------------------------------------------


def expired(now: datetime) -> list[Workshop]:
    """Ended workshops, not purged yet, that ended longer ago than their group's retention."""
    policies = dict(GroupPolicy.objects.values_list("group_id", "retention_months"))
    default = default_months()
    candidates = (
        Workshop.objects.filter(status=Workshop.ENDED, ended_at__isnull=False, purge__isnull=True)
        .select_related("group", "case", "case__owner", "facilitator")
        .order_by("ended_at", "id")
    )
    return [w for w in candidates if w.ended_at <= months_before(now, policies.get(w.group_id, default))]


@dataclass
class Report:
    """What a purge removed (or would remove) and what it kept for people."""

    workshops: int = 0
    contributions: int = 0
    notes: int = 0
    learnings: int = 0
    actions: int = 0
    evaluation_comments: int = 0
    acceptances: int = 0
    votes: int = 0
    events: int = 0
    journal_entries: int = 0
    client_records: int = 0

    def add(self, other: "Report") -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def items(self) -> list[tuple[str, int]]:
        return [(f.name, getattr(self, f.name)) for f in fields(self)]


def _votes(workshop: Workshop):
    """The votes that chose this case: of its session, and any for its case."""
    votes = Vote.objects.none()
    if workshop.session_id:
        votes = votes | Vote.objects.filter(session_id=workshop.session_id)
    if workshop.case_id:
        votes = votes | Vote.objects.filter(case_id=workshop.case_id)
    return votes


def _counts(workshop: Workshop) -> Report:
    """What purging this workshop removes, and what it would keep for people (a dry run's answer)."""
    owners = set(Learning.objects.filter(workshop=workshop).values_list("author_id", flat=True))
    owners |= set(PrivateNote.objects.filter(workshop=workshop).values_list("author_id", flat=True))
    has_plan = PlannedAction.objects.filter(workshop=workshop).exists()
    if workshop.case_id and has_plan:
        owners.add(workshop.case.owner_id)
    return Report(
        journal_entries=len(owners),
        client_records=int(workshop.case_id is not None),
        workshops=1,
        contributions=Contribution.objects.filter(workshop=workshop).count(),
        notes=PrivateNote.objects.filter(workshop=workshop).count(),
        learnings=Learning.objects.filter(workshop=workshop).count(),
        actions=PlannedAction.objects.filter(workshop=workshop).count(),
        evaluation_comments=Evaluation.objects.filter(workshop=workshop).exclude(comment="").count(),
        acceptances=RuleAcceptance.objects.filter(workshop=workshop).count(),
        votes=_votes(workshop).distinct().count(),
        events=Event.objects.filter(workshop=workshop).count(),
    )


# --- first, what belongs to individuals -------------------------------------------------------


def _day(value) -> str:
    return formats.date_format(timezone.localtime(value), "DATE_FORMAT") if value else ""


def _field(label, value) -> str:
    return _("%(label)s: %(value)s") % {"label": label, "value": value}


def _action_text(action: PlannedAction) -> list[str]:
    lines = [f"- {action.what}"]
    if action.first_step:
        lines.append("  " + _field(_("First step"), action.first_step))
    if action.due:
        lines.append("  " + _field(_("By"), formats.date_format(action.due, "DATE_FORMAT")))
    if action.success_sign:
        lines.append("  " + _field(_("Sign of success"), action.success_sign))
    followup = str(action.get_followup_display())
    if action.followup_comment:
        followup += " — " + action.followup_comment
    lines.append("  " + _field(_("Follow-up"), followup))
    return lines


def journal_text(workshop: Workshop, *, learnings, notes, actions, now: datetime) -> str:
    """A readable journal entry of what one member kept from a workshop about to be purged."""
    when = _day(workshop.started_at or workshop.ended_at)
    lines = [
        f"{workshop.title} — {workshop.group.name} — {when}",
        _("Kept in your journal when the workshop's content was purged, on %(date)s.") % {"date": _day(now)},
    ]
    if learnings:
        lines += ["", _("What I learned")] + [f"- {item.body}" for item in learnings]
    if notes:
        lines += ["", _("My private notes")]
        for note in notes:
            step = STEPS[note.step].title if note.step in STEPS else ""
            lines.append(f"- {step} — {note.body}" if step else f"- {note.body}")
    if actions:
        lines += ["", _("My action plan")]
        for action in actions:
            lines += _action_text(action)
    return "\n".join(lines)


def _keeps_a_journal(user) -> bool:
    """Placeholders of deleted accounts keep nothing: the content goes with the purge."""
    return user.is_active or user.has_usable_password()


def preserve(workshop: Workshop, *, now: datetime, skip_user_id: int | None = None) -> Report:
    """Copy each member's own items into his journal, and the client's record into a ClientRecord."""
    report = Report()
    by_owner: dict[int, dict] = {}

    def slot(user):
        return by_owner.setdefault(user.pk, {"user": user, "learnings": [], "notes": [], "actions": []})

    for learning in Learning.objects.filter(workshop=workshop).select_related("author").order_by("created_at", "id"):
        slot(learning.author)["learnings"].append(learning)
    for note in PrivateNote.objects.filter(workshop=workshop).select_related("author").order_by("created_at", "id"):
        slot(note.author)["notes"].append(note)
    client = workshop.case.owner if workshop.case_id else None
    if client is not None:
        plan = list(PlannedAction.objects.filter(workshop=workshop).order_by("created_at", "id"))
        if plan:
            slot(client)["actions"] = plan
    at = workshop.started_at or workshop.ended_at or now  # the journal stays in date order
    for mine in by_owner.values():
        user = mine.pop("user")
        if user.pk == skip_user_id or not _keeps_a_journal(user):
            continue
        JournalEntry.objects.create(owner=user, body=journal_text(workshop, now=now, **mine), created_at=at)
        report.journal_entries += 1
    if client is not None and client.pk != skip_user_id and _keeps_a_journal(client):
        record = records.client_record(workshop, client)
        _kept, created = ClientRecord.objects.get_or_create(
            owner=client,
            workshop_id=workshop.pk,
            defaults={
                "title": workshop.case.title,
                "workshop_title": f"{workshop.group.name} — {workshop.title}",
                "ended_at": workshop.ended_at,
                "body": records.to_markdown(record),
                "created_at": now,
            },
        )
        report.client_records += int(created)
    return report


# --- then, the purge --------------------------------------------------------------------------


def _blank_case(case: Case, workshop: Workshop, now: datetime) -> None:
    """Blank the case, unless another workshop on it keeps its content for now."""
    others = Workshop.objects.filter(case=case).exclude(pk=workshop.pk).filter(purge__isnull=True)
    if others.exists():
        return
    title = _("Case purged on %(date)s") % {"date": _day(now)}
    Case.objects.filter(pk=case.pk).update(title=title, **{name: "" for name in CASE_TEXTS})


@transaction.atomic
def purge_workshop(workshop: Workshop, *, now: datetime, reason: str = Purge.RETENTION,
                   skip_user_id: int | None = None, acting_user=None) -> Report:
    """Preserve, then purge one ended workshop; a second call finds it purged and does nothing."""
    workshop = Workshop.objects.select_for_update().get(pk=workshop.pk)  # one purge at a time
    if Purge.objects.filter(workshop=workshop).exists():
        return Report()
    workshop = Workshop.objects.select_related("group", "case", "case__owner", "facilitator").get(pk=workshop.pk)
    # The site's language: the texts kept for people read as the rest of the site does.
    with translation.override(settings.LANGUAGE_CODE):
        report = _counts(workshop)
        kept = preserve(workshop, now=now, skip_user_id=skip_user_id)
        report.journal_entries, report.client_records = kept.journal_entries, kept.client_records  # the real ones
        Contribution.objects.filter(workshop=workshop).delete()  # plan lines' "kept" links go with them
        PrivateNote.objects.filter(workshop=workshop).delete()
        Learning.objects.filter(workshop=workshop).delete()
        PlannedAction.objects.filter(workshop=workshop).delete()
        RuleAcceptance.objects.filter(workshop=workshop).delete()
        Evaluation.objects.filter(workshop=workshop).exclude(comment="").update(comment="")  # scores stay
        _votes(workshop).delete()
        Event.objects.filter(workshop=workshop).update(payload={})  # kinds, actors, times stay
        Workshop.objects.filter(pk=workshop.pk).update(request="")
        if workshop.case_id:
            _blank_case(workshop.case, workshop, now)
    Purge.objects.create(workshop=workshop, reason=reason, at=now)
    audit.record(acting_user, "retention.purged", group=workshop.group, target=workshop, reason=reason)
    return report


def purge_expired(now: datetime | None = None, *, dry_run: bool = False) -> Report:
    """Purge every workshop past its group's retention. With dry_run, only count."""
    now = now or timezone.now()
    total = Report()
    for workshop in expired(now):
        total.add(_counts(workshop) if dry_run else purge_workshop(workshop, now=now))
    return total


def is_purged(workshop: Workshop) -> bool:
    return Purge.objects.filter(workshop=workshop).exists()


def describe(group: Group) -> dict:
    """What the group page says about retention."""
    policy = GroupPolicy.objects.filter(group=group).first()
    return {"months": policy.retention_months if policy else default_months(), "own": policy is not None,
            "default": default_months(), "updated_by": display_name(policy.updated_by) if policy and policy.updated_by else ""}
