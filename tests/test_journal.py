"""The learning journal: its owner's writing gathered across workshops, read by nobody else."""
import io
import re

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader

from workshops import actions, journal
from workshops import markdown as md
from workshops.errors import Invalid, NotFound
from workshops.models import JournalEntry, PlannedAction
from workshops.steps import Step


@pytest.fixture
def story(cast, cid):
    """A workshop where everyone wrote something of his own."""
    w = cast.at_step(Step.EXPOSE).pk
    actions.write_note(w, cid=cid(), body="Note de Sophie pendant l'exposé", acting_user=cast.sophie)
    actions.write_note(w, cid=cid(), body="Note de Marc sur son cas", acting_user=cast.marc)
    actions.write_note(w, cid=cid(), body="Note de Claire sur le rythme", acting_user=cast.claire)
    cast.at_step(Step.PLAN)
    actions.add_action(w, cid=cid(), what="Rencontrer chaque personne", first_step="Caler les rendez-vous",
                       acting_user=cast.marc)
    PlannedAction.objects.filter(workshop_id=w).update(followup=PlannedAction.IN_PROGRESS, followup_comment="Deux sur cinq")
    cast.at_step(Step.APPRENTISSAGE)
    actions.write_learning(w, cid=cid(), body="Apprentissage de Sophie", acting_user=cast.sophie)
    actions.write_learning(w, cid=cid(), body="Apprentissage de Marc", acting_user=cast.marc)
    JournalEntry.objects.create(owner=cast.marc, body="Entrée libre de Marc")
    JournalEntry.objects.create(owner=cast.sophie, body="Entrée libre de Sophie")
    return cast


def bodies(user) -> set[str]:
    found = set()
    for part in journal.entries(user):
        if part.kind == "entry":
            found.add(part.entry.body)
        else:
            found |= {i.body for i in part.learnings} | {i.body for i in part.notes} | {a.what for a in part.actions}
    return found


def test_it_gathers_the_four_sources_for_their_owner_only(story):
    assert bodies(story.marc) == {
        "Note de Marc sur son cas", "Rencontrer chaque personne", "Apprentissage de Marc", "Entrée libre de Marc",
    }
    assert bodies(story.sophie) == {"Note de Sophie pendant l'exposé", "Apprentissage de Sophie", "Entrée libre de Sophie"}
    assert bodies(story.claire) == {"Note de Claire sur le rythme"}, "the client's plan is not the facilitator's"
    assert bodies(story.olivier) == set()


def test_each_workshop_part_is_labelled_with_group_title_and_date(story, client):
    part = next(p for p in journal.entries(story.marc) if p.kind == "workshop")
    assert part.group.name == "Groupe Test" and part.title == story.workshop.title and part.at is not None
    client.force_login(story.marc)
    page = client.get(reverse("journal")).content.decode()
    assert "Groupe Test" in page and story.workshop.title in page
    assert "Deux sur cinq" in page, "the plan shows its follow-up"


def test_the_page_shows_only_my_own_writing(story, client):
    client.force_login(story.sophie)
    page = client.get(reverse("journal")).content.decode()
    assert "Apprentissage de Sophie" in page and "Entrée libre de Sophie" in page
    for other in ("Note de Marc", "Apprentissage de Marc", "Entrée libre de Marc", "Rencontrer chaque personne", "Note de Claire"):
        assert other not in page


def test_parts_are_in_date_order_across_groups(story, cid):
    from django.utils import timezone

    old = JournalEntry.objects.create(owner=story.marc, body="Bien avant", created_at=timezone.now() - timezone.timedelta(days=400))
    parts = journal.entries(story.marc)
    assert parts[0].kind == "entry" and parts[0].entry == old
    assert [p.at for p in parts] == sorted(p.at for p in parts)


# --- free entries -------------------------------------------------------------------------


def test_a_member_adds_edits_and_deletes_his_free_entries(cast, client):
    client.force_login(cast.sophie)
    response = client.post(reverse("journal_add"), {"body": "Oser demander de l'aide"}, follow=True)
    entry = JournalEntry.objects.get(owner=cast.sophie)
    assert "Oser demander de l&#x27;aide" in response.content.decode()
    client.post(reverse("journal_edit", args=[entry.pk]), {"body": "Oser demander de l'aide, tôt"})
    entry.refresh_from_db()
    assert entry.body == "Oser demander de l'aide, tôt"
    client.post(reverse("journal_delete", args=[entry.pk]))
    assert not JournalEntry.objects.exists()


