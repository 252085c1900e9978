"""Sessions: when and where the group meets, in which format, and the workshop(s) each one holds.

A cycle is a run of sessions at a steady rhythm, typically one per participant so that each one
is client once. A session treats one case, sometimes two one after the other: each case is its
own Workshop with its own six steps. Plain domain code; pages call it.

Who may do what: every member reads; the facilitator plans and changes (the group's current
facilitator, or the one who ran that session: `may_manage`).
"""
import calendar
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from workshops.errors import Forbidden, Invalid, NotFound, Refused
from workshops.models import Cycle, Group, Membership, Session, Workshop
from workshops.steps import STEPS, Step

MAX_CASES_PER_SESSION = 2
MAX_SESSIONS_PER_CYCLE = 24
MINUTES_RANGE = (1, 120)
RHYTHMS = {value for value, _label in Cycle.RHYTHMS}
FORMATS = {value for value, _label in Session.FORMATS}


# --- who may do what ----------------------------------------------------------------------


def is_group_facilitator(group_id: int, user) -> bool:
    return user.is_authenticated and Membership.objects.filter(
        group_id=group_id, user_id=user.pk, role=Membership.FACILITATOR
    ).exists()


def may_manage(session: Session, user) -> bool:
    """The session's facilitator (history, after a handover too) or the group's current one."""
    if not user.is_authenticated:
        return False
    return user.pk == session.facilitator_id or is_group_facilitator(session.group_id, user)


def _is_member(group_id: int, user) -> bool:
    return user.is_authenticated and Membership.objects.filter(group_id=group_id, user_id=user.pk).exists()


def access_session(user, session_id: int) -> Session:
    """The session, if the user belongs to its group."""
    session = Session.objects.select_related("group", "cycle", "facilitator").filter(pk=session_id).first()
    if session is None:
        raise NotFound(_("This session does not exist."))
    if not _is_member(session.group_id, user):
        raise Forbidden(_("You are not a member of this group."))
    return session


def access_cycle(user, cycle_id: int) -> Cycle:
    cycle = Cycle.objects.select_related("group").filter(pk=cycle_id).first()
    if cycle is None:
        raise NotFound(_("This cycle does not exist."))
    if not _is_member(cycle.group_id, user):
        raise Forbidden(_("You are not a member of this group."))
    return cycle


# --- formats and durations ----------------------------------------------------------------


def preset_minutes(format: str) -> dict[str, int]:
    """The six time boxes of a preset format, keyed like Session.minutes ("1".."6")."""
    short = format == Session.SHORT
    return {str(int(step)): (info.short_minutes if short else info.minutes) for step, info in STEPS.items()}


def step_minutes(session: Session) -> dict[str, int]:
    if session.format == Session.CUSTOM and session.minutes:
        return {str(int(step)): int(session.minutes.get(str(int(step)), STEPS[step].minutes)) for step in Step}
    return preset_minutes(session.format)


def planned_minutes(session: Session) -> int:
    """The planned length of one case's six steps (no break counted)."""
    return sum(step_minutes(session).values())


def session_ends_at(session: Session) -> datetime | None:
    if session.starts_at is None:
        return None
    return session.starts_at + timedelta(minutes=planned_minutes(session))


def actual_minutes(workshops) -> int | None:
    """From the first start to the last end, once every started workshop has ended."""
    started = [w for w in workshops if w.started_at]
    if not started or any(w.ended_at is None for w in started):
        return None
    first = min(w.started_at for w in started)
    last = max(w.ended_at for w in started)
    return max(0, round((last - first).total_seconds() / 60))


def clean_minutes(raw) -> dict[str, int]:
    """Six step durations, each 1..120 minutes, from a dict keyed by step number."""
    if not isinstance(raw, dict):
        raise Invalid(_("Give a duration for each of the six steps."))
    low, high = MINUTES_RANGE
    cleaned = {}
    for step in Step:
        value = raw.get(str(int(step)), raw.get(int(step)))
        if isinstance(value, str) and value.strip().isdecimal():
            value = int(value.strip())
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise Invalid(
                _("The duration of “%(step)s” must be a whole number of minutes between %(low)d and %(high)d.")
                % {"step": STEPS[step].title, "low": low, "high": high}
            )
        cleaned[str(int(step))] = value
    return cleaned


