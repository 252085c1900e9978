"""A member's data: he exports everything he wrote (and nothing of others'), and he may delete his
account; what he said in others' cases then stays in their record, signed "Former member"."""
import json

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import translation

from privacy import account, retention
from privacy.models import ClientRecord
from tests.privacy_story import MARKERS, raw_dump, tell_story
from workshops import actions, membership
from workshops.models import (
    Attendance,
    Case,
    Contribution,
    Evaluation,
    Event,
    Invitation,
    JournalEntry,
    Learning,
    Membership,
    PrivateNote,
    ReportingLine,
    Vote,
    Workshop,
)

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
M = MARKERS


@pytest.fixture
def story(cast):
    cast.story = tell_story(cast)
    return cast


def export_of(client, user) -> tuple[dict, str]:
    client.force_login(user)
    response = client.get(reverse("my_data_export"), **EN)
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    assert response["Cache-Control"] == "private, no-store"
    text = response.content.decode()
    return json.loads(text), text


def former_member_name() -> str:
    with translation.override(settings.LANGUAGE_CODE):  # "Ancien membre" once the catalogue has it
        return translation.gettext("Former member")


# --- export --------------------------------------------------------------------------------


def test_the_export_holds_everything_a_consultant_wrote_and_nothing_of_others(story, client):
    data, text = export_of(client, story.sophie)
    for key in ("question", "sophie_contribution", "note_sophie", "learning_sophie", "comment_sophie", "journal_sophie"):
        assert M[key] in text, key
    assert data["profile"]["email"] == "sophie@example.org"
    assert [m["group_name"] for m in data["memberships"]] == ["Groupe Test"]
    assert data["reporting_lines"] == [{"manager_email": "cheffe@example.org", "report_email": "sophie@example.org",
                                        "created_at": data["reporting_lines"][0]["created_at"]}]
    assert M["learning_sophie"] in data["journal_markdown"]
    for key in ("answer", "contribution", "plan", "note_marc", "learning_marc", "comment_julien", "case_context", "request"):
        assert M[key] not in text, key
    assert "Personne ne parle." not in text


def test_the_export_holds_the_client_s_case_answers_and_plan_but_not_the_consultants_words(story, client):
    data, text = export_of(client, story.marc)
    for key in ("case_context", "answer", "request", "plan", "note_marc", "learning_marc"):
        assert M[key] in text, key
    assert data["cases"][0]["problem"] == "Personne ne parle."
    for key in ("question", "contribution", "sophie_contribution", "note_sophie", "learning_sophie", "comment_sophie"):
        assert M[key] not in text, key  # his journal's plan names the kept contribution by id only


def test_the_export_holds_his_kept_records(story, client):
    retention.purge_expired(story.story.ended_at.replace(year=story.story.ended_at.year + 2))
    data, _text = export_of(client, story.marc)
    [kept] = data["client_records"]
    assert kept["title"] == "Reprendre une équipe" and M["answer"] in kept["markdown"]
    assert any(M["plan"] in entry["body"] for entry in data["journal_entries"])


def test_the_data_page_offers_the_export_and_the_deletion(story, client):
    client.force_login(story.julien)
    page = client.get(reverse("my_data"), **EN).content.decode()
    assert reverse("my_data_export") in page and reverse("account_delete") in page
    assert "csrfmiddlewaretoken" in page
    client.logout()
    assert client.get(reverse("my_data")).status_code == 302
    assert client.get(reverse("my_data_export")).status_code == 302


# --- deletion --------------------------------------------------------------------------------


def delete(client, user, confirmation):
    client.force_login(user)
    return client.post(reverse("account_delete"), {"confirmation": confirmation}, **EN)


def test_a_consultant_deletes_his_account_and_the_client_s_record_keeps_his_words_anonymously(story, client):
    response = delete(client, story.sophie, "sophie")
    assert response.status_code == 302 and response.url == reverse("login")
    assert not User.objects.filter(username="sophie").exists()

    client.force_login(story.marc)
    record = client.get(reverse("workshop_record_md", args=[story.story.pk]), **EN).content.decode()
    question_line = next(line for line in record.splitlines() if M["question"] in line)
    contribution_line = next(line for line in record.splitlines() if M["sophie_contribution"] in line)
    assert former_member_name() in question_line and former_member_name() in contribution_line
    assert "Sophie" not in record and "Julien Petit" in record

    said = [c for c in Contribution.objects.filter(workshop=story.story) if M["question"] in c.body]
    placeholder = said[0].author
    assert placeholder.first_name == former_member_name()
    assert not placeholder.is_active and not placeholder.has_usable_password() and placeholder.email == ""
    assert [c.author_id for c in Contribution.objects.filter(workshop=story.story) if M["sophie_contribution"] in c.body] == [placeholder.pk]
    assert Learning.objects.get(workshop=story.story, author=placeholder).body == M["learning_sophie"]


