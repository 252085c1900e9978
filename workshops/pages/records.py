"""Pages: the learning journal, the client's record of his case, the facilitator's evaluations.

Each page reads only what its viewer may read: the journal its owner's rows, the record its
client's workshop, the evaluations the group's facilitator (and never an evaluator's name)."""
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from privacy import audit
from workshops import evaluations, journal, records
from workshops.errors import Invalid, Refused
from workshops.models import Workshop
from workshops.pages.access import fetch_or_deny
from workshops.pdf import markdown_download, pdf_download
from workshops.people import access_group, access_workshop, display_name

_http = fetch_or_deny


# --- the journal ---------------------------------------------------------------------------


def _journal_page(request, *, draft: str = "", error: str = "", status: int = 200):
    parts = list(reversed(journal.entries(request.user)))  # on screen, the latest first
    ctx = {"parts": parts, "draft": draft, "error": error, "max_text": settings.CODEV_MAX_TEXT}
    return render(request, "workshops/records/journal.html", ctx, status=status)


@login_required
def journal_page(request):
    return _journal_page(request)


@login_required
@require_POST
def journal_add(request):
    body = request.POST.get("body", "")
    try:
        journal.add_entry(request.user, body=body)
    except Invalid as error:
        # Shown again with what he typed: a refused entry loses nothing.
        return _journal_page(request, draft=body, error=error.message, status=400)
    messages.success(request, _("Entry added to your journal."))
    return redirect("journal")


@login_required
@require_http_methods(["GET", "POST"])
def journal_edit(request, entry_id: int):
    entry = _http(journal.access_entry, request.user, entry_id)
    draft, error, status = entry.body, "", 200
    if request.method == "POST":
        draft = request.POST.get("body", "")
        try:
            journal.edit_entry(request.user, entry.pk, body=draft)
        except Invalid as refused:
            error, status = refused.message, 400
        else:
            messages.success(request, _("Entry saved."))
            return redirect("journal")
    ctx = {"entry": entry, "draft": draft, "error": error, "max_text": settings.CODEV_MAX_TEXT}
    return render(request, "workshops/records/journal_edit.html", ctx, status=status)


@login_required
@require_POST
def journal_delete(request, entry_id: int):
    _http(journal.delete_entry, request.user, entry_id)
    messages.success(request, _("Entry deleted."))
    return redirect("journal")


def _journal_name(user) -> str:
    label = _("journal")
    return f"{label}-{user.get_username()}"


@login_required
def journal_md(request):
    audit.record(request.user, "journal.exported", format="md")
    return markdown_download(journal.to_markdown(request.user), _journal_name(request.user) + ".md")


@login_required
def journal_pdf(request):
    audit.record(request.user, "journal.exported", format="pdf")
    ctx = {"parts": journal.entries(request.user), "owner": display_name(request.user)}
    return pdf_download("workshops/records/journal_pdf.html", ctx, _journal_name(request.user) + ".pdf")


# --- the client's record -------------------------------------------------------------------


def _record(request, workshop_id: int):
    """The record, or the right refusal: 404/403 for outsiders as for the room, 403 for members."""
    workshop = _http(access_workshop, request.user, workshop_id)
    return _http(records.client_record, workshop, request.user)


def _record_or_back(view):
    @wraps(view)
    def wrapped(request, workshop_id: int):
        try:
            return view(request, _record(request, workshop_id))
        except Refused as error:
            messages.error(request, error.message)
            return redirect("workshop", workshop_id=workshop_id)

    return login_required(wrapped)


@_record_or_back
def workshop_record_md(request, record):
    audit.record(request.user, "record.exported", group=record.workshop.group, target=record.workshop, format="md")
    return markdown_download(records.to_markdown(record), records.filename(record, "md"))


@_record_or_back
def workshop_record_pdf(request, record):
    audit.record(request.user, "record.exported", group=record.workshop.group, target=record.workshop, format="pdf")
    return pdf_download("workshops/records/record_pdf.html", {"record": record}, records.filename(record, "pdf"))


# --- evaluations ---------------------------------------------------------------------------


@login_required
def group_evaluations(request, group_id: int):
    group = _http(access_group, request.user, group_id)
    periods = _http(evaluations.summary, group, request.user)
    return render(request, "workshops/records/evaluations.html", {"group": group, "periods": periods})


urlpatterns = [
    path("journal/", journal_page, name="journal"),
    path("journal/entries/", journal_add, name="journal_add"),
    path("journal/entries/<int:entry_id>/edit", journal_edit, name="journal_edit"),
    path("journal/entries/<int:entry_id>/delete", journal_delete, name="journal_delete"),
    path("journal/export.md", journal_md, name="journal_md"),
    path("journal/export.pdf", journal_pdf, name="journal_pdf"),
    path("workshops/<int:workshop_id>/record.md", workshop_record_md, name="workshop_record_md"),
    path("workshops/<int:workshop_id>/record.pdf", workshop_record_pdf, name="workshop_record_pdf"),
    path("groups/<int:group_id>/evaluations/", group_evaluations, name="group_evaluations"),
]


def group_context(group, user) -> dict:
    """What the group page shows about records to `user`: the facilitator's way to the
    evaluations, the client's records of his own cases."""
    mine = (
        Workshop.objects.filter(group=group, case__owner_id=user.pk)
        .exclude(status=Workshop.PLANNED)
        .order_by("-started_at", "-id")
    )
    return {
        "records_evaluations_url": (
            reverse("group_evaluations", args=[group.pk]) if evaluations.is_facilitator(group, user) else ""
        ),
        "records_mine": list(mine),
    }
