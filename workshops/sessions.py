"""Sessions: when and where the group meets, in which format, and the workshop(s) each one holds.

A session treats one case, sometimes two one after the other: each case is its own Workshop with
its own six steps. Plain domain code; pages call it.
"""
from django.db import transaction
from django.utils.translation import gettext as _

from workshops.errors import Refused
from workshops.models import Session, Workshop

MAX_CASES_PER_SESSION = 2


def workshop_title(session: Session, index: int = 1) -> str:
    title = _("Session %(number)s") % {"number": session.number}
    return title if index == 1 else _("%(title)s — case %(index)s") % {"title": title, "index": index}


def _new_workshop(session: Session, index: int) -> Workshop:
    return Workshop.objects.create(
        group=session.group,
        session=session,
        title=workshop_title(session, index),
        scheduled_at=session.starts_at,
        short_format=session.format == Session.SHORT,
        minutes=session.minutes if session.format == Session.CUSTOM else {},
        facilitator=session.facilitator,
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


@transaction.atomic
def add_second_case(session_id: int) -> Workshop:
    """The second case of the session, once the first workshop has ended."""
    session = Session.objects.select_for_update().get(pk=session_id)
    workshops = list(session.workshops.order_by("id"))
    if len(workshops) >= MAX_CASES_PER_SESSION:
        raise Refused(_("A session treats at most two cases."))
    if any(w.status != Workshop.ENDED for w in workshops):
        raise Refused(_("The second case starts once the first workshop has ended."))
    return _new_workshop(session, len(workshops) + 1)
