"""Sessions as .ics files: one event per session, stable identifiers, members only."""
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from icalendar import Calendar

from workshops import sessions
from workshops.models import Cycle, Session

PARIS = ZoneInfo("Europe/Paris")
FIRST = datetime(2031, 1, 14, 18, 0, tzinfo=PARIS)


@pytest.fixture
def cycle(cast):
    return sessions.plan_cycle(
        cast.group, title="Cycle 2031", first_starts_at=FIRST, rhythm=Cycle.MONTHLY, place="Salle Rhône, 2e étage",
        video_url="https://visio.example.org/groupe", format=Session.SHORT, acting_user=cast.claire,
    )


def events_of(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    return Calendar.from_ical(response.content).walk("VEVENT")


def test_the_cycle_calendar_has_one_event_per_session(client, cast, cycle):
    client.force_login(cast.sophie)
    events = events_of(client.get(reverse("cycle_ics", args=[cycle.pk])))
    rows = list(cycle.sessions.order_by("starts_at"))
    assert len(events) == len(rows) == 3
    for event, session in zip(events, rows, strict=True):
        start, end = event["DTSTART"].dt, event["DTEND"].dt
        assert start == session.starts_at and start.utcoffset() == timedelta(0), "written in UTC"
        assert end - start == timedelta(minutes=sessions.planned_minutes(session))
        assert str(event["LOCATION"]) == "Salle Rhône, 2e étage"
        assert "Groupe Test" in str(event["SUMMARY"]) and str(session.number) in str(event["SUMMARY"])
        description = str(event["DESCRIPTION"])
        assert "https://visio.example.org/groupe" in description
        room = reverse("workshop", args=[session.workshops.get().pk])
        assert "http://testserver" + room in description


def test_a_session_keeps_its_uid_between_downloads(client, cast, cycle):
    session = cycle.sessions.order_by("number").first()
    client.force_login(cast.marc)
    url = reverse("session_ics", args=[session.pk])
    first, second = events_of(client.get(url)), events_of(client.get(url))
    assert len(first) == 1 and first[0]["UID"] == second[0]["UID"]
    cycle_events = events_of(client.get(reverse("cycle_ics", args=[cycle.pk])))
    assert first[0]["UID"] in {e["UID"] for e in cycle_events}, "the same event in both files"
    assert len({e["UID"] for e in cycle_events}) == 3


def test_a_moved_session_keeps_its_uid_with_the_new_time(client, cast, cycle):
    session = cycle.sessions.order_by("number").first()
    client.force_login(cast.claire)
    url = reverse("session_ics", args=[session.pk])
    before = events_of(client.get(url))[0]
    sessions.edit_session(session.pk, starts_at=FIRST + timedelta(hours=1), place="Salle B", acting_user=cast.claire)
    after = events_of(client.get(url))[0]
    assert after["UID"] == before["UID"]
    assert after["DTSTART"].dt == datetime(2031, 1, 14, 18, 0, tzinfo=UTC)


def test_outsiders_get_no_calendar(client, cast, cycle):
    session = cycle.sessions.first()
    client.force_login(cast.olivier)
    for url in (reverse("session_ics", args=[session.pk]), reverse("cycle_ics", args=[cycle.pk])):
        response = client.get(url)
        assert response.status_code == 403 and b"Salle" not in response.content
    client.logout()
    assert client.get(reverse("cycle_ics", args=[cycle.pk])).status_code == 302
    client.force_login(cast.sophie)
    assert client.get(reverse("cycle_ics", args=[99999])).status_code == 404


def test_a_session_without_a_date_is_not_an_event(client, cast):
    session = cast.workshop.session
    client.force_login(cast.sophie)
    response = client.get(reverse("session_ics", args=[session.pk]))
    assert response.status_code == 302 and response.url == reverse("session", args=[session.pk])
