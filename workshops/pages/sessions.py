"""Pages: cycles and sessions — planning, the session page, attendance, calendars.

Thin: each view fetches through sessions.access_* (membership), checks sessions.may_manage for
changes (403 otherwise) and hands the change to the domain (workshops.sessions, .attendance).
"""
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from privacy import audit
from workshops import attendance, calendar, pdf, sessions, speaking_view
from workshops.errors import ActionError
from workshops.models import Cycle, Session
from workshops.pages.access import fetch_or_deny
from workshops.people import access_group, display_name
from workshops.steps import STEPS, Step

# --- access -------------------------------------------------------------------------------


_access = fetch_or_deny


def _managed_session(request, session_id: int) -> Session:
    """The session, for its facilitator only: members and outsiders get 403."""
    session = _access(sessions.access_session, request.user, session_id)
    if not sessions.may_manage(session, request.user):
        raise PermissionDenied(_("Only the facilitator can do this."))
    return session


# --- forms: they only parse; the domain decides what is valid --------------------------------

DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _minute_field(step: Step) -> forms.IntegerField:
    low, high = sessions.MINUTES_RANGE
    return forms.IntegerField(
        label=STEPS[step].title, required=False, initial=STEPS[step].minutes,
        widget=forms.NumberInput(attrs={"min": low, "max": high}),
    )


class FormatFields(forms.Form):
    format = forms.ChoiceField(label=gettext_lazy("Format"), choices=Session.FORMATS, initial=Session.LONG,
                               widget=forms.RadioSelect)
    minutes_1, minutes_2, minutes_3 = _minute_field(Step(1)), _minute_field(Step(2)), _minute_field(Step(3))
    minutes_4, minutes_5, minutes_6 = _minute_field(Step(4)), _minute_field(Step(5)), _minute_field(Step(6))

    def minute_fields(self):
        return [self[f"minutes_{int(step)}"] for step in Step]

    def minutes(self) -> dict:
        return {str(int(step)): self.cleaned_data.get(f"minutes_{int(step)}") for step in Step}


class CycleForm(FormatFields):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    starts_at = forms.DateTimeField(label=gettext_lazy("First session: date and time"), widget=DATETIME_INPUT)
    rhythm = forms.ChoiceField(label=gettext_lazy("Rhythm"), choices=Cycle.RHYTHMS, initial=Cycle.MONTHLY)
    count = forms.IntegerField(
        label=gettext_lazy("Number of sessions"),
        widget=forms.NumberInput(attrs={"min": 1, "max": sessions.MAX_SESSIONS_PER_CYCLE}),
    )
    place = forms.CharField(label=gettext_lazy("Place"), required=False)
    video_url = forms.CharField(label=gettext_lazy("Video link"), required=False, widget=forms.URLInput)

    field_order = ["title", "starts_at", "rhythm", "count", "place", "video_url", "format"]


