"""Retention: N months after a workshop ended its content is gone, except each member's own
journal copy and the client's record of his case, which only their owner reads and deletes."""
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from privacy import retention
from privacy.models import ClientRecord, GroupPolicy, Purge
from tests.privacy_story import MARKERS, raw_dump, tables_with, tell_story
from workshops.models import (
    Attendance,
    Case,
    Contribution,
    Evaluation,
    Event,
    JournalEntry,
    Learning,
    PlannedAction,
    PrivateNote,
    RuleAcceptance,
    Session,
    Vote,
    Workshop,
)

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
KEPT_FOR_OWNERS = ("workshops_journalentry", "privacy_clientrecord")


@pytest.fixture
def story(cast):
    cast.story = tell_story(cast)
    return cast


def raw_count(table: str, workshop_id: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table} WHERE workshop_id = %s", [workshop_id])  # noqa: S608 (model tables)
        return cursor.fetchone()[0]


def months_later(workshop: Workshop, months: int, days: int = 3) -> datetime:
    """Safely past `months` calendar months (a few days more than the longest such run)."""
    return workshop.ended_at + timedelta(days=30.44 * months + days)


def test_it_keeps_everything_before_the_retention_has_passed(story):
    report = retention.purge_expired(months_later(story.story, 11))
    assert report.workshops == 0
    assert Contribution.objects.filter(workshop=story.story).count() == 3
    assert not Purge.objects.exists()


def test_it_purges_the_content_after_the_default_twelve_months(story):
    w = story.story
    events_before = list(Event.objects.filter(workshop=w).values_list("seq", "kind", "actor_id"))
    attendance_before = Attendance.objects.filter(session=w.session).count()
    assert raw_count("workshops_contribution", w.pk) == 3

    report = retention.purge_expired(months_later(w, 12))

    assert report.workshops == 1 and report.contributions == 3 and report.notes == 2 and report.learnings == 2
    assert report.actions == 1 and report.evaluation_comments == 2 and report.votes == 2 and report.acceptances == 2
    assert report.journal_entries == 2 and report.client_records == 1
    # What anyone wrote is gone from every table, read raw, but for the owners' own copies.
    for marker in MARKERS.values():
        assert tables_with(marker, exclude=KEPT_FOR_OWNERS) == [], marker
    assert "Reprendre une équipe" not in "\n".join(raw_dump(exclude=KEPT_FOR_OWNERS).values())
    for model in (Contribution, PrivateNote, Learning, PlannedAction, RuleAcceptance):
        assert raw_count(model._meta.db_table, w.pk) == 0, model
    assert not Vote.objects.filter(session=w.session).exists()
    case = Case.objects.get(pk=story.case.pk)
    assert case.title.strip() and "Reprendre" not in case.title and str(months_later(w, 12).year) in case.title
    assert (case.context, case.problem, case.summary) == ("", "", "")
    # The process stays: the workshop, its session, attendance, scores, the event log's kinds and actors.
    after = Workshop.objects.get(pk=w.pk)
    assert after.status == Workshop.ENDED and after.ended_at == w.ended_at and after.request == ""
    assert Session.objects.filter(pk=w.session_id).exists()
    assert Attendance.objects.filter(session=w.session).count() == attendance_before == 3
    assert sorted(Evaluation.objects.filter(workshop=w).values_list("score", "comment")) == [(3, ""), (4, ""), (5, "")]
    assert list(Event.objects.filter(workshop=w).values_list("seq", "kind", "actor_id")) == events_before
    assert all(e.payload == {} for e in Event.objects.filter(workshop=w))


def test_each_member_finds_his_own_items_in_his_journal(story, client):
    retention.purge_expired(months_later(story.story, 12))
    [sophie_copy] = [e for e in JournalEntry.objects.filter(owner=story.sophie) if MARKERS["learning_sophie"] in e.body]
    assert MARKERS["note_sophie"] in sophie_copy.body and story.story.title in sophie_copy.body
    assert MARKERS["learning_marc"] not in sophie_copy.body and MARKERS["plan"] not in sophie_copy.body
    [marc_copy] = JournalEntry.objects.filter(owner=story.marc)
    for marker in ("learning_marc", "note_marc", "plan"):
        assert MARKERS[marker] in marc_copy.body
    assert MARKERS["note_sophie"] not in marc_copy.body
    assert not JournalEntry.objects.filter(owner__in=[story.julien, story.claire]).exists()  # nothing of theirs to keep

    client.force_login(story.sophie)
    page = client.get(reverse("journal"), **EN).content.decode()
    assert MARKERS["learning_sophie"] in page and MARKERS["note_marc"] not in page
    client.force_login(story.marc)
    page = client.get(reverse("journal"), **EN).content.decode()
    assert MARKERS["plan"] in page and MARKERS["learning_sophie"] not in page


