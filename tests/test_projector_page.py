"""The projector view: what the whole group sees of the step, large, with no control, to members only."""
from django.urls import reverse

from workshops import actions
from workshops.steps import Step


def url(cast, fragment=False) -> str:
    return reverse("workshop_projector", args=[cast.workshop.pk]) + ("?fragment=1" if fragment else "")


def test_it_shows_the_step_its_rule_and_what_was_said_in_it(cast, cid, client):
    workshop = cast.at_step(Step.CLARIFICATION)
    actions.ask_question(workshop.pk, cid=cid(), body="Depuis quand ?", acting_user=cast.sophie)
    actions.ask_question(workshop.pk, cid=cid(), body="Avez-vous pensé à déléguer ?", anyway=True, acting_user=cast.julien)
    actions.write_note(workshop.pk, cid=cid(), body="ma note secrète", acting_user=cast.claire)
    client.force_login(cast.claire)  # the facilitator's laptop on the room's screen
    page = client.get(url(cast)).content.decode()
    assert "Depuis quand ?" in page and "Avez-vous pensé à déléguer ?" in page
    assert 'id="projector-rule"' in page and 'id="timer"' in page
    assert "ma note secrète" not in page  # his notes are his, not the room's
    assert "badge flag" not in page  # nor his flags
    for control in ("<form", "<button", "<input", "<select", "<textarea"):
        assert control not in page, control


def test_each_step_shows_its_own_texts(cast, cid, client):
    workshop = cast.at_step(Step.CONSULTATION)
    actions.contribute(workshop.pk, cid=cid(), kind="idea", body="Un tour de table", acting_user=cast.sophie)
    client.force_login(cast.julien)
    fragment = client.get(url(cast, fragment=True)).content.decode()
    assert "Un tour de table" in fragment and "<html" not in fragment
    cast.at_step(Step.APPRENTISSAGE)
    actions.write_learning(workshop.pk, cid=cid(), body="Écouter avant de proposer", acting_user=cast.marc)
    fragment = client.get(url(cast, fragment=True)).content.decode()
    assert "Écouter avant de proposer" in fragment and "Un tour de table" not in fragment


def test_members_only(cast, client):
    client.force_login(cast.olivier)
    assert client.get(url(cast)).status_code == 403
    client.logout()
    assert client.get(url(cast)).status_code == 302
    client.force_login(cast.marc)
    assert client.get(url(cast)).status_code == 200
