"""Pages of groups and workshops. Each view fetches through people.access_* (membership check)
and hands changes to dispatch.perform, like the websocket does."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from privacy import views as privacy_pages
from workshops import dispatch, room
from workshops.errors import ActionError
from workshops.models import Group, Workshop
from workshops.pages import members as member_pages
from workshops.pages import pool as pool_pages
from workshops.pages import records as record_pages
from workshops.pages import sessions as session_pages
from workshops.pages.access import fetch_or_deny
from workshops.people import access_group, access_workshop

LIST_FIELDS = {"help_kinds", "kept", "votes"}


_access = fetch_or_deny


@login_required
def home(request):
    groups = Group.objects.filter(memberships__user=request.user).order_by("name")
    workshops = (
        Workshop.objects.filter(group__memberships__user=request.user)
        .select_related("group", "facilitator")
        .order_by("-scheduled_at", "-id")
    )
    return render(request, "workshops/home.html", {"groups": groups, "workshops": workshops})


@login_required
def group_detail(request, group_id: int):
    """The group's home between sessions; each area (members, sessions, records) adds its part."""
    group = _access(access_group, request.user, group_id)
    ctx = {"group": group}
    for area in (member_pages, pool_pages, session_pages, record_pages, privacy_pages):
        ctx.update(area.group_context(group, request.user))
    ctx["case_draft"] = request.session.pop("case_draft", None)
    return render(request, "workshops/group.html", ctx)


@login_required
def workshop_room(request, workshop_id: int):
    workshop = _access(access_workshop, request.user, workshop_id)
    return render(request, "workshops/room.html", room.context(workshop, request.user))


@login_required
@require_POST
def workshop_act(request, workshop_id: int):
    """The same commands as the websocket, for browsers without JavaScript."""
    _access(access_workshop, request.user, workshop_id)
    message = {key: (request.POST.getlist(key) if key in LIST_FIELDS else value) for key, value in request.POST.items()}
    try:
        dispatch.perform(workshop_id, request.user, message)
    except ActionError as error:
        messages.error(request, error.message)
    return redirect("workshop", workshop_id=workshop_id)