class SessionForm(FormatFields):
    starts_at = forms.DateTimeField(label=gettext_lazy("Date and time"), widget=DATETIME_INPUT)
    place = forms.CharField(label=gettext_lazy("Place"), required=False)
    video_url = forms.CharField(label=gettext_lazy("Video link"), required=False, widget=forms.URLInput)

    field_order = ["starts_at", "place", "video_url", "format"]

    def __init__(self, *args, frozen: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if frozen:  # the room has used these time boxes: shown, not posted
            for name in ["format", *(f"minutes_{int(step)}" for step in Step)]:
                self.fields[name].disabled = True


# --- the group page's part ----------------------------------------------------------------


def _session_rows(queryset):
    return list(
        queryset.select_related("facilitator", "cycle")
        .prefetch_related("workshops")
        .annotate(present_count=Count("attendances", filter=Q(attendances__present=True)))
        .order_by("starts_at", "number", "id")
    )


def _describe(session: Session) -> dict:
    return {
        "session": session,
        "facilitator": display_name(session.facilitator),
        "workshops": sorted(session.workshops.all(), key=lambda w: w.pk),
        "planned_minutes": sessions.planned_minutes(session),
    }


def group_context(group, user) -> dict:
    """What the group page shows about cycles and sessions to `user` (a member)."""
    rows = [_describe(s) for s in _session_rows(group.sessions.all())]
    cycles = [
        {"cycle": cycle, "sessions": [row for row in rows if row["session"].cycle_id == cycle.pk]}
        for cycle in group.cycles.order_by("created_at", "id")
    ]
    return {
        "cycles": cycles,
        "loose_sessions": [row for row in rows if row["session"].cycle_id is None],
        "loose_workshops": group.workshops.filter(session__isnull=True).order_by("-scheduled_at", "-id"),
        "may_plan_cycle": sessions.is_group_facilitator(group.pk, user),
    }


# --- planning a cycle -----------------------------------------------------------------------


@login_required
def cycle_create(request, group_id: int):
    group = _access(access_group, request.user, group_id)
    if not sessions.is_group_facilitator(group.pk, request.user):
        raise PermissionDenied(_("Only the facilitator can do this."))
    if request.method == "POST":
        form = CycleForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                cycle = sessions.plan_cycle(
                    group, title=data["title"], first_starts_at=data["starts_at"], rhythm=data["rhythm"],
                    count=data["count"], place=data["place"], video_url=data["video_url"],
                    format=data["format"], minutes=form.minutes(), acting_user=request.user,
                )
            except ActionError as error:
                form.add_error(None, error.message)
            else:
                count = cycle.sessions.count()
                messages.success(request, ngettext("The cycle “%(title)s” is planned: %(count)d session.",
                                                   "The cycle “%(title)s” is planned: %(count)d sessions.", count)
                                 % {"title": cycle.title, "count": count})
                return redirect("group", group_id=group.pk)
    else:
        form = CycleForm(initial={"count": sessions.default_count(group)})
    return render(request, "workshops/sessions/cycle_form.html", {
        "group": group, "form": form, "participants": sessions.participants_count(group),
        "presets": _presets(),
    })


def _presets() -> list[dict]:
    """The two preset formats, step by step, to compare with custom durations."""
    return [
        {"step": info.title, "long": info.minutes, "short": info.short_minutes}
        for info in STEPS.values()
    ] + [{"step": _("Total"), "long": sum(i.minutes for i in STEPS.values()),
          "short": sum(i.short_minutes for i in STEPS.values())}]


# --- one session ----------------------------------------------------------------------------


@login_required
def session_detail(request, session_id: int):
    session = _access(sessions.access_session, request.user, session_id)
    workshops = list(session.workshops.select_related("case", "case__owner").order_by("id"))
    manage = sessions.may_manage(session, request.user)
    minutes = sessions.step_minutes(session)
    return render(request, "workshops/sessions/session.html", {
        "session": session,
        "group": session.group,
        "workshops": workshops,
        "steps": [(STEPS[step].title, minutes[str(int(step))]) for step in Step],
        "planned_minutes": sessions.planned_minutes(session),
        "ends_at": sessions.session_ends_at(session),
        "actual_minutes": sessions.actual_minutes(workshops),
        "facilitator": display_name(session.facilitator),
        "roster": attendance.roster(session),
        "present_count": attendance.present_count(session),
        "may_manage": manage,
        "may_add_second_case": manage and sessions.may_add_second_case(session, workshops),
        "speaking": [{"workshop": w, "steps": steps} for w in workshops if (steps := speaking_view.record(w))],
    })


@login_required
def session_edit(request, session_id: int):
    session = _managed_session(request, session_id)
    frozen = sessions.format_frozen(session)
    if request.method == "POST":
        form = SessionForm(request.POST, frozen=frozen, initial=_session_initial(session))
        if form.is_valid():
            data = form.cleaned_data
            try:
                sessions.edit_session(
                    session.pk, starts_at=data["starts_at"], place=data["place"], video_url=data["video_url"],
                    format=None if frozen else data["format"], minutes=None if frozen else form.minutes(),
                    acting_user=request.user,
                )
            except ActionError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("The session is saved."))
                return redirect("session", session_id=session.pk)
    else:
        form = SessionForm(frozen=frozen, initial=_session_initial(session))
    return render(request, "workshops/sessions/session_form.html",
                  {"session": session, "group": session.group, "form": form, "frozen": frozen})


