"""The record of his case that the client takes away, and nobody else."""
import io
import re

import pytest
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from workshops import actions, records
from workshops.errors import Forbidden, Refused
from workshops.models import PlannedAction, Workshop
from workshops.steps import Step

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def story(cast, cid):
    """A whole workshop on Marc's case, through the domain actions."""
    cast.case.context, cast.case.tried = "Une équipe de six reprise en mars", "Des réunions hebdomadaires"
    cast.case.save()
    w = cast.at_step(Step.CLARIFICATION).pk
    question = actions.ask_question(w, cid=cid(), body="Depuis quand ce silence ?", acting_user=cast.sophie)
    actions.answer_question(w, question_id=question.pk, body="Depuis mon arrivée", acting_user=cast.marc)
    actions.ask_question(w, cid=cid(), body="Qui parlait avant ?", acting_user=cast.julien)
    cast.at_step(Step.CONTRAT)
    actions.write_request(w, request="Aidez-moi à faire parler l'équipe", help_kinds=["ideas", "reframing"], acting_user=cast.marc)
    cast.at_step(Step.CONSULTATION)
    left = actions.contribute(w, cid=cid(), kind="resource", body="Un livre sur le silence", acting_user=cast.sophie)
    kept = actions.contribute(w, cid=cid(), kind="idea", body="Des entretiens individuels", acting_user=cast.julien)
    explore = actions.contribute(w, cid=cid(), kind="experience", body="Mon équipe muette en 2019", acting_user=cast.sophie)
    actions.mark_contribution(w, contribution_id=kept.pk, mark="keep", acting_user=cast.marc)
    actions.mark_contribution(w, contribution_id=explore.pk, mark="explore", acting_user=cast.marc)
    cast.at_step(Step.PLAN)
    actions.add_action(w, cid=cid(), what="Voir chacun en tête-à-tête", first_step="Envoyer les invitations",
                       due="2026-12-31", success_sign="Chacun a parlé", kept=[kept.pk], acting_user=cast.marc)
    PlannedAction.objects.filter(workshop_id=w).update(followup=PlannedAction.DONE, followup_comment="Fait en janvier")
    cast.at_step(Step.APPRENTISSAGE)
    cast.contributions = {"kept": kept, "explore": explore, "left": left}
    return cast


def record_url(cast, ext):
    return reverse(f"workshop_record_{ext}", args=[cast.workshop.pk])


def pdf_text(content: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return re.sub(r"\s+", " ", text)


EXPECTED = [
    "Reprendre une équipe", "Personne ne parle.", "Une équipe de six reprise en mars", "Des réunions hebdomadaires",
    "Depuis quand ce silence ?", "Depuis mon arrivée", "Sophie Bernard", "Qui parlait avant ?", "Julien Petit",
    "Aidez-moi à faire parler l'équipe", "ideas", "reframing",
    "Des entretiens individuels", "Mon équipe muette en 2019", "Un livre sur le silence",
    "Voir chacun en tête-à-tête", "Envoyer les invitations", "Chacun a parlé", "Fait en janvier",
]


def test_the_client_downloads_his_record_in_markdown(story, client):
    client.force_login(story.marc)
    response = client.get(record_url(story, "md"), **EN)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/markdown")
    text = response.content.decode()
    for expected in EXPECTED:
        assert expected in text, expected
    kept_line = next(line for line in text.splitlines() if "Des entretiens individuels" in line)
    explore_line = next(line for line in text.splitlines() if "Mon équipe muette" in line)
    left_line = next(line for line in text.splitlines() if "Un livre sur le silence" in line)
    assert "kept" in kept_line and "to explore" in explore_line and "kept" not in left_line
    assert text.index("Des entretiens individuels") < text.index("Mon équipe muette") < text.index("Un livre sur le silence")


def test_the_client_downloads_his_record_as_pdf(story, client):
    client.force_login(story.marc)
    response = client.get(record_url(story, "pdf"), **EN)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    text = pdf_text(response.content)
    for expected in EXPECTED:
        assert expected in text, expected
    assert text.index("Des entretiens individuels") < text.index("Un livre sur le silence"), "kept ones first"
    assert "kept" in text and "to explore" in text


def test_kept_contributions_come_first_in_the_record(story):
    with translation.override("en"):
        record = records.client_record(Workshop.objects.get(pk=story.workshop.pk), story.marc)
    assert [c.mark for c in record.contributions] == ["keep", "explore", ""]
    assert record.help_kinds == ["ideas", "reframing"]


@pytest.mark.parametrize("who", ["claire", "sophie", "julien"])
def test_other_members_get_403(story, client, who):
    client.force_login(getattr(story, who))
    for ext in ("md", "pdf"):
        response = client.get(record_url(story, ext))
        assert response.status_code == 403
        assert "Depuis mon arrivée".encode() not in response.content
    with pytest.raises(Forbidden):
        records.client_record(Workshop.objects.get(pk=story.workshop.pk), getattr(story, who))


def test_outsiders_and_missing_workshops_are_refused(story, client):
    client.force_login(story.olivier)
    assert client.get(record_url(story, "md")).status_code == 403
    client.force_login(story.marc)
    assert client.get(reverse("workshop_record_md", args=[story.workshop.pk + 999])).status_code == 404
    client.logout()
    response = client.get(record_url(story, "pdf"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_there_is_no_record_before_the_start(cast, client):
    actions.designate_case(cast.workshop.pk, cast.case.pk, acting_user=cast.claire)
    with pytest.raises(Refused):
        records.client_record(Workshop.objects.get(pk=cast.workshop.pk), cast.marc)
    client.force_login(cast.marc)
    response = client.get(record_url(cast, "md"), follow=True, **EN)
    assert response.status_code == 200 and "has not started" in response.content.decode()


def test_what_the_client_typed_stays_text(cast, client, cid):
    w = cast.at_step(Step.EXPOSE).pk
    actions.edit_case(w, fields={"title": "# Titre [piège](http://x.example)", "problem": "<b>gras</b>"}, acting_user=cast.marc)
    client.force_login(cast.marc)
    text = client.get(record_url(cast, "md")).content.decode()
    assert text.startswith(r"# \# Titre \[piège\]")
    assert r"\<b\>gras\</b\>" in text
    assert "<b>gras</b>" in pdf_text(client.get(record_url(cast, "pdf")).content), "autoescaped, printed as typed"


def test_the_group_page_offers_the_client_his_records(story, client):
    client.force_login(story.marc)
    page = client.get(reverse("group", args=[story.group.pk])).content.decode()
    assert record_url(story, "md") in page and record_url(story, "pdf") in page
    client.force_login(story.sophie)
    assert record_url(story, "md") not in client.get(reverse("group", args=[story.group.pk])).content.decode()
