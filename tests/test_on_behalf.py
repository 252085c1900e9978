"""In the room, the facilitator types a question, a contribution or a learning for a participant
without a screen: the text is that participant's, the log says who typed it, and only the
facilitator may do it, only for someone who may say it in this step."""
import pytest
from channels.db import database_sync_to_async as db
from django.utils import translation

from tests import ws
from tests.ws import command, events_of, receive_until
from workshops import actions, dispatch, room
from workshops.errors import NotFound, Refused
from workshops.models import Contribution, Event, Learning
from workshops.steps import REFUSALS, Act, Step


def last_event(workshop) -> Event:
    return Event.objects.filter(workshop=workshop).order_by("-seq").first()


# --- the domain -----------------------------------------------------------------------------


def test_the_facilitator_asks_for_a_consultant_in_the_room(cast, cid):
    workshop = cast.at_step(Step.CLARIFICATION)
    item = actions.ask_question(workshop.pk, cid=cid(), body="Depuis quand ?", on_behalf_of=cast.julien.pk, acting_user=cast.claire)
    assert item.author == cast.julien
    event = last_event(workshop)
    assert event.kind == "question.asked" and event.actor == cast.claire
    assert event.payload["contribution"]["author"]["id"] == cast.julien.pk
    assert event.payload["contribution"]["typed_by"] == {"id": cast.claire.pk, "name": "Claire Morel"}


def test_a_contribution_and_a_learning_for_someone_else(cast, cid):
    workshop = cast.at_step(Step.CONSULTATION)
    said = actions.contribute(workshop.pk, cid=cid(), kind="idea", body="Un tour de table", on_behalf_of=cast.sophie.pk, acting_user=cast.claire)
    assert (said.author, said.kind, said.step) == (cast.sophie, "idea", Step.CONSULTATION)
    workshop = cast.at_step(Step.APPRENTISSAGE)
    learned = actions.write_learning(workshop.pk, cid=cid(), body="Écouter d'abord", on_behalf_of=cast.marc.pk, acting_user=cast.claire)
    assert learned.author == cast.marc  # the client writes learnings too
    assert last_event(workshop).payload["learning"]["typed_by"]["id"] == cast.claire.pk
    own = actions.write_learning(workshop.pk, cid=cid(), body="Tenir le temps", on_behalf_of=cast.claire.pk, acting_user=cast.claire)
    assert own.author == cast.claire and "typed_by" not in last_event(workshop).payload["learning"]


def test_what_one_types_oneself_says_nothing_of_a_typist(cast, cid):
    workshop = cast.at_step(Step.CLARIFICATION)
    actions.ask_question(workshop.pk, cid=cid(), body="Et l'équipe ?", acting_user=cast.sophie)
    assert "typed_by" not in last_event(workshop).payload["contribution"]


@pytest.mark.parametrize(
    ("step", "act", "kwargs"),
    [
        (Step.CLARIFICATION, actions.ask_question, {"body": "Pourquoi ?"}),
        (Step.CONSULTATION, actions.contribute, {"kind": "idea", "body": "Une idée"}),
        (Step.APPRENTISSAGE, actions.write_learning, {"body": "Appris"}),
    ],
)
def test_only_the_facilitator_types_for_someone_else(cast, cid, step, act, kwargs):
    workshop = cast.at_step(step)
    with translation.override("en"), pytest.raises(Refused, match="Only the facilitator"):
        act(workshop.pk, cid=cid(), on_behalf_of=cast.julien.pk, acting_user=cast.sophie, **kwargs)
    assert not Contribution.objects.filter(author=cast.julien).exists()
    assert not Learning.objects.filter(author=cast.julien).exists()


def test_only_for_someone_who_may_say_it_in_this_step(cast, cid):
    workshop = cast.at_step(Step.CLARIFICATION)
    with translation.override("en"):
        with pytest.raises(Refused) as refused:
            actions.ask_question(workshop.pk, cid=cid(), body="Pourquoi ?", on_behalf_of=cast.marc.pk, acting_user=cast.claire)
        assert refused.value.message == str(REFUSALS[Act.ASK_QUESTION])  # the client does not question himself
    with pytest.raises(Refused):  # contributions wait for the consultation
        actions.contribute(workshop.pk, cid=cid(), kind="idea", body="Idée", on_behalf_of=cast.sophie.pk, acting_user=cast.claire)
    with pytest.raises(NotFound):  # not a member of this group
        actions.ask_question(workshop.pk, cid=cid(), body="Pourquoi ?", on_behalf_of=cast.olivier.pk, acting_user=cast.claire)
    with pytest.raises(NotFound):
        actions.ask_question(workshop.pk, cid=cid(), body="Pourquoi ?", on_behalf_of=987654, acting_user=cast.claire)
    assert not Contribution.objects.exists()