@pytest.mark.parametrize("body, message", [("   ", "cannot be empty"), ("x" * 5001, "too long")])
def test_an_empty_or_oversized_entry_is_refused_clearly_and_kept_in_the_form(cast, client, body, message):
    client.force_login(cast.sophie)
    response = client.post(reverse("journal_add"), {"body": body}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and message in response.content.decode()
    assert not JournalEntry.objects.exists()
    if body.strip():
        assert body in response.content.decode(), "what was typed comes back in the form"


@pytest.mark.parametrize("body", ["", "x" * 5001])
def test_a_refused_edit_keeps_the_saved_text(cast, client, body):
    entry = JournalEntry.objects.create(owner=cast.sophie, body="Ce que j'avais écrit")
    client.force_login(cast.sophie)
    response = client.post(reverse("journal_edit", args=[entry.pk]), {"body": body})
    assert response.status_code == 400
    entry.refresh_from_db()
    assert entry.body == "Ce que j'avais écrit"
    with pytest.raises(Invalid):
        journal.edit_entry(cast.sophie, entry.pk, body=body)


@pytest.mark.parametrize("who", ["claire", "marc", "olivier"])
def test_nobody_else_reads_edits_or_deletes_an_entry(cast, client, who):
    entry = JournalEntry.objects.create(owner=cast.sophie, body="Mon doute secret")
    other = getattr(cast, who)
    client.force_login(other)
    assert client.get(reverse("journal_edit", args=[entry.pk])).status_code == 404
    assert client.post(reverse("journal_edit", args=[entry.pk]), {"body": "écrasé"}).status_code == 404
    assert client.post(reverse("journal_delete", args=[entry.pk])).status_code == 404
    entry.refresh_from_db()
    assert entry.body == "Mon doute secret"
    for url in (reverse("journal"), reverse("journal_md")):
        assert "Mon doute secret" not in client.get(url).content.decode()
    with pytest.raises(NotFound):
        journal.delete_entry(other, entry.pk)


def test_a_missing_entry_and_an_unknown_one_look_the_same(cast, client):
    entry = JournalEntry.objects.create(owner=cast.sophie, body="À moi")
    client.force_login(cast.marc)
    theirs = client.get(reverse("journal_edit", args=[entry.pk]))
    missing = client.get(reverse("journal_edit", args=[entry.pk + 1000]))
    assert theirs.status_code == missing.status_code == 404
    assert b"moi" not in theirs.content


def test_an_anonymous_visitor_is_sent_to_sign_in(cast, client):
    for url in (reverse("journal"), reverse("journal_md"), reverse("journal_pdf")):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_deleting_needs_a_post(cast, client):
    entry = JournalEntry.objects.create(owner=cast.sophie, body="Reste là")
    client.force_login(cast.sophie)
    assert client.get(reverse("journal_delete", args=[entry.pk])).status_code == 405
    assert JournalEntry.objects.filter(pk=entry.pk).exists()


# --- exports ------------------------------------------------------------------------------


def test_the_markdown_export_holds_my_journal(story, client):
    client.force_login(story.marc)
    response = client.get(reverse("journal_md"))
    assert response["Content-Type"].startswith("text/markdown") and "attachment" in response["Content-Disposition"]
    text = response.content.decode()
    for body in ("Note de Marc sur son cas", "Rencontrer chaque personne", "Caler les rendez-vous", "Apprentissage de Marc",
                 "Entrée libre de Marc", "Groupe Test"):
        assert body in text
    assert "Sophie" not in text and "Claire" not in text


def test_typed_text_cannot_forge_markdown_structure(cast):
    JournalEntry.objects.create(owner=cast.sophie, body="# Faux titre\n[lien](http://x.example) <b>gras</b>\n`code`")
    text = journal.to_markdown(cast.sophie)
    assert not re.search(r"^# Faux", text, re.M)
    assert "\\# Faux titre  \n" in text, "his line breaks are kept"
    assert r"\[lien\]" in text and r"\<b\>" in text and r"\`code\`" in text


def test_the_pdf_export_holds_my_journal(story, client):
    client.force_login(story.marc)
    response = client.get(reverse("journal_pdf"))
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    for body in ("Note de Marc sur son cas", "Rencontrer chaque personne", "Apprentissage de Marc", "Entrée libre de Marc"):
        assert body in text
    assert "Sophie" not in text


@given(st.text(max_size=200))
def test_escaped_lines_never_start_a_markdown_block_or_open_a_link(value):
    for line in re.split(r"\r\n|\r|\n", md.text(value)):
        assert not re.match(r"\s*(#|>|[-+*=~]|\d+[.)]|`{3})", line), line
        assert not re.search(r"(?<!\\)[\[\]<>`]", line.replace("\\\\", "")), line
