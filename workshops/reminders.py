"""E-mail reminders, sent by `manage.py send_reminders` from cron every hour.

- Two days before a session, each member gets its date, place, video link and the .ics file.
- Halfway between a workshop and the group's next session, the client gets his action plan back.

Each reminder is claimed in the database (a timestamp set only if still empty) before it is sent,
so two overlapping runs never send it twice.
"""
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from workshops import calendar, sessions
from workshops.models import Membership, PlannedAction, Session, Workshop
from workshops.people import display_name

SESSION_NOTICE = timedelta(hours=48)
log = logging.getLogger(__name__)


def site_url() -> str:
    """Where links in e-mails point; the lead's settings may define SITE_URL."""
    return getattr(settings, "SITE_URL", "http://127.0.0.1:8000").rstrip("/")


def _send(message: EmailMessage) -> bool:
    try:
        return bool(message.send())
    except Exception:  # one bad address must not stop the others
        log.exception("reminder to %s not sent", message.to)
        return False


# --- two days before a session --------------------------------------------------------------


def due_sessions(now: datetime):
    return Session.objects.filter(
        starts_at__gt=now, starts_at__lte=now + SESSION_NOTICE, reminder_sent_at__isnull=True
    ).select_related("group", "facilitator")


def send_session_reminders(now: datetime, *, base_url: str | None = None) -> int:
    """Every member of each session starting within 48 hours, once. Returns e-mails sent."""
    base_url = base_url or site_url()
    sent = 0
    with translation.override(settings.LANGUAGE_CODE):
        for session in due_sessions(now):
            claimed = Session.objects.filter(pk=session.pk, reminder_sent_at__isnull=True).update(reminder_sent_at=now)
            if not claimed:
                continue  # another run took it
            sent += _remind_members(session, base_url)
    return sent


def _remind_members(session: Session, base_url: str) -> int:
    ics = calendar.session_ics(session, base_url=base_url)
    context = {
        "session": session,
        "group": session.group,
        "ends_at": sessions.session_ends_at(session),
        "planned_minutes": sessions.planned_minutes(session),
        "facilitator": display_name(session.facilitator),
        "session_url": base_url + reverse("session", args=[session.pk]),
        "rooms": [(w.title, base_url + reverse("workshop", args=[w.pk])) for w in session.workshops.order_by("id")],
    }
    subject = _("Reminder: %(group)s, session %(number)s") % {"group": session.group.name, "number": session.number}
    sent = 0
    for membership in Membership.objects.filter(group=session.group).select_related("user"):
        user = membership.user
        if not user.email:
            continue
        body = render_to_string("workshops/sessions/reminder_email.txt", {**context, "name": user.first_name or display_name(user)})
        message = EmailMessage(subject, body, to=[user.email])
        message.attach(f"session-{session.number}.ics", ics, "text/calendar")
        sent += _send(message)
    return sent


# --- halfway to the next session: the client's plan -------------------------------------------


def next_session(workshop: Workshop) -> Session | None:
    return (
        Session.objects.filter(group_id=workshop.group_id, starts_at__gt=workshop.ended_at)
        .exclude(pk=workshop.session_id)
        .order_by("starts_at")
        .first()
    )


def plan_reminder_due(workshop: Workshop, now: datetime) -> Session | None:
    """The next session, if `now` is past halfway to it and before it."""
    following = next_session(workshop)
    if following is None:
        return None
    halfway = workshop.ended_at + (following.starts_at - workshop.ended_at) / 2
    return following if halfway <= now < following.starts_at else None


def open_plans():
    return (
        Workshop.objects.filter(
            status=Workshop.ENDED, ended_at__isnull=False, case__isnull=False,
            plan_closed_at__isnull=True, plan_reminder_sent_at__isnull=True,
        )
        .filter(pk__in=PlannedAction.objects.values("workshop_id"))
        .select_related("group", "case__owner")
    )


def send_plan_reminders(now: datetime, *, base_url: str | None = None) -> int:
    """The client of each ended workshop whose plan is still open, once, halfway to the next
    session. His plan is his own: the e-mail goes to him alone."""
    base_url = base_url or site_url()
    sent = 0
    with translation.override(settings.LANGUAGE_CODE):
        for workshop in open_plans():
            following = plan_reminder_due(workshop, now)
            client = workshop.case.owner
            if following is None or not client.email:
                continue
            if not Membership.objects.filter(group_id=workshop.group_id, user=client).exists():
                continue  # he has left the group
            claimed = Workshop.objects.filter(pk=workshop.pk, plan_reminder_sent_at__isnull=True).update(plan_reminder_sent_at=now)
            if claimed:
                sent += _remind_client(workshop, client, following, base_url)
    return sent


def _remind_client(workshop: Workshop, client, following: Session, base_url: str) -> int:
    body = render_to_string("workshops/sessions/plan_reminder_email.txt", {
        "name": client.first_name or display_name(client),
        "workshop": workshop,
        "group": workshop.group,
        "case": workshop.case,
        "actions": list(workshop.actions.all()),
        "next_session": following,
        "room_url": base_url + reverse("workshop", args=[workshop.pk]),
    })
    subject = _("Your action plan, halfway to the next session of %(group)s") % {"group": workshop.group.name}
    return int(_send(EmailMessage(subject, body, to=[client.email])))
