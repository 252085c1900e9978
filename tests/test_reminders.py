"""E-mail reminders: two days before a session, and the client's plan halfway to the next one."""
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from icalendar import Calendar

from workshops import actions, reminders, sessions
from workshops.models import Cycle, Session, Workshop
from workshops.steps import Step


@pytest.fixture(autouse=True)
def emails(cast):
    for user in User.objects.all():
        user.email = f"{user.username}@example.org"
        user.save(update_fields=["email"])


def planned(cast, starts_at, **fields):
    return sessions.plan_session(cast.group, facilitator=cast.claire, number=Session.objects.count() + 1,
                                 starts_at=starts_at, place=fields.get("place", "Salle Rhône"),
                                 video_url=fields.get("video_url", "https://visio.example.org/groupe"))


# --- two days before a session --------------------------------------------------------------


def test_every_member_is_reminded_once_within_48_hours(cast):
    now = timezone.now()
    session = planned(cast, now + timedelta(hours=47))
    assert reminders.send_session_reminders(now) == 4
    recipients = sorted(address for message in mail.outbox for address in message.to)
    assert recipients == ["claire@example.org", "julien@example.org", "marc@example.org", "sophie@example.org"]
    message = mail.outbox[0]
    assert "Groupe Test" in message.subject
    assert "Salle Rhône" in message.body and "https://visio.example.org/groupe" in message.body
    (name, content, mimetype), = message.attachments
    assert mimetype == "text/calendar" and name.endswith(".ics")
    event, = Calendar.from_ical(content).walk("VEVENT")
    assert event["DTSTART"].dt == session.starts_at.replace(microsecond=0)
    assert reminders.send_session_reminders(now + timedelta(hours=1)) == 0, "not twice"
    assert len(mail.outbox) == 4


def test_farther_and_past_sessions_wait(cast):
    now = timezone.now()
    planned(cast, now + timedelta(hours=49))
    planned(cast, now - timedelta(hours=1))
    assert reminders.send_session_reminders(now) == 0 and mail.outbox == []


def test_a_member_without_an_address_is_skipped(cast):
    User.objects.filter(pk=cast.julien.pk).update(email="")
    now = timezone.now()
    planned(cast, now + timedelta(hours=10))
    assert reminders.send_session_reminders(now) == 3
    assert all("julien" not in message.to[0] for message in mail.outbox)


def test_a_moved_session_is_reminded_again(cast):
    now = timezone.now()
    session = planned(cast, now + timedelta(hours=24))
    reminders.send_session_reminders(now)
    sessions.edit_session(session.pk, starts_at=now + timedelta(hours=30), place="Salle B", acting_user=cast.claire)
    mail.outbox.clear()
    assert reminders.send_session_reminders(now) == 4
    assert "Salle B" in mail.outbox[0].body


def test_the_command_prints_what_it_sent(cast):
    planned(cast, timezone.now() + timedelta(hours=5))
    out = StringIO()
    call_command("send_reminders", stdout=out)
    assert "4" in out.getvalue() and len(mail.outbox) == 4
    out = StringIO()
    call_command("send_reminders", stdout=out)
    assert "0" in out.getvalue() and len(mail.outbox) == 4


# --- halfway to the next session --------------------------------------------------------------


def ended_with_a_plan(cast, cid, *, with_actions=True) -> Workshop:
    workshop = cast.at_step(Step.PLAN)
    if with_actions:
        actions.add_action(workshop.pk, cid=cid(), what="Réunir l'équipe chaque lundi", first_step="Poser la date",
                           acting_user=cast.marc)
    actions.end(workshop.pk, reason="Fin", acting_user=cast.claire)
    return Workshop.objects.get(pk=workshop.pk)


def test_the_client_gets_his_plan_back_halfway_and_only_him(cast, cid):
    workshop = ended_with_a_plan(cast, cid)
    planned(cast, workshop.ended_at + timedelta(days=10))
    assert reminders.send_plan_reminders(workshop.ended_at + timedelta(days=4)) == 0, "not halfway yet"
    assert reminders.send_plan_reminders(workshop.ended_at + timedelta(days=5, minutes=1)) == 1
    message, = mail.outbox
    assert message.to == ["marc@example.org"]
    assert "Réunir l'équipe chaque lundi" in message.body and "Poser la date" in message.body
    assert reminders.send_plan_reminders(workshop.ended_at + timedelta(days=6)) == 0, "once"
    assert len(mail.outbox) == 1


def test_no_plan_reminder_without_a_next_session_or_after_it(cast, cid):
    workshop = ended_with_a_plan(cast, cid)
    assert reminders.send_plan_reminders(workshop.ended_at + timedelta(days=30)) == 0, "no next session"
    planned(cast, workshop.ended_at + timedelta(days=10))
    assert reminders.send_plan_reminders(workshop.ended_at + timedelta(days=11)) == 0, "the next session is over"
    assert mail.outbox == []


def test_no_plan_reminder_when_the_plan_is_closed_or_empty(cast, cid):
    workshop = ended_with_a_plan(cast, cid)
    Workshop.objects.filter(pk=workshop.pk).update(plan_closed_at=workshop.ended_at + timedelta(days=1))
    planned(cast, workshop.ended_at + timedelta(days=10))
    assert reminders.send_plan_reminders(workshop.ended_at + timedelta(days=6)) == 0
    Workshop.objects.filter(pk=workshop.pk).update(plan_closed_at=None)
    assert reminders.send_plan_reminders(workshop.ended_at + timedelta(days=6)) == 1


def test_no_plan_reminder_without_actions(cast, cid):
    workshop = ended_with_a_plan(cast, cid, with_actions=False)
    planned(cast, workshop.ended_at + timedelta(days=10))
    assert reminders.send_plan_reminders(workshop.ended_at + timedelta(days=6)) == 0
    assert mail.outbox == []


def test_the_next_session_of_a_cycle_counts(cast, cid):
    workshop = ended_with_a_plan(cast, cid)
    cycle = sessions.plan_cycle(cast.group, title="Suite", first_starts_at=workshop.ended_at + timedelta(days=28),
                                rhythm=Cycle.MONTHLY, count=2, acting_user=cast.claire)
    first = cycle.sessions.order_by("starts_at").first()
    halfway = workshop.ended_at + (first.starts_at - workshop.ended_at) / 2
    assert reminders.send_plan_reminders(halfway - timedelta(minutes=1)) == 0
    assert reminders.send_plan_reminders(halfway) == 1
