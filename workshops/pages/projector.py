"""The projector view: the room's shared screen in an in-person or hybrid session. Any member may
open it (it shows what the whole group sees); it has no form, and re-reads itself live."""
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from workshops import inperson
from workshops.pages.access import fetch_or_deny
from workshops.people import access_workshop


@login_required
@require_GET
def projector(request, workshop_id: int):
    workshop = fetch_or_deny(access_workshop, request.user, workshop_id)
    workshop.refresh_from_db(fields=["seq"])  # read first: what follows is at least this recent
    ctx = {**inperson.projector(workshop), "seq": workshop.seq}
    template = "workshops/projector/_view.html" if request.GET.get("fragment") else "workshops/projector/page.html"
    return render(request, template, ctx)


urlpatterns = [
    path("workshops/<int:workshop_id>/projector/", projector, name="workshop_projector"),
]