def _clean_format(format, minutes) -> tuple[str, dict]:
    if format not in FORMATS:
        raise Invalid(_("Choose one of the formats."))
    return format, (clean_minutes(minutes) if format == Session.CUSTOM else {})


def _clean_line(value, *, label: str, required: bool = False, limit: int = 200) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise Invalid(_("%(field)s must be text.") % {"field": label})
    value = value.replace("\x00", "").strip()
    if required and not value:
        raise Invalid(_("%(field)s cannot be empty.") % {"field": label})
    if len(value) > limit:
        raise Invalid(_("%(field)s is too long (%(limit)d characters at most).") % {"field": label, "limit": limit})
    return value


def _clean_video_url(value) -> str:
    value = _clean_line(value, label=_("The video link"))
    if value:
        try:
            URLValidator(schemes=["http", "https"])(value)
        except ValidationError:
            raise Invalid(_("The video link must be a web address starting with https://.")) from None
    return value


YEARS_AROUND = 10  # a session is planned, or corrected, within this many years of today


def _clean_starts_at(value) -> datetime:
    if not isinstance(value, datetime):
        raise Invalid(_("Give the date and time of the session."))
    # Years only: near year 1 or 9999, any arithmetic on the date (time zone, end, next dates) overflows.
    if abs(value.year - timezone.now().year) > YEARS_AROUND:
        raise Invalid(_("Give a date within %(years)d years of today.") % {"years": YEARS_AROUND})
    return value if timezone.is_aware(value) else timezone.make_aware(value)


# --- the dates of a cycle -------------------------------------------------------------------


def _add_months(day: date, months: int) -> tuple[int, int]:
    index = day.year * 12 + day.month - 1 + months
    return index // 12, index % 12 + 1


def nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th `weekday` of the month (n = 1..5); the last one when the month has no n-th."""
    first = date(year, month, 1)
    day = 1 + (weekday - first.weekday()) % 7 + 7 * (n - 1)
    last_day = calendar.monthrange(year, month)[1]
    while day > last_day:
        day -= 7
    return date(year, month, day)


def cycle_dates(first: datetime, rhythm: str, count: int) -> list[datetime]:
    """`count` meeting times from `first`: same local wall-clock time each time (across DST).

    Monthly means the same weekday in the same week of the month ("the 2nd Tuesday").
    """
    local = timezone.localtime(first) if timezone.is_aware(first) else first
    if rhythm == Cycle.MONTHLY:
        n = (local.day - 1) // 7 + 1
        days = [nth_weekday(*_add_months(local.date(), i), local.weekday(), n) for i in range(count)]
    else:
        step = 7 if rhythm == Cycle.WEEKLY else 14
        days = [local.date() + timedelta(days=step * i) for i in range(count)]
    return [datetime.combine(day, local.timetz()) for day in days]


# --- planning -----------------------------------------------------------------------------


def participants_count(group: Group) -> int:
    """Members who are not the facilitator: each may be client once in a cycle."""
    return group.memberships.exclude(role=Membership.FACILITATOR).count()


def default_count(group: Group) -> int:
    return max(1, min(MAX_SESSIONS_PER_CYCLE, participants_count(group)))


def _clean_count(count) -> int:
    if isinstance(count, str) and count.strip().isdecimal():
        count = int(count)
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_SESSIONS_PER_CYCLE:
        raise Invalid(_("A cycle has between 1 and %(max)d sessions.") % {"max": MAX_SESSIONS_PER_CYCLE})
    return count


def workshop_title(session: Session, index: int = 1) -> str:
    title = _("Session %(number)s") % {"number": session.number}
    return title if index == 1 else _("%(title)s — case %(index)s") % {"title": title, "index": index}


def _workshop_format(session: Session) -> dict:
    """What the room's timer reads: the session's format, copied to its workshop."""
    return {
        "scheduled_at": session.starts_at,
        "short_format": session.format == Session.SHORT,
        "minutes": session.minutes if session.format == Session.CUSTOM else {},
    }


def _new_workshop(session: Session, index: int) -> Workshop:
    return Workshop.objects.create(
        group=session.group,
        session=session,
        title=workshop_title(session, index),
        facilitator=session.facilitator,
        **_workshop_format(session),
    )


@transaction.atomic
def plan_session(group, *, facilitator, number: int = 1, starts_at=None, place: str = "", video_url: str = "",
                 format: str = Session.LONG, minutes: dict | None = None, cycle=None) -> Session:
    """A session and its first workshop, ready for the facilitator to choose the case."""
    session = Session.objects.create(
        group=group, cycle=cycle, number=number, starts_at=starts_at, place=place, video_url=video_url,
        format=format, minutes=minutes or {}, facilitator=facilitator,
    )
    _new_workshop(session, 1)
    return session


def plan_cycle(group: Group, *, title, first_starts_at, rhythm, count=None, place="", video_url="",
               format=Session.LONG, minutes=None, acting_user, now: datetime | None = None) -> Cycle:
    """A cycle of `count` sessions (default: one per participant), numbered after the group's last."""
    if not is_group_facilitator(group.pk, acting_user):
        raise Refused(_("Only the facilitator can do this."))
    title = _clean_line(title, label=_("The title"), required=True)
    first_starts_at = _clean_starts_at(first_starts_at)
    if first_starts_at < (now or timezone.now()):
        raise Invalid(_("The first session must be in the future."))
    if rhythm not in RHYTHMS:
        raise Invalid(_("Choose one of the rhythms."))
    count = default_count(group) if count is None else _clean_count(count)
    place = _clean_line(place, label=_("The place"))
    video_url = _clean_video_url(video_url)
    format, minutes = _clean_format(format, minutes)
    with transaction.atomic():
        Group.objects.select_for_update().get(pk=group.pk)  # two planners queue: numbers stay unique
        last = Session.objects.filter(group=group).aggregate(last=Max("number"))["last"] or 0
        cycle = Cycle.objects.create(group=group, title=title, rhythm=rhythm)
        for offset, starts_at in enumerate(cycle_dates(first_starts_at, rhythm, count), start=1):
            plan_session(group, facilitator=acting_user, number=last + offset, starts_at=starts_at, place=place,
                         video_url=video_url, format=format, minutes=minutes, cycle=cycle)
    return cycle


