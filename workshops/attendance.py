"""Who came to a session: marked by the facilitator, and automatically for whoever joined the room.

The latest marking wins: joining the live room marks a member present; the facilitator's marking,
made after, overrides it (and a later join marks him present again: he was there).
"""
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from workshops import sessions
from workshops.errors import Invalid, Refused
from workshops.models import Attendance, Membership, Session, Workshop
from workshops.people import display_name


def mark(session: Session, user, present: bool, *, acting_user) -> Attendance:
    """The facilitator says whether `user` was there."""
    if not sessions.may_manage(session, acting_user):
        raise Refused(_("Only the facilitator can do this."))
    if not Membership.objects.filter(group_id=session.group_id, user_id=user.pk).exists():
        raise Invalid(_("This person is not a member of the group."))
    row, _created = Attendance.objects.update_or_create(
        session=session, user=user,
        defaults={"present": bool(present), "source": Attendance.FACILITATOR, "marked_at": timezone.now()},
    )
    return row


def mark_all(session: Session, marks: dict[int, bool], *, acting_user) -> int:
    """The attendance form: one present/absent per member. Only what changes is written, so a
    presence seen in the room keeps its source. Returns how many rows changed."""
    if not sessions.may_manage(session, acting_user):
        raise Refused(_("Only the facilitator can do this."))
    expected = {row["user"].pk for row in roster(session)}
    if set(marks) - expected:
        raise Invalid(_("This person is not a member of the group."))
    current = dict(Attendance.objects.filter(session=session).values_list("user_id", "present"))
    changed = 0
    with transaction.atomic():
        for user_id, present in marks.items():
            if current.get(user_id) == bool(present):
                continue
            Attendance.objects.update_or_create(
                session=session, user_id=user_id,
                defaults={"present": bool(present), "source": Attendance.FACILITATOR, "marked_at": timezone.now()},
            )
            changed += 1
    return changed


def mark_present_from_room(workshop_id: int, user_id: int) -> bool:
    """A member joined a live room: he is present at its session. Called on every join, so it
    costs one read when he is already marked present. Returns whether something was written."""
    session_id = (
        Workshop.objects.filter(pk=workshop_id, status=Workshop.LIVE, session__isnull=False)
        .values_list("session_id", flat=True).first()
    )
    if session_id is None:
        return False
    row = Attendance.objects.filter(session_id=session_id, user_id=user_id).only("present").first()
    if row is not None and row.present:
        return False
    if not Membership.objects.filter(group__sessions=session_id, user_id=user_id).exists():
        return False
    now = timezone.now()
    if row is None:
        try:
            with transaction.atomic():
                Attendance.objects.create(session_id=session_id, user_id=user_id, present=True,
                                          source=Attendance.ROOM, marked_at=now)
            return True
        except IntegrityError:  # another socket of his got there first
            return False
    return bool(
        Attendance.objects.filter(pk=row.pk, present=False)
        .update(present=True, source=Attendance.ROOM, marked_at=now)
    )


def present_count(session: Session) -> int:
    return session.attendances.filter(present=True).count()


def roster(session: Session) -> list[dict]:
    """Everyone expected at the session: its facilitator, the members who had joined by then, and
    anyone marked (a member who left since stays on the record)."""
    marks = {a.user_id: a for a in session.attendances.select_related("user")}
    people = {a.user_id: a.user for a in marks.values()}
    people.setdefault(session.facilitator_id, session.facilitator)
    for m in Membership.objects.filter(group_id=session.group_id).select_related("user"):
        if session.starts_at is None or m.joined_at <= session.starts_at:
            people.setdefault(m.user_id, m.user)
    rows = []
    for user_id, user in people.items():
        mark_ = marks.get(user_id)
        rows.append({
            "user": user,
            "name": display_name(user),
            "is_facilitator": user_id == session.facilitator_id,
            "present": None if mark_ is None else mark_.present,
            "source": None if mark_ is None else mark_.source,
        })
    rows.sort(key=lambda row: (not row["is_facilitator"], row["name"].casefold()))
    return rows


def sheet(session: Session) -> dict:
    """What the attendance sheet (PDF) shows, the kind a training department keeps."""
    workshops = list(session.workshops.order_by("id"))
    rows = roster(session)
    return {
        "session": session,
        "group": session.group,
        "number": session.number,
        "starts_at": session.starts_at,
        "planned_minutes": sessions.planned_minutes(session),
        "actual_minutes": sessions.actual_minutes(workshops),
        "facilitator": display_name(session.facilitator),
        "place": session.place,
        "video_url": session.video_url,
        "rows": rows,
        "present_count": sum(1 for row in rows if row["present"]),
        "generated_at": timezone.now(),
    }
