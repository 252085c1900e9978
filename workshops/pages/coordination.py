"""Pages of the coordinator: the groups' process figures, creating a group with its facilitator,
naming another facilitator. Thin callers of workshops.coordination and workshops.membership;
anyone without the permission workshops.coordinate gets 403."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from privacy import audit
from workshops import coordination, membership
from workshops.errors import Invalid, Refused
from workshops.pages.access import fetch_or_deny
from workshops.people import display_name

T = "workshops/coordination/"


def _coordinator(request) -> None:
    if not membership.may_coordinate(request.user):
        raise PermissionDenied(_("Only the coordinator can do this."))


def _join_url(request):
    return lambda token: request.build_absolute_uri(reverse("join", args=[token]))


@login_required
@require_GET
def dashboard(request):
    _coordinator(request)
    ctx = {
        "rows": coordination.dashboard(request.user),
        "min_answers": coordination.MIN_ANSWERS,
    }
    return render(request, T + "dashboard.html", ctx)


@login_required
@require_http_methods(["GET", "POST"])
def group_create(request):
    _coordinator(request)
    form = {"name": request.POST.get("name", ""), "email": request.POST.get("email", ""), "error": None}
    if request.method == "POST":
        try:
            group = membership.create_group_for(
                form["name"], form["email"], acting_user=request.user, join_url=_join_url(request)
            )
        except (Invalid, Refused) as error:
            form["error"] = error.message
        else:
            audit.record(request.user, "group.created", group=group)
            messages.success(
                request,
                _("The group “%(group)s” is created; its facilitator has received a link by e-mail.") % {"group": group.name},
            )
            return redirect("coordination")
    return render(request, T + "group_create.html", {"form": form}, status=400 if form["error"] else 200)


@login_required
@require_http_methods(["GET", "POST"])
def facilitator(request, group_id: int):
    _coordinator(request)
    group = fetch_or_deny(coordination.access_group, request.user, group_id)
    form = {"email": request.POST.get("email", ""), "error": None}
    if request.method == "POST":
        try:
            handover = membership.assign_facilitator(
                group, form["email"], acting_user=request.user, join_url=_join_url(request)
            )
        except (Invalid, Refused) as error:
            form["error"] = error.message
        else:
            audit.record(request.user, "facilitator.assigned", group=group, target=handover)
            messages.success(
                request,
                _("%(name)s is now the facilitator of “%(group)s” and has been told so.")
                % {"name": display_name(handover.to_user), "group": group.name},
            )
            return redirect("coordination")
    current = membership.facilitator_of(group)
    ctx = {"group": group, "current": display_name(current) if current else "", "form": form}
    return render(request, T + "facilitator.html", ctx, status=400 if form["error"] else 200)


urlpatterns = [
    path("coordination/", dashboard, name="coordination"),
    path("coordination/groups/new/", group_create, name="coordination_group_create"),
    path("coordination/groups/<int:group_id>/facilitator/", facilitator, name="coordination_facilitator"),
]