def format_frozen(session: Session) -> bool:
    """Once a workshop of the session has started, its time boxes are those the room used."""
    return session.workshops.exclude(status=Workshop.PLANNED).exists()


def edit_session(session_id: int, *, starts_at, place="", video_url="", format=None, minutes=None, acting_user) -> Session:
    """Date, place and link stay editable; the format only until the first workshop starts."""
    starts_at = _clean_starts_at(starts_at)
    place = _clean_line(place, label=_("The place"))
    video_url = _clean_video_url(video_url)
    with transaction.atomic():
        session = Session.objects.select_for_update().filter(pk=session_id).first()
        if session is None:
            raise NotFound(_("This session does not exist."))
        if not may_manage(session, acting_user):
            raise Refused(_("Only the facilitator can do this."))
        if format is not None:
            format, minutes = _clean_format(format, minutes)
            if (format, minutes) != (session.format, session.minutes if session.format == Session.CUSTOM else {}):
                if format_frozen(session):
                    raise Refused(_("The format cannot change once the session's first workshop has started."))
                session.format, session.minutes = format, minutes
        if starts_at != session.starts_at:
            session.reminder_sent_at = None  # a new date deserves a new reminder
        session.starts_at, session.place, session.video_url = starts_at, place, video_url
        session.save(update_fields=["starts_at", "place", "video_url", "format", "minutes", "reminder_sent_at"])
        for workshop in session.workshops.filter(status=Workshop.PLANNED):
            for field, value in _workshop_format(session).items():
                setattr(workshop, field, value)
            workshop.save(update_fields=["scheduled_at", "short_format", "minutes"])
        return session


@transaction.atomic
def add_second_case(session_id: int, *, acting_user=None) -> Workshop:
    """The second case of the session, once the first workshop has ended."""
    session = Session.objects.select_for_update().select_related("group").filter(pk=session_id).first()
    if session is None:
        raise NotFound(_("This session does not exist."))
    if acting_user is not None and not may_manage(session, acting_user):
        raise Refused(_("Only the facilitator can do this."))
    workshops = list(session.workshops.order_by("id"))
    if len(workshops) >= MAX_CASES_PER_SESSION:
        raise Refused(_("A session treats at most two cases."))
    if any(w.status != Workshop.ENDED for w in workshops):
        raise Refused(_("The second case starts once the first workshop has ended."))
    return _new_workshop(session, len(workshops) + 1)


def may_add_second_case(session: Session, workshops) -> bool:
    return 0 < len(workshops) < MAX_CASES_PER_SESSION and all(w.status == Workshop.ENDED for w in workshops)
