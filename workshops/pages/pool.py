"""Pages: the group's case pool. Members bring cases between sessions and may withdraw them."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from workshops import pool, serialize
from workshops.errors import ActionError
from workshops.models import Case, Membership
from workshops.pages.access import fetch_or_deny
from workshops.people import access_group


@login_required
@require_POST
def submit(request, group_id: int):
    fetch_or_deny(access_group, request.user, group_id)
    try:
        case = pool.submit_case(
            group_id,
            title=request.POST.get("title", ""),
            summary=request.POST.get("summary", ""),
            stakes=request.POST.get("stakes", ""),
            urgency=request.POST.get("urgency", ""),
            acting_user=request.user,
        )
    except ActionError as error:
        messages.error(request, error.message)
        # Keep what was typed: the form is refilled from the session once.
        request.session["case_draft"] = {k: request.POST.get(k, "")[:2000] for k in ("title", "summary", "stakes", "urgency")}
        return redirect("group", group_id=group_id)
    messages.success(request, _("Your case “%(title)s” is in the group's pool.") % {"title": case.title})
    return redirect("group", group_id=group_id)


@login_required
@require_POST
def withdraw(request, case_id: int):
    try:
        case = pool.withdraw_case(case_id, acting_user=request.user)
    except ActionError as error:
        messages.error(request, error.message)
        return redirect("home")
    messages.success(request, _("Your case has left the pool."))
    return redirect("group", group_id=case.group_id)


urlpatterns = [
    path("groups/<int:group_id>/cases/", submit, name="case_submit"),
    path("cases/<int:case_id>/withdraw/", withdraw, name="case_withdraw"),
]


def group_context(group, user) -> dict:
    is_facilitator = Membership.objects.filter(group=group, user=user, role=Membership.FACILITATOR).exists()
    return {
        "pool": [dict(serialize.case(c), mine=c.owner_id == user.pk) for c in pool.in_pool(group.pk)],
        "may_submit_case": not is_facilitator,
        "urgencies": Case.URGENCIES,
    }
