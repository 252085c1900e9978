"""Attendance: the facilitator marks it, the live room marks whoever joins, the sheet is a PDF."""
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from workshops import attendance, sessions
from workshops.errors import Invalid, Refused
from workshops.models import Attendance, Cycle, Membership, Session
from workshops.steps import Step

PARIS = ZoneInfo("Europe/Paris")


def marks(session):
    return {a.user.username: (a.present, a.source) for a in Attendance.objects.filter(session=session).select_related("user")}


# --- the facilitator marks ------------------------------------------------------------------


def test_the_facilitator_marks_who_came(cast):
    session = cast.workshop.session
    attendance.mark(session, cast.sophie, True, acting_user=cast.claire)
    attendance.mark(session, cast.julien, False, acting_user=cast.claire)
    assert marks(session) == {"sophie": (True, "facilitator"), "julien": (False, "facilitator")}
    assert attendance.present_count(session) == 1


def test_only_the_facilitator_marks_and_only_members(cast):
    session = cast.workshop.session
    with pytest.raises(Refused):
        attendance.mark(session, cast.julien, False, acting_user=cast.sophie)
    with pytest.raises(Invalid):
        attendance.mark(session, cast.olivier, True, acting_user=cast.claire)
    assert not Attendance.objects.exists()


# --- the live room marks ------------------------------------------------------------------------


def test_joining_the_live_room_marks_present_once(cast, django_assert_max_num_queries):
    cast.at_step(Step.EXPOSE)
    assert attendance.mark_present_from_room(cast.workshop.pk, cast.sophie.pk) is True
    with django_assert_max_num_queries(2):
        assert attendance.mark_present_from_room(cast.workshop.pk, cast.sophie.pk) is False, "cheap and idempotent"
    assert marks(cast.workshop.session) == {"sophie": (True, "room")}


def test_a_planned_or_ended_room_marks_nobody(cast):
    assert attendance.mark_present_from_room(cast.workshop.pk, cast.sophie.pk) is False
    from workshops import actions

    cast.at_step(Step.EXPOSE)
    actions.end(cast.workshop.pk, reason="Annulé", acting_user=cast.claire)
    assert attendance.mark_present_from_room(cast.workshop.pk, cast.sophie.pk) is False
    assert not Attendance.objects.exists()


def test_an_outsider_is_never_marked(cast):
    cast.at_step(Step.EXPOSE)
    assert attendance.mark_present_from_room(cast.workshop.pk, cast.olivier.pk) is False
    assert not Attendance.objects.exists()


def test_the_latest_marking_wins(cast):
    session = cast.workshop.session
    cast.at_step(Step.EXPOSE)
    attendance.mark_present_from_room(cast.workshop.pk, cast.julien.pk)
    attendance.mark(session, cast.julien, False, acting_user=cast.claire)
    assert marks(session)["julien"] == (False, "facilitator"), "the facilitator marks after the room: he wins"
    assert attendance.mark_present_from_room(cast.workshop.pk, cast.julien.pk) is True
    assert marks(session)["julien"] == (True, "room"), "he joined again after: he was there"


def test_the_attendance_form(client, cast):
    session = cast.workshop.session
    cast.at_step(Step.EXPOSE)
    attendance.mark_present_from_room(cast.workshop.pk, cast.sophie.pk)
    url = reverse("session_attendance", args=[session.pk])
    client.force_login(cast.claire)
    data = {f"u{cast.sophie.pk}": "1", f"u{cast.julien.pk}": "0", f"u{cast.marc.pk}": "1", f"u{cast.claire.pk}": "1"}
    assert client.post(url, data).status_code == 302
    assert marks(session) == {
        "sophie": (True, "room"),  # unchanged: keeps where it came from
        "julien": (False, "facilitator"),
        "marc": (True, "facilitator"),
        "claire": (True, "facilitator"),
    }
    page = client.get(reverse("session", args=[session.pk])).content.decode()
    assert "3 present" in page or "3 présent" in page


def test_the_attendance_form_refuses_outsiders_ids_and_non_facilitators(client, cast):
    session = cast.workshop.session
    url = reverse("session_attendance", args=[session.pk])
    client.force_login(cast.claire)
    response = client.post(url, {f"u{cast.olivier.pk}": "1", f"u{cast.sophie.pk}": "1"}, follow=True)
    assert response.status_code == 200 and not Attendance.objects.exists()
    for user in (cast.sophie, cast.olivier):
        client.force_login(user)
        assert client.post(url, {f"u{cast.sophie.pk}": "1"}).status_code == 403
    assert not Attendance.objects.exists()


def test_the_roster_leaves_out_who_joined_after_the_session(cast):
    session = sessions.plan_cycle(
        cast.group, title="C", first_starts_at=timezone.now() + timedelta(days=1), rhythm=Cycle.WEEKLY, count=1,
        acting_user=cast.claire,
    ).sessions.get()
    Session.objects.filter(pk=session.pk).update(starts_at=timezone.now() - timedelta(days=30))
    Membership.objects.filter(group=cast.group).update(joined_at=timezone.now() - timedelta(days=60))
    Membership.objects.filter(user=cast.julien).update(joined_at=timezone.now() - timedelta(days=1))
    session.refresh_from_db()
    names = [row["name"] for row in attendance.roster(session)]
    assert names[0] == "Claire Morel", "the facilitator comes first"
    assert "Julien Petit" not in names and {"Marc Lefèvre", "Sophie Bernard"} <= set(names)


# --- the sheet ---------------------------------------------------------------------------------


def pdf_text(response) -> str:
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


def test_the_attendance_sheet_pdf(client, cast):
    session = sessions.plan_cycle(
        cast.group, title="Cycle 2031", first_starts_at=datetime(2031, 1, 14, 18, 0, tzinfo=PARIS),
        rhythm=Cycle.MONTHLY, count=1, place="Salle Rhône", acting_user=cast.claire,
    ).sessions.get()
    attendance.mark(session, cast.sophie, True, acting_user=cast.claire)
    attendance.mark(session, cast.julien, False, acting_user=cast.claire)
    client.force_login(cast.claire)
    text = pdf_text(client.get(reverse("session_attendance_pdf", args=[session.pk]), HTTP_ACCEPT_LANGUAGE="en"))
    assert "Attendance sheet" in text and "Groupe Test" in text
    assert "Jan. 14, 2031" in text and "6 p.m." in text
    for name in ("Claire Morel", "Marc Lefèvre", "Sophie Bernard", "Julien Petit"):
        assert name in text
    assert "Signature" in text and "facilitator" in text and "absent" in text
    assert "Olivier" not in text


def test_the_sheet_in_french(client, cast):
    session = cast.workshop.session
    client.force_login(cast.claire)
    text = pdf_text(client.get(reverse("session_attendance_pdf", args=[session.pk]), HTTP_ACCEPT_LANGUAGE="fr"))
    assert "Groupe Test" in text and "Marc Lefèvre" in text


def test_only_the_facilitator_downloads_the_sheet(client, cast):
    url = reverse("session_attendance_pdf", args=[cast.workshop.session.pk])
    for user in (cast.sophie, cast.olivier):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 403 and not response.content.startswith(b"%PDF")
