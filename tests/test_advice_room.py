"""Advice in disguise in the room: the consultant gets a hint and may post anyway; the facilitator
sees the flag. Nothing is stored until he decides."""
import pytest
from channels.db import database_sync_to_async as db
from django.urls import reverse

from tests import ws
from tests.ws import command
from workshops import actions, room
from workshops.errors import AdviceHint
from workshops.models import Contribution
from workshops.steps import Step

ADVICE = "Avez-vous pensé à déléguer le planning à un des anciens ?"
QUESTION = "Depuis quand l'équipe ne parle-t-elle plus en réunion ?"


def test_a_disguised_advice_comes_back_with_a_hint_and_nothing_is_stored(cast, cid):
    cast.at_step(Step.CLARIFICATION)
    with pytest.raises(AdviceHint) as refused:
        actions.ask_question(cast.workshop.pk, cid=cid(), body=ADVICE, acting_user=cast.sophie)
    assert "Consultation" in refused.value.message
    assert not Contribution.objects.exists()


def test_a_real_question_goes_straight_through_unflagged(cast, cid):
    cast.at_step(Step.CLARIFICATION)
    item = actions.ask_question(cast.workshop.pk, cid=cid(), body=QUESTION, acting_user=cast.sophie)
    assert item.flagged is False


def test_posted_anyway_it_is_flagged_for_the_facilitator_only(cast, cid):
    cast.at_step(Step.CLARIFICATION)
    item = actions.ask_question(cast.workshop.pk, cid=cid(), body=ADVICE, anyway=True, acting_user=cast.sophie)
    assert item.flagged
    facilitator = room.render_room(room.context(cast.workshop, cast.claire))
    client = room.render_room(room.context(cast.workshop, cast.marc))
    assert 'class="badge flag"' in facilitator and 'class="badge flag"' not in client
    assert ADVICE.replace("'", "&#x27;") in client  # the client still gets the question


def test_the_hint_is_checked_after_the_rules(cast, cid):
    """An outsider or a wrong step gets the usual refusal, not a hint about his wording."""
    from workshops.errors import Forbidden, Refused

    cast.at_step(Step.CONSULTATION)
    with pytest.raises(Refused):
        actions.ask_question(cast.workshop.pk, cid=cid(), body=ADVICE, acting_user=cast.sophie)
    with pytest.raises(Forbidden):
        actions.ask_question(cast.workshop.pk, cid=cid(), body=ADVICE, acting_user=cast.olivier)


def test_without_javascript_the_hint_is_shown_and_the_box_posts_anyway(client, cast, cid):
    cast.at_step(Step.CLARIFICATION)
    client.force_login(cast.sophie)
    url = reverse("workshop_act", args=[cast.workshop.pk])
    page = client.post(url, {"type": "ask_question", "cid": cid(), "body": ADVICE}, follow=True).content.decode()
    assert "Consultation" in page and 'name="anyway"' in page
    client.post(url, {"type": "ask_question", "cid": cid(), "body": ADVICE, "anyway": "1"})
    assert Contribution.objects.get().flagged


@pytest.mark.django_db(transaction=True)
async def test_over_the_socket_the_hint_has_its_own_code_and_posting_anyway_works(cast, sockets):
    await db(cast.at_step)(Step.CLARIFICATION)
    sophie = await sockets.open(cast.sophie, cast.workshop.pk)
    reply, _ = await command(sophie, {"type": "ask_question", "cid": "0b0c3c1e-4a57-4d0f-9b7e-7f1e5a9d2c11", "body": ADVICE})
    assert reply["type"] == "error" and reply["code"] == "advice" and "Consultation" in reply["message"]
    reply, _ = await command(sophie, {"type": "ask_question", "cid": "0b0c3c1e-4a57-4d0f-9b7e-7f1e5a9d2c11", "body": ADVICE, "anyway": True})
    assert reply["type"] == "ack"
    assert await db(Contribution.objects.filter(flagged=True).count)() == 1


consumer_hygiene, sockets = ws.consumer_hygiene, ws.sockets
