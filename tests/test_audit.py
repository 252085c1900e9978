"""The audit log: who viewed or exported what, who changed a step or overrode a rule. The group's
facilitator reads it; members are refused; the coordinator only counts exports. No content in it."""
import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from privacy import audit, retention
from privacy.models import AuditEntry, ClientRecord
from tests.privacy_story import MARKERS, raw_dump, tell_story
from workshops.models import Session, Workshop

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
SECRETS = [*MARKERS.values(), "Reprendre une équipe", "Personne ne parle."]


@pytest.fixture
def story(cast):
    cast.story = tell_story(cast)
    return cast


def assert_no_content(entries) -> None:
    for entry in entries:
        text = json.dumps([entry.action, entry.target_type, entry.detail], ensure_ascii=False)
        assert not [s for s in SECRETS if s in text], text
    log_table = raw_dump()["privacy_auditentry"]
    assert not [s for s in SECRETS if s in log_table]


def the_only_new_entry(before: int) -> AuditEntry:
    entries = list(AuditEntry.objects.filter(pk__gt=before).order_by("id"))
    assert len(entries) == 1, [e.action for e in entries]
    assert_no_content(entries)
    return entries[0]


def last_id() -> int:
    return AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0


@pytest.mark.parametrize("ext", ["md", "pdf"])
def test_exporting_the_client_record_is_logged(story, client, ext):
    before = last_id()
    client.force_login(story.marc)
    assert client.get(reverse(f"workshop_record_{ext}", args=[story.story.pk]), **EN).status_code == 200
    entry = the_only_new_entry(before)
    assert (entry.action, entry.actor, entry.group, entry.target_type, entry.target_id) == (
        "record.exported", story.marc, story.group, "workshop", story.story.pk)
    assert entry.detail == {"format": ext}


def test_a_refused_record_download_logs_nothing(story, client):
    before = last_id()
    client.force_login(story.sophie)
    assert client.get(reverse("workshop_record_md", args=[story.story.pk])).status_code == 403
    assert last_id() == before


@pytest.mark.parametrize("ext", ["md", "pdf"])
def test_exporting_one_s_journal_is_logged_without_a_group(story, client, ext):
    before = last_id()
    client.force_login(story.sophie)
    assert client.get(reverse(f"journal_{ext}"), **EN).status_code == 200
    entry = the_only_new_entry(before)
    assert (entry.action, entry.actor, entry.group, entry.detail) == ("journal.exported", story.sophie, None, {"format": ext})


def test_downloading_the_attendance_sheet_is_logged(story, client):
    before = last_id()
    client.force_login(story.claire)
    assert client.get(reverse("session_attendance_pdf", args=[story.story.session_id]), **EN).status_code == 200
    entry = the_only_new_entry(before)
    assert (entry.action, entry.actor, entry.group, entry.target_type) == ("attendance.exported", story.claire, story.group, "session")


def test_downloading_a_calendar_is_logged(story, client):
    Session.objects.filter(pk=story.story.session_id).update(starts_at=story.story.ended_at + timedelta(days=30))
    before = last_id()
    client.force_login(story.julien)
    assert client.get(reverse("session_ics", args=[story.story.session_id])).status_code == 200
    entry = the_only_new_entry(before)
    assert (entry.action, entry.actor, entry.group, entry.detail) == ("calendar.exported", story.julien, story.group, {"format": "ics"})


def test_exporting_one_s_data_is_logged(story, client):
    before = last_id()
    client.force_login(story.sophie)
    assert client.get(reverse("my_data_export")).status_code == 200
    entry = the_only_new_entry(before)
    assert (entry.action, entry.actor) == ("data.exported", story.sophie)


def test_a_deleted_account_is_logged_in_each_of_his_groups(story, client):
    before = last_id()
    client.force_login(story.julien)
    client.post(reverse("account_delete"), {"confirmation": "julien"})
    entries = list(AuditEntry.objects.filter(pk__gt=before, action="account.deleted"))
    assert [e.group for e in entries] == [story.group]
    assert entries[0].actor is not None and not entries[0].actor.is_active  # the placeholder: no name left
    assert_no_content(entries)


