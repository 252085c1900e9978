"""The facilitator's guidance: a script per step that only he sees (on the page and over the
socket), and his self-assessment at the end, saved to his own journal."""
import re

import pytest
from channels.db import database_sync_to_async as db
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests import ws
from tests.ws import command, receive_until, send
from workshops import actions, guidance, journal
from workshops.errors import Forbidden, Invalid, Refused
from workshops.models import JournalEntry, Workshop
from workshops.steps import STEPS, Step

consumer_hygiene, sockets = ws.consumer_hygiene, ws.sockets  # fixtures for the socket tests

EVERY_LINE = [str(line) for script in (guidance.OPENING, *guidance.SCRIPTS.values()) for line in (*script.say, *script.watch)]
ALL_YES = dict.fromkeys(guidance.ITEM_KEYS, "yes")


def shows_a_script(html: str) -> bool:
    """Any trace of any script: its panel, or one of its lines (the client's name put aside)."""
    texts = [escape(line.split("%(client)s")[-1]) for line in EVERY_LINE]
    return 'id="script"' in html or any(text.strip(" ,.") in html for text in texts)


@pytest.fixture
def ended(cast):
    cast.at_step(Step.APPRENTISSAGE)
    actions.end(cast.workshop.pk, acting_user=cast.claire)
    return Workshop.objects.get(pk=cast.workshop.pk)


def assess_url(workshop) -> str:
    return reverse("workshop_self_assessment", args=[workshop.pk])


# --- the scripts ----------------------------------------------------------------------------


def test_the_opening_and_every_step_have_a_short_script():
    assert set(guidance.SCRIPTS) == set(STEPS)
    for script in (guidance.OPENING, *guidance.SCRIPTS.values()):
        assert 2 <= len(script.say) <= 4 and 2 <= len(script.watch) <= 4
        assert all(str(line).strip() for line in (*script.say, *script.watch))
    assert len(set(EVERY_LINE)) == len(EVERY_LINE), "each line says something of its own"


def test_the_script_follows_the_workshop_and_names_the_client(cast):
    opening = guidance.script_for(cast.workshop)
    assert opening["title"] and opening["say"] == [str(line) for line in guidance.OPENING.say]
    for step in Step:
        script = guidance.script_for(cast.at_step(step))
        assert script["title"] is None
        assert script["watch"] == [str(line) for line in guidance.SCRIPTS[step].watch]
        said = " ".join(script["say"])
        assert "%(" not in said
        if any("%(client)s" in str(line) for line in guidance.SCRIPTS[step].say):
            assert "Marc," in said and "Lefèvre" not in said
    actions.end(cast.workshop.pk, acting_user=cast.claire)
    assert guidance.script_for(Workshop.objects.get(pk=cast.workshop.pk)) is None


def test_the_clarification_script_warns_of_advice_in_disguise(cast):
    with translation.override("en"):
        script = guidance.script_for(cast.at_step(Step.CLARIFICATION))
        assert any("advice in disguise" in line for line in script["say"])
        consultation = guidance.script_for(cast.at_step(Step.CONSULTATION))
        assert any("argues back" in line for line in consultation["watch"])


@pytest.mark.parametrize("step", [None, *Step])
def test_the_room_page_shows_the_script_to_the_facilitator_only(cast, client, step):
    workshop = cast.at_step(step) if step else cast.workshop
    with translation.override("en"):  # the language the pages below are asked in
        expected = guidance.script_for(workshop)
        expected = {part: [str(line) for line in expected[part]] for part in ("say", "watch")}
    url = reverse("workshop", args=[workshop.pk])
    client.force_login(cast.claire)
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="script"' in page
    assert all(escape(line) in page for line in expected["say"] + expected["watch"])
    for member in (cast.marc, cast.sophie, cast.julien):
        client.force_login(member)
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert not shows_a_script(page), member


