"""Pages: a member's data (export, account deletion, kept case records), a group's retention and
its audit log. Thin callers of privacy.account, .retention and .audit."""
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from privacy import account, audit, retention
from workshops.errors import ActionError
from workshops.membership import is_facilitator
from workshops.pages.access import fetch_or_deny
from workshops.pdf import download, markdown_download
from workshops.people import access_group

T = "privacy/"


_http = fetch_or_deny  # 403 for a non-member or a member without the role, 404 for unknown


# --- a member's data ----------------------------------------------------------------------


def _my_data_page(request, *, error: str = "", status: int = 200):
    ctx = {
        "blocking_groups": account.blocking_groups(request.user),
        "kept_records": len(account.kept_records(request.user)),
        "my_entries": [(entry, audit.label(entry.action)) for entry in audit.my_entries(request.user)],
        "error": error,
    }
    return render(request, T + "my_data.html", ctx, status=status)


@login_required
def my_data(request):
    return _my_data_page(request)


@login_required
def my_data_export(request):
    content = account.export_json(request.user)
    return download(content, f"codev-{request.user.get_username()}.json", "application/json; charset=utf-8")


@login_required
@require_POST
def account_delete(request):
    try:
        account.delete_account(request.user, confirmation=request.POST.get("confirmation", ""))
    except ActionError as error:
        return _my_data_page(request, error=error.message, status=400)
    logout(request)
    messages.success(request, _("Your account is deleted. What you wrote in other members' cases stays there, signed “Former member”."))
    return redirect("login")


# --- the case records retention kept ------------------------------------------------------


@login_required
def client_records(request):
    return render(request, T + "client_records.html", {"records": account.kept_records(request.user)})


@login_required
def client_record_md(request, record_id: int):
    record = _http(account.download_record, request.user, record_id)
    return markdown_download(record.body, f"{record.title}.md")


@login_required
@require_POST
def client_record_delete(request, record_id: int):
    _http(account.delete_record, request.user, record_id)
    messages.success(request, _("The record is deleted."))
    return redirect("client_records")


# --- a group's retention and audit log: its facilitator's -----------------------------------


def _facilitated_group(request, group_id: int):
    group = _http(access_group, request.user, group_id)
    if not is_facilitator(group, request.user):
        raise PermissionDenied(_("Only the group's facilitator can do this."))
    return group


@login_required
@require_http_methods(["GET", "POST"])
def group_retention(request, group_id: int):
    group = _facilitated_group(request, group_id)
    info = retention.describe(group)
    value, error, status = info["months"], "", 200
    if request.method == "POST":
        value = request.POST.get("months", "")
        try:
            retention.set_months(group, value, acting_user=request.user)
        except ActionError as refused:
            error, status = refused.message, 400
        else:
            messages.success(request, _("Saved: the content of this group's ended workshops will be purged after %(months)s months.")
                             % {"months": retention.months_for(group)})
            return redirect(reverse("group", args=[group.pk]) + "#privacy")
    ctx = {"group": group, "info": info, "value": value, "error": error}
    return render(request, T + "retention.html", ctx, status=status)


@login_required
def group_audit(request, group_id: int):
    group = _http(access_group, request.user, group_id)
    lines = _http(audit.group_log, group, request.user)
    return render(request, T + "audit.html", {"group": group, "lines": lines})


def group_context(group, user) -> dict:
    """What the group page says about privacy: how long content is kept, and the facilitator's links."""
    facilitator = is_facilitator(group, user)
    return {
        "privacy": {
            "retention": retention.describe(group),
            "retention_url": reverse("group_retention", args=[group.pk]) if facilitator else "",
            "audit_url": reverse("group_audit", args=[group.pk]) if facilitator else "",
        }
    }
