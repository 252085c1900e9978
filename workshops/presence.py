"""Who is in the room: one row per open socket, refreshed by the browser's pings.

Rows of a crashed worker are not deleted, so presence counts only rows seen recently.
"""
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _

from workshops import attendance
from workshops.errors import NotFound
from workshops.models import Presence, Workshop
from workshops.people import display_name

FRESH = timedelta(seconds=75)  # browsers ping every 25 s


def join(workshop_id: int, user_id: int, channel_name: str) -> None:
    # One INSERT: a channel name is new for each socket (a reconnect gets another).
    Presence.objects.create(channel_name=channel_name, workshop_id=workshop_id, user_id=user_id, seen_at=timezone.now())
    attendance.mark_present_from_room(workshop_id, user_id)  # in a live room: present at its session


def heartbeat(sockets: list[tuple[int, str]]) -> list:
    """Pings of open sockets, (workshop id, channel name) each: all are seen now, and each gets
    its workshop's last sequence number (the browser asks for what it missed, if any). Two
    queries whatever their number; a workshop gone meanwhile answers its sockets NotFound."""
    Presence.objects.filter(channel_name__in={channel for _workshop, channel in sockets}).update(seen_at=timezone.now())
    heads = dict(Workshop.objects.filter(pk__in={workshop for workshop, _channel in sockets}).values_list("pk", "seq"))
    return [heads[workshop] if workshop in heads else NotFound(_("This workshop does not exist.")) for workshop, _channel in sockets]


def leave(channel_name: str) -> None:
    Presence.objects.filter(channel_name=channel_name).delete()


def _fresh(workshop_id: int):
    """The room's sockets seen recently: a crashed worker's rows fade out of it."""
    return Presence.objects.filter(workshop_id=workshop_id, seen_at__gte=timezone.now() - FRESH)


def present_ids(workshop_id: int) -> set[int]:
    return set(_fresh(workshop_id).values_list("user_id", flat=True))


def people(workshop_id: int) -> list[dict]:
    users = (
        get_user_model().objects.filter(pk__in=_fresh(workshop_id).values("user_id"))
        .order_by("first_name", "username").only("pk", "username", "first_name", "last_name")
    )
    return [{"id": u.pk, "name": display_name(u)} for u in users]