def test_the_ended_room_offers_the_self_assessment_to_the_facilitator_only(ended, cast, client):
    url = reverse("workshop", args=[ended.pk])
    client.force_login(ended.facilitator)
    page = client.get(url).content.decode()
    assert assess_url(ended) in page and 'id="script"' not in page
    for member in (cast.marc, cast.sophie, cast.julien):
        client.force_login(member)
        assert assess_url(ended) not in client.get(url).content.decode()


@pytest.mark.django_db(transaction=True)
async def test_over_the_socket_the_script_reaches_the_facilitator_only(cast, sockets):
    await db(cast.at_step)(Step.EXPOSE)
    room = {name: await sockets.open(getattr(cast, name), cast.workshop.pk, lang="en") for name in ("claire", "marc", "sophie")}
    reply, before = await command(room["claire"], {"type": "advance", "from_step": int(Step.EXPOSE)})
    assert reply["type"] == "ack"
    clarification = [str(line) for line in guidance.SCRIPTS[Step.CLARIFICATION].watch]
    for name, comm in room.items():
        early = [m for m in before if m["type"] == "snapshot"] if name == "claire" else []
        snapshot = early[0] if early else await receive_until(comm, lambda m: m["type"] == "snapshot")
        html = snapshot["ops"][0]["html"]
        if name == "claire":
            assert all(escape(line) in html for line in clarification)
        else:
            assert not shows_a_script(html), name
    # A fresh snapshot on demand (a reconnect) tells the others nothing either.
    for name in ("marc", "sophie"):
        await send(room[name], {"type": "sync", "since": 0})
        snapshot = await receive_until(room[name], lambda m: m["type"] == "snapshot")
        assert not shows_a_script(snapshot["ops"][0]["html"]), name


# --- the self-assessment --------------------------------------------------------------------


def _form(answers=None, comment="") -> dict:
    return {**(ALL_YES if answers is None else answers), "comment": comment}