def _session_initial(session: Session) -> dict:
    minutes = sessions.step_minutes(session)
    return {
        "starts_at": session.starts_at, "place": session.place, "video_url": session.video_url, "format": session.format,
        **{f"minutes_{key}": value for key, value in minutes.items()},
    }


@login_required
@require_POST
def session_attendance(request, session_id: int):
    session = _managed_session(request, session_id)
    marks = {}
    for key, value in request.POST.items():
        if key.startswith("u") and key[1:].isdecimal() and value in ("1", "0"):
            marks[int(key[1:])] = value == "1"
    try:
        attendance.mark_all(session, marks, acting_user=request.user)
    except ActionError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Attendance is saved."))
    return redirect("session", session_id=session.pk)


@login_required
def session_attendance_pdf(request, session_id: int):
    session = _managed_session(request, session_id)
    label = _("attendance")
    filename = f"{session.group.name} {label} {session.number}.pdf"
    audit.record(request.user, "attendance.exported", group=session.group, target=session, format="pdf")
    return pdf.pdf_download("workshops/sessions/attendance_sheet.html", attendance.sheet(session), filename)


@login_required
@require_POST
def session_second_case(request, session_id: int):
    session = _managed_session(request, session_id)
    try:
        workshop = sessions.add_second_case(session.pk, acting_user=request.user)
    except ActionError as error:
        messages.error(request, error.message)
        return redirect("session", session_id=session.pk)
    messages.success(request, _("A second workshop is ready: choose its case in the room."))
    return redirect("workshop", workshop_id=workshop.pk)


# --- calendars ----------------------------------------------------------------------------


def _ics(content: bytes, filename: str):
    return pdf.download(content, filename, "text/calendar; charset=utf-8")


@login_required
def session_ics(request, session_id: int):
    session = _access(sessions.access_session, request.user, session_id)
    if session.starts_at is None:
        messages.error(request, _("This session has no date yet."))
        return redirect("session", session_id=session.pk)
    content = calendar.session_ics(session, base_url=request.build_absolute_uri("/"))
    audit.record(request.user, "calendar.exported", group=session.group, target=session, format="ics")
    return _ics(content, f"{session.group.name} {session.number}.ics")


@login_required
def cycle_ics(request, cycle_id: int):
    cycle = _access(sessions.access_cycle, request.user, cycle_id)
    content = calendar.cycle_ics(cycle, base_url=request.build_absolute_uri("/"))
    audit.record(request.user, "calendar.exported", group=cycle.group, target=cycle, format="ics")
    return _ics(content, f"{cycle.group.name} {cycle.title}.ics")


urlpatterns = [
    path("groups/<int:group_id>/cycles/new/", cycle_create, name="cycle_create"),
    path("sessions/<int:session_id>/", session_detail, name="session"),
    path("sessions/<int:session_id>/edit/", session_edit, name="session_edit"),
    path("sessions/<int:session_id>/attendance/", session_attendance, name="session_attendance"),
    path("sessions/<int:session_id>/attendance.pdf", session_attendance_pdf, name="session_attendance_pdf"),
    path("sessions/<int:session_id>/second-case/", session_second_case, name="session_second_case"),
    path("sessions/<int:session_id>/calendar.ics", session_ics, name="session_ics"),
    path("cycles/<int:cycle_id>/calendar.ics", cycle_ics, name="cycle_ics"),
]