def test_a_question_typed_for_someone_is_screened_for_advice_like_any(cast, cid):
    workshop = cast.at_step(Step.CLARIFICATION)
    advice = "Avez-vous pensé à déléguer le planning ?"
    with pytest.raises(Exception) as hinted:
        actions.ask_question(workshop.pk, cid=cid(), body=advice, on_behalf_of=cast.sophie.pk, acting_user=cast.claire)
    assert hinted.value.code == "advice"
    item = actions.ask_question(workshop.pk, cid=cid(), body=advice, anyway=True, on_behalf_of=cast.sophie.pk, acting_user=cast.claire)
    assert item.flagged and item.author == cast.sophie


def test_the_form_path_carries_the_person(cast, cid):
    workshop = cast.at_step(Step.CONSULTATION)
    message = {"type": "contribute", "cid": cid(), "kind": "experience", "body": "Vécu", "on_behalf_of": str(cast.julien.pk)}
    item = dispatch.perform(workshop.pk, cast.claire, message)
    assert item.author == cast.julien


def test_the_room_offers_the_choice_to_the_facilitator_only(cast, client):
    workshop = cast.at_step(Step.CLARIFICATION)
    client.force_login(cast.claire)
    page = client.get(f"/workshops/{workshop.pk}/").content.decode()
    assert 'name="on_behalf_of"' in page
    assert f'<option value="{cast.sophie.pk}">Sophie Bernard</option>' in page
    assert f'<option value="{cast.marc.pk}">' not in page  # the client asks no question
    client.force_login(cast.sophie)
    assert 'name="on_behalf_of"' not in client.get(f"/workshops/{workshop.pk}/").content.decode()


def test_the_mark_stays_on_the_item_after_a_reload(cast, cid, client):
    workshop = cast.at_step(Step.CLARIFICATION)
    actions.ask_question(workshop.pk, cid=cid(), body="Qui décide ?", on_behalf_of=cast.julien.pk, acting_user=cast.claire)
    actions.ask_question(workshop.pk, cid=cid(), body="Depuis quand ?", acting_user=cast.sophie)
    with translation.override("en"):
        ctx = room.context(workshop, cast.marc)
        typed = {q["body"]: q.get("typed_by") for q in ctx["questions"]}
        assert typed == {"Qui décide ?": {"id": cast.claire.pk, "name": "Claire Morel"}, "Depuis quand ?": None}
    client.force_login(cast.marc)
    page = client.get(f"/workshops/{workshop.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert page.count('class="typed-by"') == 1


# --- over the socket ------------------------------------------------------------------------

consumer_hygiene, sockets = ws.consumer_hygiene, ws.sockets


@pytest.mark.django_db(transaction=True)
async def test_everyone_sees_it_live_as_the_participants_with_the_typist_named(cast, sockets, cid):
    await db(cast.at_step)(Step.CONSULTATION)
    claire = await sockets.open(cast.claire, cast.workshop.pk, lang="en")
    julien = await sockets.open(cast.julien, cast.workshop.pk, lang="en")
    message = {"type": "contribute", "cid": cid(), "kind": "idea", "body": "Un binôme ancien-jeune", "on_behalf_of": cast.julien.pk}
    answer, _before = await command(claire, message)
    assert answer["type"] == "ack"
    event = await receive_until(julien, lambda m: m["type"] == "event" and m["kind"] == "contribution.added")
    assert event["data"]["contribution"]["author"]["name"] == "Julien Petit"
    html = event["ops"][0]["html"]
    assert "Julien Petit" in html and "typed by the facilitator" in html


@pytest.mark.django_db(transaction=True)
async def test_a_consultant_cannot_put_words_in_anothers_mouth(cast, sockets, cid):
    await db(cast.at_step)(Step.CLARIFICATION)
    sophie = await sockets.open(cast.sophie, cast.workshop.pk, lang="en")
    message = {"type": "ask_question", "cid": cid(), "body": "Qui ?", "on_behalf_of": cast.julien.pk}
    answer, before = await command(sophie, message)
    assert (answer["code"], answer["message"]) == ("refused", "Only the facilitator can do this.")
    assert events_of(before) == []
    assert not await db(Contribution.objects.exists)()
