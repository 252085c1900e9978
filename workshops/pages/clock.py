"""The speaking clock: the facilitator's one screen, in the room, to say who is speaking — a big
button per participant, tap to give the floor, tap again (or "Nobody") to stop. His speaking
figures come with it; the live room fetches them from here too, so they never travel in an event."""
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from workshops import room, speaking_view
from workshops.models import Workshop
from workshops.pages.access import fetch_or_deny
from workshops.people import access_workshop


@login_required
@require_GET
def clock(request, workshop_id: int):
    workshop = fetch_or_deny(access_workshop, request.user, workshop_id)
    workshop.refresh_from_db()  # the sequence number first: what follows is at least this recent
    me = room.viewer(workshop, request.user)
    if not me["is_facilitator"]:
        raise PermissionDenied(_("Only the facilitator runs the speaking clock."))
    live = workshop.status == Workshop.LIVE
    return render(request, "workshops/clock.html", {
        "workshop": workshop,
        "seq": workshop.seq,
        "viewer": me,
        "speaking_figures": speaking_view.live_figures(workshop) if live else None,
    })


urlpatterns = [
    path("workshops/<int:workshop_id>/clock/", clock, name="workshop_clock"),
]
