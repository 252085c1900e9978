"""Cycles and sessions: planning, dates, formats, who may change them, the second case."""
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from workshops import actions, sessions
from workshops.errors import Invalid, Refused
from workshops.models import Cycle, Session, Workshop
from workshops.steps import STEPS, Step

PARIS = ZoneInfo("Europe/Paris")
FIRST = datetime(2031, 1, 14, 18, 0, tzinfo=PARIS)  # the 2nd Tuesday of January 2031


def plan(cast, **overrides):
    fields = {"title": "Cycle 2031", "first_starts_at": FIRST, "rhythm": Cycle.MONTHLY, "place": "Salle Rhône",
              "video_url": "https://visio.example.org/groupe", "format": Session.LONG, "minutes": None,
              "acting_user": cast.claire}
    return sessions.plan_cycle(cast.group, **{**fields, **overrides})


def local_days(cycle):
    return [s.starts_at.astimezone(PARIS).date() for s in cycle.sessions.order_by("number")]


def custom_minutes(**changes):
    minutes = {str(int(step)): info.minutes for step, info in STEPS.items()}
    return {**minutes, **changes}


# --- planning ----------------------------------------------------------------------------


def test_a_cycle_has_one_session_per_participant_by_default(cast):
    cycle = plan(cast)
    rows = list(cycle.sessions.order_by("number"))
    assert len(rows) == 3, "marc, sophie and julien: the facilitator is not counted"
    assert [s.number for s in rows] == [2, 3, 4], "numbering continues after the group's session 1"
    for session in rows:
        workshop = session.workshops.get()
        assert workshop.status == Workshop.PLANNED and workshop.facilitator == cast.claire
        assert workshop.scheduled_at == session.starts_at
        assert session.place == "Salle Rhône" and session.video_url == "https://visio.example.org/groupe"


def test_numbering_continues_across_cycles(cast):
    plan(cast, count=2)
    second = plan(cast, title="Cycle 2", first_starts_at=FIRST + timedelta(days=365), count=2)
    assert [s.number for s in second.sessions.order_by("number")] == [4, 5]


def test_weekly_and_fortnightly_rhythms(cast):
    weekly = plan(cast, rhythm=Cycle.WEEKLY, count=3)
    assert local_days(weekly) == [date(2031, 1, 14), date(2031, 1, 21), date(2031, 1, 28)]
    fortnightly = plan(cast, rhythm=Cycle.FORTNIGHTLY, count=3)
    assert local_days(fortnightly) == [date(2031, 1, 14), date(2031, 1, 28), date(2031, 2, 11)]


def test_monthly_keeps_the_same_weekday_of_the_same_week(cast):
    cycle = plan(cast, count=4)
    assert local_days(cycle) == [date(2031, 1, 14), date(2031, 2, 11), date(2031, 3, 11), date(2031, 4, 8)]


def test_a_fifth_weekday_falls_back_to_the_last_one(cast):
    fifth_friday = datetime(2031, 1, 31, 9, 30, tzinfo=PARIS)
    cycle = plan(cast, first_starts_at=fifth_friday, count=5)
    assert local_days(cycle) == [date(2031, 1, 31), date(2031, 2, 28), date(2031, 3, 28), date(2031, 4, 25), date(2031, 5, 30)]


def test_the_local_time_stays_across_a_daylight_saving_change(cast):
    cycle = plan(cast, first_starts_at=datetime(2031, 3, 18, 18, 0, tzinfo=PARIS), rhythm=Cycle.WEEKLY, count=3)
    times = [s.starts_at.astimezone(PARIS).time() for s in cycle.sessions.all()]
    assert times == [time(18, 0)] * 3
    offsets = {s.starts_at.astimezone(PARIS).utcoffset() for s in cycle.sessions.all()}
    assert len(offsets) == 2, "the cycle crosses the change to summer time"


