"""Pages: groups and their members. Create a group, invite by e-mail, join with the link, declare
or import reporting lines, hand the facilitator role over. Thin callers of workshops.membership:
they check access, call the domain, and turn its errors into messages or status codes."""
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from codev import throttle
from workshops import membership
from workshops.errors import ActionError, Forbidden, Invalid, NotFound, Refused
from workshops.models import Membership
from workshops.pages.access import fetch_or_deny
from workshops.people import access_group, display_name

T = "workshops/members/"


def _group(user, group_id):
    """The group if the user is a member: 404 / 403 otherwise (outsiders learn nothing more)."""
    return fetch_or_deny(access_group, user, group_id)


def _members_section(group) -> str:
    return reverse("group", args=[group.pk]) + "#members"


def _facilitator_form(request, group_id, act) -> HttpResponse:
    """Run a facilitator's form: 403 for anyone else, a message for a refusal, back to the group."""
    group = _group(request.user, group_id)
    try:
        act(group)
    except Forbidden as error:
        raise PermissionDenied(error.message) from None
    except ActionError as error:
        messages.error(request, error.message)
    return redirect(_members_section(group))


@login_required
@require_http_methods(["GET", "POST"])
def group_create(request):
    name = request.POST.get("name", "")
    if request.method == "POST":
        try:
            group = membership.create_group(name, acting_user=request.user)
        except Invalid as error:
            return render(request, T + "group_create.html", {"name": name, "error": error.message}, status=400)
        messages.success(request, _("The group “%(group)s” is created and you are its facilitator. Invite its members.") % {"group": group.name})
        return redirect(_members_section(group))
    return render(request, T + "group_create.html", {"name": name})


@login_required
@require_POST
def group_invite(request, group_id: int):
    def act(group):
        join_url = lambda token: request.build_absolute_uri(reverse("join", args=[token]))  # noqa: E731
        report = membership.invite_many(group, request.POST.get("emails", ""), acting_user=request.user, join_url=join_url)
        if report.sent:
            messages.success(request, _("Invitation sent to: %(addresses)s.") % {"addresses": ", ".join(report.sent)})
        for error in report.errors:
            messages.error(request, error)
        if report.advice:
            messages.warning(request, report.advice)

    return _facilitator_form(request, group_id, act)


@login_required
@require_POST
def invitation_cancel(request, group_id: int, invitation_id: int):
    def act(group):
        membership.cancel_invitation(group, invitation_id, acting_user=request.user)
        messages.success(request, _("Invitation cancelled: its link no longer works."))

    return _facilitator_form(request, group_id, act)


@login_required
@require_POST
def group_handover(request, group_id: int):
    def act(group):
        handover = membership.hand_over(group, request.POST.get("to"), acting_user=request.user)
        messages.success(
            request,
            _("%(name)s is now the facilitator of this group and has been told so.") % {"name": display_name(handover.to_user)},
        )

    return _facilitator_form(request, group_id, act)


@login_required
@require_POST
def handover_seen(request, group_id: int, handover_id: int):
    group = _group(request.user, group_id)
    try:
        membership.mark_handover_seen(group, handover_id, acting_user=request.user)
    except NotFound as error:
        messages.error(request, error.message)
    return redirect(_members_section(group))


@require_http_methods(["GET", "POST"])
def join(request, token: str):
    """GET only shows the invitation (mail scanners open links); POST joins and signs in.
    Unknown tokens are guesses: they count against the address (codev/throttle.py)."""
    if throttle.locked(request):
        return throttle.refusal(request)
    try:
        invitation = membership.find_invitation(token)
    except NotFound as error:
        throttle.failed(request)
        return _closed(request, error, 404)
    except membership.LinkGone as error:
        return _closed(request, error, 410)
    first_name, last_name = request.POST.get("first_name", ""), request.POST.get("last_name", "")
    error = None
    if request.method == "POST":
        try:
            user, group = membership.accept_invitation(token, first_name=first_name, last_name=last_name)
        except NotFound as refusal:
            return _closed(request, refusal, 404)
        except membership.LinkGone as refusal:
            return _closed(request, refusal, 410)
        except Refused as refusal:
            return _closed(request, refusal, 403)
        except Invalid as invalid:
            error = invalid.message
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome to “%(group)s”!") % {"group": group.name})
            return redirect(_members_section(group))
    ctx = {
        "invitation": invitation,
        "inviter": display_name(invitation.invited_by) if invitation.invited_by else "",
        "account": membership.invited_account(invitation),
        "expires_at": membership.expires_at(invitation),
        "first_name": first_name,
        "last_name": last_name,
        "error": error,
    }
    return render(request, T + "join.html", ctx, status=400 if error else 200)