def test_the_client_keeps_the_record_of_his_case_and_only_he_reads_it(story, client):
    retention.purge_expired(months_later(story.story, 12))
    record = ClientRecord.objects.get(owner=story.marc)
    assert record.title == "Reprendre une équipe"
    for marker in ("case_context", "question", "answer", "request", "contribution", "plan"):
        assert MARKERS[marker] in record.body, marker
    assert "Personne ne parle." in record.body

    client.force_login(story.marc)
    listing = client.get(reverse("client_records"), **EN)
    assert "Reprendre une équipe" in listing.content.decode()
    download = client.get(reverse("client_record_md", args=[record.pk]), **EN)
    assert download.status_code == 200 and MARKERS["contribution"] in download.content.decode()
    assert download["Content-Type"].startswith("text/markdown")

    for other in (story.sophie, story.claire, story.olivier):
        client.force_login(other)
        assert client.get(reverse("client_record_md", args=[record.pk])).status_code == 404
        assert client.post(reverse("client_record_delete", args=[record.pk])).status_code == 404
        assert "Reprendre une équipe" not in client.get(reverse("client_records"), **EN).content.decode()
    assert ClientRecord.objects.filter(pk=record.pk).exists()

    client.force_login(story.marc)
    response = client.post(reverse("client_record_delete", args=[record.pk]))
    assert response.status_code == 302 and not ClientRecord.objects.filter(pk=record.pk).exists()


def test_a_second_run_changes_nothing(story):
    now = months_later(story.story, 12)
    retention.purge_expired(now)
    journal_ids = set(JournalEntry.objects.values_list("pk", flat=True))
    again = retention.purge_expired(now + timedelta(days=1))
    assert again.workshops == 0 and again.journal_entries == 0
    assert set(JournalEntry.objects.values_list("pk", flat=True)) == journal_ids
    assert ClientRecord.objects.count() == 1 and Purge.objects.count() == 1


def test_a_dry_run_counts_and_changes_nothing(story):
    before = raw_dump()
    report = retention.purge_expired(months_later(story.story, 12), dry_run=True)
    assert report.workshops == 1 and report.contributions == 3 and report.journal_entries == 2
    assert raw_dump() == before


def test_a_group_may_keep_its_content_for_less_or_more_time(story):
    w = story.story
    GroupPolicy.objects.create(group=story.group, retention_months=3)
    assert retention.purge_expired(months_later(w, 2)).workshops == 0
    assert retention.purge_expired(months_later(w, 3)).workshops == 1


def test_a_longer_group_retention_holds_past_the_default(story):
    w = story.story
    GroupPolicy.objects.create(group=story.group, retention_months=24)
    assert retention.purge_expired(months_later(w, 13)).workshops == 0
    assert Contribution.objects.filter(workshop=w).exists()
    assert retention.purge_expired(months_later(w, 24)).workshops == 1


def test_the_default_comes_from_the_settings(story, settings):
    settings.CODEV_RETENTION_MONTHS = 6
    assert retention.purge_expired(months_later(story.story, 5)).workshops == 0
    assert retention.purge_expired(months_later(story.story, 6)).workshops == 1


def test_the_command_purges_or_only_counts(story, capsys):
    Workshop.objects.filter(pk=story.story.pk).update(ended_at=story.story.ended_at - timedelta(days=400))
    call_command("purge_expired", "--dry-run")
    assert "contributions 3" in capsys.readouterr().out
    assert Contribution.objects.filter(workshop=story.story).exists()
    call_command("purge_expired")
    assert "contributions 3" in capsys.readouterr().out
    assert not Contribution.objects.filter(workshop=story.story).exists()
    call_command("purge_expired")
    assert "workshops 0" in capsys.readouterr().out


def test_live_and_planned_workshops_are_never_purged(cast):
    cast.at_step(2)
    assert retention.purge_expired(datetime(2100, 1, 1, tzinfo=UTC)).workshops == 0


# --- the facilitator sets his group's retention --------------------------------------------


def test_the_facilitator_sets_the_retention_of_his_group(cast, client):
    client.force_login(cast.claire)
    url = reverse("group_retention", args=[cast.group.pk])
    assert client.get(url, **EN).status_code == 200
    response = client.post(url, {"months": "6"}, **EN)
    assert response.status_code == 302
    assert GroupPolicy.objects.get(group=cast.group).retention_months == 6
    group_page = client.get(reverse("group", args=[cast.group.pk]), **EN).content.decode()
    assert "6 months" in group_page and url in group_page


@pytest.mark.parametrize("bad", ["0", "121", "-3", "douze", "", "6.5", "9" * 40])
def test_a_wrong_number_of_months_is_refused_clearly(cast, client, bad):
    GroupPolicy.objects.create(group=cast.group, retention_months=9)
    client.force_login(cast.claire)
    response = client.post(reverse("group_retention", args=[cast.group.pk]), {"months": bad}, **EN)
    assert response.status_code == 400
    assert "between 1 and 120" in response.content.decode()
    assert GroupPolicy.objects.get(group=cast.group).retention_months == 9


def test_only_the_facilitator_changes_the_retention(cast, client):
    url = reverse("group_retention", args=[cast.group.pk])
    for user in (cast.marc, cast.olivier):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert client.post(url, {"months": "1"}).status_code == 403
    assert not GroupPolicy.objects.exists()
    client.force_login(cast.marc)
    members_page = client.get(reverse("group", args=[cast.group.pk]), **EN).content.decode()
    assert "12 months" in members_page and url not in members_page
    client.logout()
    assert client.get(url).status_code == 302


@given(
    moment=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)),
    months=st.integers(min_value=1, max_value=120),
)
def test_months_before_goes_back_whole_calendar_months(moment, months):
    earlier = retention.months_before(moment, months)
    assert earlier < moment
    assert (moment.year * 12 + moment.month) - (earlier.year * 12 + earlier.month) == months
    assert earlier.day <= moment.day and earlier.time() == moment.time()