@given(
    first=st.datetimes(min_value=datetime(2030, 1, 1), max_value=datetime(2040, 12, 31)),
    rhythm=st.sampled_from([Cycle.WEEKLY, Cycle.FORTNIGHTLY, Cycle.MONTHLY]),
    count=st.integers(1, sessions.MAX_SESSIONS_PER_CYCLE),
)
def test_cycle_dates_increase_on_the_right_weekday(first, rhythm, count):
    first = first.replace(tzinfo=PARIS)
    dates = sessions.cycle_dates(first, rhythm, count)
    assert len(dates) == count
    assert all(a < b for a, b in zip(dates, dates[1:], strict=False))
    local = [d.astimezone(PARIS) for d in dates]
    assert all(d.weekday() == first.weekday() for d in local)
    assert all((d.hour, d.minute) == (first.hour, first.minute) for d in local if d.fold == 0)
    if rhythm == Cycle.MONTHLY:
        week = (first.day - 1) // 7
        months = [d.year * 12 + d.month for d in local]
        assert months == list(range(months[0], months[0] + count)), "one session a month, none skipped"
        for d in local:
            later_same_weekday = d.day + 7 <= _days_in_month(d)
            assert (d.day - 1) // 7 == week or (week == 4 and not later_same_weekday)
    else:
        gap = 7 if rhythm == Cycle.WEEKLY else 14
        assert all((b.date() - a.date()).days == gap for a, b in zip(local, local[1:], strict=False))