def test_a_purge_and_a_retention_change_are_logged(story, client):
    client.force_login(story.claire)
    before = last_id()
    client.post(reverse("group_retention", args=[story.group.pk]), {"months": "2"})
    entry = the_only_new_entry(before)
    assert (entry.action, entry.actor, entry.detail) == ("retention.changed", story.claire, {"months": 2, "previous": 12})
    before = last_id()
    retention.purge_expired(story.story.ended_at + timedelta(days=100))
    entry = the_only_new_entry(before)
    assert (entry.action, entry.actor, entry.group, entry.target_id) == ("retention.purged", None, story.group, story.story.pk)


def test_kept_records_downloads_and_deletions_are_logged(story, client):
    retention.purge_expired(story.story.ended_at + timedelta(days=400))
    record = ClientRecord.objects.get()
    client.force_login(story.marc)
    before = last_id()
    client.get(reverse("client_record_md", args=[record.pk]))
    assert the_only_new_entry(before).action == "client_record.exported"
    before = last_id()
    client.post(reverse("client_record_delete", args=[record.pk]))
    assert the_only_new_entry(before).action == "client_record.deleted"


def test_the_log_refuses_content_in_its_detail(cast):
    with pytest.raises(ValueError):
        audit.record(cast.claire, "journal.exported", note="Personne ne parle.")
    with pytest.raises(ValueError):
        audit.record(cast.claire, "something.unknown")
    assert not AuditEntry.objects.exists()


# --- the facilitator's page ----------------------------------------------------------------


def test_the_facilitator_reads_the_log_with_the_step_changes_and_no_content(story, client):
    client.force_login(story.marc)
    client.get(reverse("workshop_record_md", args=[story.story.pk]))
    client.force_login(story.claire)
    response = client.get(reverse("group_audit", args=[story.group.pk]), **EN)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Marc Lefèvre" in page and "case record exported" in page
    assert "went back to the step" in page and "before everyone had accepted the rules" in page
    assert "workshop ended early" in page and page.count("<td>given</td>") == 3  # go back, override, early end
    for secret in [*SECRETS, "Un oubli"]:
        assert secret not in page, secret
    # Newest first: the export came after the end of the workshop.
    assert page.index("case record exported") < page.index("workshop ended early") < page.index("went back to the step")
    group_page = client.get(reverse("group", args=[story.group.pk]), **EN).content.decode()
    assert reverse("group_audit", args=[story.group.pk]) in group_page


def test_after_a_purge_the_log_still_tells_the_steps(story, client):
    retention.purge_expired(story.story.ended_at + timedelta(days=400))
    client.force_login(story.claire)
    page = client.get(reverse("group_audit", args=[story.group.pk]), **EN).content.decode()
    assert "step changed (details purged)" in page and "workshop content purged" in page


def coordinator(cast):
    cast.olivier.user_permissions.add(Permission.objects.get(codename="coordinate"))
    return cast.olivier


def test_members_outsiders_and_the_coordinator_are_refused(story, client):
    url = reverse("group_audit", args=[story.group.pk])
    for user in (story.marc, story.sophie, coordinator(story)):
        client.force_login(user)
        assert client.get(url).status_code == 403, user
        assert url not in client.get(reverse("group", args=[story.group.pk])).content.decode()
    client.logout()
    assert client.get(url).status_code == 302
    client.force_login(story.claire)
    assert client.get(reverse("group_audit", args=[999999])).status_code == 404


def test_the_coordinator_counts_exports_and_nothing_else(story, client):
    assert audit.export_count(story.group) == 0
    client.force_login(story.marc)
    client.get(reverse("workshop_record_md", args=[story.story.pk]))
    client.get(reverse("journal_md"))  # personal: no group
    client.force_login(story.claire)
    client.get(reverse("session_attendance_pdf", args=[story.story.session_id]))
    client.post(reverse("group_retention", args=[story.group.pk]), {"months": "24"})  # not an export
    assert audit.export_count(story.group) == 2
    later = Workshop.objects.get(pk=story.story.pk).ended_at + timedelta(days=3650)
    assert audit.export_count(story.group, since=later) == 0
