"""Sessions as iCalendar (.ics) files, for members to add to their own calendar.

Each session is one VEVENT whose UID never changes, so downloading again updates the event
instead of adding a copy. Times are written in UTC.
"""
from datetime import UTC, datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from workshops import sessions
from workshops.models import Cycle, Session

PRODID = "-//Codev//Sessions//EN"


def session_uid(session: Session) -> str:
    return f"codev-session-{session.pk}-{int(session.created_at.timestamp())}@codev"


def _summary(session: Session) -> str:
    return _("%(group)s — session %(number)s") % {"group": session.group.name, "number": session.number}


def _event(session: Session, base_url: str, stamp: datetime) -> Event:
    event = Event()
    event.add("uid", session_uid(session))
    event.add("dtstamp", stamp)
    event.add("dtstart", session.starts_at.astimezone(UTC))
    event.add("dtend", sessions.session_ends_at(session).astimezone(UTC))
    event.add("summary", _summary(session))
    if session.place:
        event.add("location", session.place)
    lines = []
    if session.video_url:
        lines.append(_("Video link: %(url)s") % {"url": session.video_url})
        event.add("url", session.video_url)
    page = base_url.rstrip("/") + reverse("session", args=[session.pk])
    lines.append(_("Session page: %(url)s") % {"url": page})
    for workshop in session.workshops.order_by("id"):
        room = base_url.rstrip("/") + reverse("workshop", args=[workshop.pk])
        lines.append(_("Room “%(title)s”: %(url)s") % {"title": workshop.title, "url": room})
    if not session.video_url:
        event.add("url", page)
    event.add("description", "\n".join(lines))
    return event


def _calendar(name: str, session_rows, base_url: str) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    stamp = timezone.now().astimezone(UTC)
    for session in session_rows:
        if session.starts_at is not None:  # a session without a date is not an event yet
            cal.add_component(_event(session, base_url, stamp))
    return cal.to_ical()


def session_ics(session: Session, *, base_url: str) -> bytes:
    return _calendar(_summary(session), [session], base_url)


def cycle_ics(cycle: Cycle, *, base_url: str) -> bytes:
    rows = cycle.sessions.select_related("group").order_by("starts_at", "number")
    return _calendar(f"{cycle.group.name} — {cycle.title}", rows, base_url)