def test_deleting_removes_what_was_his_alone(story, client):
    journal_ids = list(JournalEntry.objects.filter(owner=story.sophie).values_list("pk", flat=True))
    delete(client, story.sophie, "sophie@example.org")
    for marker in ("note_sophie", "comment_sophie", "journal_sophie"):
        assert M[marker] not in "\n".join(raw_dump().values()), marker
    assert not [n for n in PrivateNote.objects.all() if n.body == M["note_sophie"]]
    assert not JournalEntry.objects.filter(pk__in=journal_ids).exists()
    assert sorted(Evaluation.objects.filter(workshop=story.story).values_list("score", flat=True)) == [3, 4, 5]
    assert not [e for e in Evaluation.objects.all() if e.comment == M["comment_sophie"]]
    assert Vote.objects.filter(session=story.story.session).count() == 1  # Julien's
    assert not ReportingLine.objects.filter(report_email="sophie@example.org").exists()
    assert not Invitation.objects.filter(email="sophie@example.org").exists()
    assert Membership.objects.filter(group=story.group).count() == 3
    assert Attendance.objects.filter(session=story.story.session, present=True).count() == 3  # the figure holds
    # Her name is nowhere: not in a table read raw, not in an event the room replays.
    assert "Sophie Bernard" not in "\n".join(raw_dump().values())
    assert not [e for e in Event.objects.all() if "Sophie Bernard" in json.dumps(e.payload, ensure_ascii=False)]


def test_each_deleted_account_gets_its_own_placeholder(story, client):
    delete(client, story.sophie, "sophie")
    delete(client, story.julien, "julien")
    authors = {c.author_id for c in Contribution.objects.filter(workshop=story.story)}
    assert len(authors) == 2 and all(not User.objects.get(pk=pk).is_active for pk in authors)


def test_the_client_deletes_his_account_and_his_case_is_purged(story, client):
    delete(client, story.marc, "marc")
    w = Workshop.objects.get(pk=story.story.pk)
    assert w.status == Workshop.ENDED and w.request == ""
    case = Case.objects.get(pk=story.case.pk)
    assert case.context == "" and "Reprendre" not in case.title and case.owner.first_name == former_member_name()
    assert not Contribution.objects.filter(workshop=w).exists()
    assert not ClientRecord.objects.exists()  # nobody left to keep it for
    # Sophie finds her learnings and notes of that workshop in her journal; Marc's are gone.
    kept = [e.body for e in JournalEntry.objects.filter(owner=story.sophie)]
    assert any(M["learning_sophie"] in body and M["note_sophie"] in body for body in kept)
    for marker in ("answer", "request", "plan", "note_marc", "learning_marc", "case_context"):
        assert M[marker] not in "\n".join(raw_dump().values()), marker
    assert Attendance.objects.filter(session=w.session).count() == 3


def test_the_client_s_case_not_treated_yet_is_deleted_and_forgotten_by_the_rooms(cast, client):
    actions.designate_case(cast.workshop.pk, cast.case.pk, acting_user=cast.claire)  # chosen, not started
    delete(client, cast.marc, "marc")
    assert not Case.objects.filter(pk=cast.case.pk).exists()
    workshop = Workshop.objects.get(pk=cast.workshop.pk)
    assert workshop.case is None and workshop.status == Workshop.PLANNED
    told = [e.payload for e in Event.objects.filter(workshop=workshop)]
    assert told and "Personne ne parle." not in json.dumps(told, ensure_ascii=False)


def test_the_facilitator_of_a_group_with_members_must_hand_over_first(story, client):
    response = delete(client, story.claire, "claire")
    assert response.status_code == 400
    assert "hand the facilitator role over" in response.content.decode()
    assert User.objects.filter(username="claire").exists()
    client.force_login(story.claire)
    page = client.get(reverse("my_data"), **EN).content.decode()
    assert "Groupe Test" in page and "hand the facilitator role over" in page

    membership.hand_over(story.group, story.sophie, acting_user=story.claire)
    response = delete(client, story.claire, "claire")
    assert response.status_code == 302 and not User.objects.filter(username="claire").exists()
    w = Workshop.objects.get(pk=story.story.pk)
    assert w.facilitator.first_name == former_member_name()  # the session she ran keeps a facilitator
    assert [e.kind for e in Event.objects.filter(workshop=w, kind="workshop.ended")] == ["workshop.ended"]


def test_the_only_member_of_his_group_may_delete_his_account(cast, client):
    assert delete(client, cast.olivier, "olivier").status_code == 302
    assert not User.objects.filter(username="olivier").exists()


@pytest.mark.parametrize("typed", ["", "   ", "Sophie", "marc", "sophie@example.com", "x" * 5000])
def test_a_wrong_confirmation_deletes_nothing(story, client, typed):
    client.force_login(story.sophie)  # signing in writes last_login: before the snapshot
    before = raw_dump(exclude=("django_session",))
    response = client.post(reverse("account_delete"), {"confirmation": typed}, **EN)
    assert response.status_code == 400
    assert "type your username or your e-mail address" in response.content.decode()
    assert raw_dump(exclude=("django_session",)) == before


def test_deletion_signs_him_out(story, client):
    delete(client, story.julien, "julien")
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("my_data")).status_code == 302
    assert client.login(username="julien", password="pw-julien") is False


def test_deletion_only_by_post(story, client):
    client.force_login(story.julien)
    assert client.get(reverse("account_delete")).status_code == 405
    assert User.objects.filter(username="julien").exists()


def test_the_confirmation_accepts_the_username_or_the_e_mail():
    user = User(username="anne", email="Anne@Example.org")
    assert account.confirmation_matches(user, "anne")
    assert account.confirmation_matches(user, " anne@example.ORG ")
    assert not account.confirmation_matches(user, "Anne")
    assert not account.confirmation_matches(User(username="bob", email=""), "")