def _days_in_month(d: date) -> int:
    following = date(d.year + d.month // 12, d.month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"title": "  "}, "title"),
        ({"count": 0}, "24"),
        ({"count": 25}, "24"),
        ({"rhythm": "daily"}, "rhythm"),
        ({"video_url": "javascript:alert(1)"}, "https://"),
        ({"first_starts_at": datetime(2020, 1, 1, 18, 0, tzinfo=PARIS)}, "future"),
        ({"first_starts_at": "next tuesday"}, "date"),
        ({"format": "marathon"}, "format"),
        ({"format": Session.CUSTOM, "minutes": custom_minutes(**{"1": 0})}, "Exposé"),
        ({"format": Session.CUSTOM, "minutes": custom_minutes(**{"4": 121})}, "120"),
        ({"format": Session.CUSTOM, "minutes": {"1": 10}}, "Clarification"),
        ({"format": Session.CUSTOM, "minutes": None}, "six steps"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_created(cast, overrides, message):
    before = (Cycle.objects.count(), Session.objects.count(), Workshop.objects.count())
    with translation.override("en"), pytest.raises(Invalid) as error:
        plan(cast, **overrides)
    assert message in error.value.message
    assert (Cycle.objects.count(), Session.objects.count(), Workshop.objects.count()) == before


def test_only_the_facilitator_plans_a_cycle(cast):
    for user in (cast.sophie, cast.olivier):
        with pytest.raises(Refused):
            plan(cast, acting_user=user)
    assert not Cycle.objects.exists()


def test_each_session_shows_its_planned_duration(cast):
    long_, short = plan(cast, count=1), plan(cast, count=1, format=Session.SHORT)
    assert sessions.planned_minutes(long_.sessions.get()) == sum(i.minutes for i in STEPS.values())
    assert sessions.planned_minutes(short.sessions.get()) == sum(i.short_minutes for i in STEPS.values())
    custom = plan(cast, count=1, format=Session.CUSTOM, minutes={str(n): 10 for n in range(1, 7)})
    assert sessions.planned_minutes(custom.sessions.get()) == 60


# --- the room uses the session's format ------------------------------------------------------


def start_first_workshop(cast, session):
    workshop = session.workshops.order_by("id").first()
    actions.designate_case(workshop.pk, cast.case.pk, acting_user=cast.claire)
    return actions.start(workshop.pk, acting_user=cast.claire)


def test_custom_minutes_reach_the_rooms_timer(cast):
    cycle = plan(cast, count=1, format=Session.CUSTOM, minutes=custom_minutes(**{"1": 7, "2": 33}))
    workshop = start_first_workshop(cast, cycle.sessions.get())
    assert workshop.timer_duration == 7 * 60
    actions.advance(workshop.pk, from_step=Step.EXPOSE, acting_user=cast.claire)
    assert Workshop.objects.get(pk=workshop.pk).timer_duration == 33 * 60


def test_the_short_format_reaches_the_rooms_timer(cast):
    cycle = plan(cast, count=1, format=Session.SHORT)
    workshop = start_first_workshop(cast, cycle.sessions.get())
    assert workshop.timer_duration == STEPS[Step.EXPOSE].short_minutes * 60


# --- changing a session ------------------------------------------------------------------------


def test_the_facilitator_changes_date_place_and_format(cast):
    session = plan(cast, count=1).sessions.get()
    later = FIRST + timedelta(days=2)
    sessions.edit_session(session.pk, starts_at=later, place="Salle Saône", video_url="", format=Session.CUSTOM,
                          minutes=custom_minutes(**{"1": 12}), acting_user=cast.claire)
    session.refresh_from_db()
    assert (session.starts_at, session.place, session.video_url, session.format) == (later, "Salle Saône", "", Session.CUSTOM)
    workshop = session.workshops.get()
    assert workshop.scheduled_at == later and workshop.minutes["1"] == 12


def test_the_format_freezes_once_the_first_workshop_has_started(cast):
    session = plan(cast, count=1).sessions.get()
    start_first_workshop(cast, session)
    with pytest.raises(Refused):
        sessions.edit_session(session.pk, starts_at=FIRST, format=Session.SHORT, acting_user=cast.claire)
    sessions.edit_session(session.pk, starts_at=FIRST, place="Salle B", format=Session.LONG, acting_user=cast.claire)
    session.refresh_from_db()
    assert session.format == Session.LONG and session.place == "Salle B"


def test_a_new_date_deserves_a_new_reminder(cast):
    session = plan(cast, count=1).sessions.get()
    Session.objects.filter(pk=session.pk).update(reminder_sent_at=FIRST - timedelta(days=2))
    sessions.edit_session(session.pk, starts_at=FIRST, place="Ailleurs", acting_user=cast.claire)
    assert Session.objects.get(pk=session.pk).reminder_sent_at is not None, "same date: already reminded"
    sessions.edit_session(session.pk, starts_at=FIRST + timedelta(days=7), acting_user=cast.claire)
    assert Session.objects.get(pk=session.pk).reminder_sent_at is None


def test_a_member_cannot_change_a_session(cast):
    session = plan(cast, count=1).sessions.get()
    with pytest.raises(Refused):
        sessions.edit_session(session.pk, starts_at=FIRST, place="Chez moi", acting_user=cast.sophie)
    assert Session.objects.get(pk=session.pk).place == "Salle Rhône"


# --- pages -------------------------------------------------------------------------------------


def cycle_post(**changes):
    data = {"title": "Cycle 2031", "starts_at": "2031-01-14T18:00", "rhythm": Cycle.MONTHLY, "count": "3",
            "place": "Salle Rhône", "video_url": "", "format": Session.LONG}
    data.update({f"minutes_{int(step)}": str(info.minutes) for step, info in STEPS.items()})
    return {**data, **changes}


def test_the_facilitator_plans_a_cycle_from_the_form(client, cast):
    client.force_login(cast.claire)
    url = reverse("cycle_create", args=[cast.group.pk])
    page = client.get(url).content.decode()
    assert 'value="3"' in page, "the number of sessions defaults to the participants"
    response = client.post(url, cycle_post(format=Session.CUSTOM, minutes_1="8"))
    assert response.status_code == 302
    cycle = Cycle.objects.get()
    assert cycle.sessions.count() == 3
    assert {s.minutes["1"] for s in cycle.sessions.all()} == {8}
    first = cycle.sessions.order_by("number").first()
    assert first.starts_at == FIRST


def test_a_bad_form_says_why_and_creates_nothing(client, cast):
    client.force_login(cast.claire)
    url = reverse("cycle_create", args=[cast.group.pk])
    response = client.post(url, cycle_post(format=Session.CUSTOM, minutes_2="500"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "between 1 and 120" in response.content.decode()
    response = client.post(url, cycle_post(starts_at="not a date"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and "valid date" in response.content.decode()
    assert not Cycle.objects.exists() and Session.objects.count() == 1


@pytest.mark.parametrize("who", ["sophie", "olivier"])
def test_members_and_outsiders_cannot_plan_or_change(client, cast, who):
    session = plan(cast, count=1).sessions.get()
    client.force_login(getattr(cast, who))
    assert client.get(reverse("cycle_create", args=[cast.group.pk])).status_code == 403
    assert client.post(reverse("cycle_create", args=[cast.group.pk]), cycle_post()).status_code == 403
    edit = reverse("session_edit", args=[session.pk])
    assert client.post(edit, {"starts_at": "2031-02-01T10:00", "place": "Chez moi", "format": Session.LONG}).status_code == 403
    assert client.post(reverse("session_second_case", args=[session.pk])).status_code == 403
    assert Cycle.objects.count() == 1 and Session.objects.get(pk=session.pk).place == "Salle Rhône"


def test_the_facilitator_edits_a_session_from_the_form(client, cast):
    session = plan(cast, count=1).sessions.get()
    client.force_login(cast.claire)
    url = reverse("session_edit", args=[session.pk])
    assert client.get(url).status_code == 200
    data = {"starts_at": "2031-01-16T09:00", "place": "Salle Saône", "video_url": "", "format": Session.SHORT}
    data.update({f"minutes_{n}": "10" for n in range(1, 7)})
    assert client.post(url, data).status_code == 302
    session.refresh_from_db()
    assert session.starts_at == datetime(2031, 1, 16, 9, 0, tzinfo=PARIS) and session.format == Session.SHORT
    assert session.workshops.get().short_format


def test_the_session_page_for_members_and_outsiders(client, cast):
    session = plan(cast, count=1).sessions.get()
    url = reverse("session", args=[session.pk])
    client.force_login(cast.sophie)
    page = client.get(url).content.decode()
    assert "Salle Rhône" in page and "https://visio.example.org/groupe" in page and "Claire Morel" in page
    assert reverse("session_ics", args=[session.pk]) in page
    assert reverse("session_edit", args=[session.pk]) not in page
    assert reverse("session_attendance", args=[session.pk]) not in page
    client.force_login(cast.claire)
    page = client.get(url).content.decode()
    assert reverse("session_edit", args=[session.pk]) in page and reverse("session_attendance_pdf", args=[session.pk]) in page
    client.force_login(cast.olivier)
    response = client.get(url)
    assert response.status_code == 403 and b"Salle" not in response.content
    assert client.get(reverse("session", args=[99999])).status_code == 404


def test_the_group_page_lists_cycles_and_sessions(client, cast):
    cycle = plan(cast)
    client.force_login(cast.sophie)
    page = client.get(reverse("group", args=[cast.group.pk])).content.decode()
    assert "Cycle 2031" in page and reverse("cycle_ics", args=[cycle.pk]) in page
    for session in cycle.sessions.all():
        assert reverse("session", args=[session.pk]) in page
    assert reverse("cycle_create", args=[cast.group.pk]) not in page
    client.force_login(cast.claire)
    assert reverse("cycle_create", args=[cast.group.pk]) in client.get(reverse("group", args=[cast.group.pk])).content.decode()


# --- a second case in the same session ---------------------------------------------------------


def test_a_second_case_once_the_first_has_ended_and_no_third(cast):
    session = cast.workshop.session
    cast.at_step(Step.CLARIFICATION)
    with pytest.raises(Refused):
        sessions.add_second_case(session.pk, acting_user=cast.claire)
    actions.end(cast.workshop.pk, reason="Fin anticipée", acting_user=cast.claire)
    with pytest.raises(Refused):
        sessions.add_second_case(session.pk, acting_user=cast.sophie)
    second = sessions.add_second_case(session.pk, acting_user=cast.claire)
    assert second.session == session and second.facilitator == cast.claire and second.status == Workshop.PLANNED
    with pytest.raises(Refused):
        sessions.add_second_case(session.pk, acting_user=cast.claire)
    assert session.workshops.count() == 2


def test_the_second_case_button_appears_once_the_first_has_ended(client, cast):
    session = cast.workshop.session
    url = reverse("session", args=[session.pk])
    button = reverse("session_second_case", args=[session.pk])
    client.force_login(cast.claire)
    cast.at_step(Step.CLARIFICATION)
    assert button not in client.get(url).content.decode()
    response = client.post(button, follow=True)
    assert session.workshops.count() == 1 and response.status_code == 200
    actions.end(cast.workshop.pk, reason="Fin anticipée", acting_user=cast.claire)
    assert button in client.get(url).content.decode()
    response = client.post(button)
    second = session.workshops.order_by("id").last()
    assert response.status_code == 302 and response.url == reverse("workshop", args=[second.pk])
    assert button not in client.get(url).content.decode(), "at most two cases"