def test_the_facilitator_fills_it_in_and_finds_it_in_his_journal_and_its_export(ended, client):
    client.force_login(ended.facilitator)
    page = client.get(assess_url(ended), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert page.count("<fieldset") == len(guidance.CHECKLIST) and "csrfmiddlewaretoken" in page
    answers = {**ALL_YES, "voices": "partly", "listening": "no"}
    response = client.post(assess_url(ended), _form(answers, "Couper plus tôt les « oui, mais »."), HTTP_ACCEPT_LANGUAGE="en")
    entry = JournalEntry.objects.get(owner=ended.facilitator)
    assert response.status_code == 302 and response.url == reverse("journal") + f"#entry-{entry.pk}"
    assert "Groupe Test" in entry.body and ended.title in entry.body
    assert "- Partly — Every consultant could speak" in entry.body
    assert "- No — In consultation, the client listened" in entry.body
    assert entry.body.count("- Yes — ") == len(guidance.CHECKLIST) - 2
    journal_page = client.get(reverse("journal"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'id="entry-{entry.pk}"' in journal_page and "Couper plus tôt les « oui, mais »." in journal_page
    assert "Your self-assessment is in your journal" in journal_page
    export = client.get(reverse("journal_md"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Self-assessment of my facilitation" in export and "Couper plus tôt les « oui, mais »." in export
    assert "Partly — Every consultant could speak" in export


def test_nobody_else_reads_his_self_assessment(ended, cast, client):
    guidance.save_self_assessment(ended.pk, acting_user=ended.facilitator, answers=ALL_YES, comment="Mon doute d'animateur")
    for member in (cast.marc, cast.sophie, cast.julien):
        client.force_login(member)
        for url in (reverse("journal"), reverse("journal_md"), reverse("workshop", args=[ended.pk])):
            assert "Mon doute" not in client.get(url).content.decode()


@pytest.mark.parametrize("who", ["marc", "sophie", "olivier"])
def test_only_the_workshops_facilitator_may_assess_it(ended, cast, client, who):
    user = getattr(cast, who)
    client.force_login(user)
    assert client.get(assess_url(ended)).status_code == 403
    assert client.post(assess_url(ended), _form()).status_code == 403
    with pytest.raises(Forbidden):
        guidance.save_self_assessment(ended.pk, acting_user=user, answers=ALL_YES)
    assert not JournalEntry.objects.exists()


def test_an_unknown_workshop_is_not_found_and_a_visitor_signs_in_first(ended, client):
    response = client.get(assess_url(ended))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    client.force_login(ended.facilitator)
    assert client.get(reverse("workshop_self_assessment", args=[ended.pk + 1000])).status_code == 404


@pytest.mark.parametrize("step", [None, Step.EXPOSE, Step.APPRENTISSAGE])
def test_it_opens_only_once_the_workshop_has_ended(cast, client, step):
    workshop = cast.at_step(step) if step else cast.workshop
    client.force_login(cast.claire)
    page = client.get(assess_url(workshop), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and "opens once the workshop has ended" in page.content.decode()
    assert "<fieldset" not in page.content.decode()
    response = client.post(assess_url(workshop), _form(), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert 'role="alert">The self-assessment opens once the workshop has ended.' in response.content.decode()  # said as an error
    with pytest.raises(Refused):
        guidance.save_self_assessment(workshop.pk, acting_user=cast.claire, answers=ALL_YES)
    assert not JournalEntry.objects.exists()


def test_an_unanswered_point_is_refused_clearly_and_nothing_typed_is_lost(ended, client):
    client.force_login(ended.facilitator)
    answers = {**ALL_YES, "plan": "", "rules": "maybe", "voices": "partly"}
    response = client.post(assess_url(ended), _form(answers, "Mon commentaire à garder"), HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert response.status_code == 400 and "2 are still unanswered" in page
    assert not JournalEntry.objects.exists()
    assert "Mon commentaire à garder" in page
    assert re.search(r'name="voices" value="partly" required checked', page), "his answers stay chosen"
    assert page.count('class="row missing"') == 2


def test_an_oversized_comment_is_refused_and_kept_in_the_form(ended, client):
    client.force_login(ended.facilitator)
    comment = "x" * (guidance.COMMENT_LIMIT + 1)
    response = client.post(assess_url(ended), _form(comment=comment), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and "too long" in response.content.decode()
    assert comment in response.content.decode() and not JournalEntry.objects.exists()


def test_the_longest_self_assessment_stays_editable_in_the_journal(ended):
    entry = guidance.save_self_assessment(ended.pk, acting_user=ended.facilitator, answers=ALL_YES,
                                          comment="é" * guidance.COMMENT_LIMIT)
    journal.edit_entry(ended.facilitator, entry.pk, body=entry.body)  # within the journal's own limit


def test_each_saving_adds_an_entry_but_a_double_click_keeps_one(ended):
    first = guidance.save_self_assessment(ended.pk, acting_user=ended.facilitator, answers=ALL_YES, comment="À chaud")
    again = guidance.save_self_assessment(ended.pk, acting_user=ended.facilitator, answers=ALL_YES, comment="À chaud")
    assert again == first and JournalEntry.objects.count() == 1
    later = guidance.save_self_assessment(ended.pk, acting_user=ended.facilitator, answers={**ALL_YES, "time": "no"},
                                          comment="Avec du recul")
    assert later != first and JournalEntry.objects.count() == 2
    first.refresh_from_db()
    assert "À chaud" in first.body, "an earlier self-assessment is never overwritten"


@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answers=st.dictionaries(st.sampled_from([*guidance.ITEM_KEYS, "other"]),
                               st.sampled_from(["yes", "partly", "no", "", "YES", "oui"]) | st.text(max_size=5)),
       comment=st.text(max_size=50))
def test_any_input_is_saved_whole_or_refused_with_nothing_saved(ended, answers, comment):
    before = JournalEntry.objects.count()
    try:
        entry = guidance.save_self_assessment(ended.pk, acting_user=ended.facilitator, answers=answers, comment=comment)
    except Invalid as error:
        assert error.message and JournalEntry.objects.count() == before
        return
    assert not guidance.unanswered(answers)
    assert all(str(label) in entry.body for _key, label in guidance.CHECKLIST)
    entry.delete()