def _closed(request, error: ActionError, status: int):
    return render(request, T + "join_closed.html", {"message": error.message}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def reporting_lines(request):
    """A member declares who is his manager or his direct report, and removes what he declared."""
    form = {"email": "", "relation": membership.MANAGER, "error": None}
    if request.method == "POST":
        if "remove" in request.POST:
            try:
                membership.remove_reporting_line(request.user, request.POST["remove"])
                messages.success(request, _("Reporting line removed."))
            except NotFound as error:
                messages.error(request, error.message)
            return redirect("reporting_lines")
        form.update(email=request.POST.get("email", ""), relation=request.POST.get("relation", ""))
        try:
            _line, created = membership.declare_reporting_line(request.user, form["email"], form["relation"])
        except Invalid as error:
            form["error"] = error.message
        else:
            messages.success(request, _("Reporting line recorded.") if created else _("This reporting line was already known."))
            return redirect("reporting_lines")
    ctx = {"lines": membership.my_reporting_lines(request.user), "form": form, "manager": membership.MANAGER, "report": membership.REPORT}
    return render(request, T + "reporting_lines.html", ctx, status=400 if form["error"] else 200)


@login_required
@require_http_methods(["GET", "POST"])
def coordination_reporting_lines(request):
    """The coordinator imports the organisation's reporting lines from a CSV file."""
    if not membership.may_coordinate(request.user):
        raise PermissionDenied(_("Only the coordinator can import reporting lines."))
    report, error = None, None
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise Invalid(_("Choose a CSV file to import."))
            data = upload.read(membership.MAX_CSV_BYTES + 1)  # enough to tell a file too large
            report = membership.import_reporting_lines(membership.decode_csv(data), acting_user=request.user)
        except Invalid as invalid:
            error = invalid.message
    ctx = {"report": report, "error": error, "header": ",".join(membership.CSV_HEADER)}
    return render(request, T + "coordination_reporting_lines.html", ctx, status=400 if error else 200)


def group_context(group, user) -> dict:
    """What the group page shows about members to `user`: everyone sees the members; the
    facilitator also sees invitations, size advice, reporting-line conflicts and the handover form."""
    rows = group.memberships.select_related("user").order_by("role", "user__first_name", "user__last_name", "user__username")
    members = [
        {"id": m.user_id, "name": display_name(m.user), "role": m.get_role_display(), "joined_at": m.joined_at,
         "is_facilitator": m.role == Membership.FACILITATOR}
        for m in rows
    ]
    ctx = {
        "members": members,
        "notice": membership.handover_notice(group, user),
        "handovers": list(membership.handover_history(group)),
        "is_facilitator": membership.is_facilitator(group, user),
    }
    if ctx["is_facilitator"]:
        participants = membership.participant_count(group)
        ctx.update(
            participants=participants,
            advice=membership.size_advice(participants),
            conflicts=membership.hierarchy_conflicts(group),
            invitations=[
                {"id": i.pk, "email": i.email, "sent_at": i.created_at, "expires_at": membership.expires_at(i)}
                for i in membership.pending_invitations(group)
            ],
            candidates=[m for m in members if not m["is_facilitator"]],
        )
    return {"membership": ctx}


urlpatterns = [
    path("groups/new/", group_create, name="group_create"),
    path("groups/<int:group_id>/invite/", group_invite, name="group_invite"),
    path("groups/<int:group_id>/invitations/<int:invitation_id>/cancel/", invitation_cancel, name="invitation_cancel"),
    path("groups/<int:group_id>/handover/", group_handover, name="group_handover"),
    path("groups/<int:group_id>/handovers/<int:handover_id>/seen/", handover_seen, name="handover_seen"),
    path("join/<str:token>/", join, name="join"),
    path("me/reporting-lines/", reporting_lines, name="reporting_lines"),
    path("coordination/reporting-lines/", coordination_reporting_lines, name="coordination_reporting_lines"),
]
