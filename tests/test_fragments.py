"""A room's list items are rendered once for everyone who cannot act on them (workshops/fragments.py,
docs/performance.md): the remembered rendering must be the very one the member would have had, carry
nothing of another reader, and never stand in for a form the member may use."""
import uuid

from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import translation

from workshops import actions, fragments, room
from workshops.models import Workshop
from workshops.steps import Step


def page_of(cast, user) -> str:
    return room.render_room(room.context(Workshop.objects.get(pk=cast.workshop.pk), user))


def full_rendering(template: str, item: dict, ctx: dict) -> str:
    """The item as a plain include of the page would render it, with the member's whole context."""
    return render_to_string(template, {**ctx, "item": item}).strip()


def test_a_remembered_item_is_what_each_reader_would_have_seen(cast):
    workshop = cast.at_step(Step.CLARIFICATION)
    actions.ask_question(workshop.pk, cid=uuid.uuid4(), body="Avez-vous pensé à déléguer ?", acting_user=cast.sophie, anyway=True)
    actions.ask_question(workshop.pk, cid=uuid.uuid4(), body="Depuis quand ?", acting_user=cast.julien)
    workshop = cast.at_step(Step.CONTRAT)
    for member in (cast.marc, cast.sophie):
        actions.accept_rules(workshop.pk, acting_user=member)
    workshop = cast.at_step(Step.CONSULTATION)
    actions.contribute(workshop.pk, cid=uuid.uuid4(), kind="idea", body="Une idée <b>en gras</b>", acting_user=cast.julien)
    actions.contribute(workshop.pk, cid=uuid.uuid4(), kind="resource", body="Un livre", acting_user=cast.sophie)
    workshop = cast.at_step(Step.APPRENTISSAGE)
    actions.write_learning(workshop.pk, cid=uuid.uuid4(), body="J'écoute mieux.", acting_user=cast.sophie)

    for language in ("fr", "en"):
        with translation.override(language):
            for user in (cast.claire, cast.sophie, cast.marc):
                ctx = room.context(Workshop.objects.get(pk=workshop.pk), user)
                lists = {"workshops/_question.html": ctx["questions"], "workshops/_contribution.html": ctx["contributions"],
                         "workshops/_learning.html": ctx["learnings"], "workshops/_acceptance.html": ctx["acceptances"]}
                for template, items in lists.items():
                    assert items, template
                    for item in items:
                        assert fragments.item_html(template, item, ctx) == full_rendering(template, item, ctx), (language, user, template)


def test_the_advice_flag_stays_the_facilitators_whoever_rendered_first(cast):
    workshop = cast.at_step(Step.CLARIFICATION)
    actions.ask_question(workshop.pk, cid=uuid.uuid4(), body="Pourquoi ne pas en parler à votre N+1 ?", acting_user=cast.sophie, anyway=True)
    with translation.override("fr"):
        facilitator_first = page_of(cast, cast.claire)
        consultant_after = page_of(cast, cast.julien)
        facilitator_again = page_of(cast, cast.claire)
    assert "advice in disguise?" not in consultant_after and "Conseil déguisé" not in consultant_after
    flag = fragments.item_html("workshops/_question.html", room.context(Workshop.objects.get(pk=workshop.pk), cast.claire)["questions"][0],
                               {"viewer": {"is_facilitator": True}, "can": {}})
    assert 'class="badge flag"' in flag and 'class="badge flag"' in facilitator_first and 'class="badge flag"' in facilitator_again
    assert 'class="badge flag"' not in consultant_after


def test_who_may_act_on_an_item_gets_his_form_with_its_token(cast):
    workshop = cast.at_step(Step.CONSULTATION)
    actions.contribute(workshop.pk, cid=uuid.uuid4(), kind="idea", body="Une idée", acting_user=cast.julien)
    request = RequestFactory().get("/")
    request.user = cast.marc
    ctx = room.context(Workshop.objects.get(pk=workshop.pk), cast.marc)
    page = render_to_string("workshops/_room.html", ctx, request=request)
    consultant = page_of(cast, cast.sophie)

    assert 'data-type="mark_contribution"' in page and 'name="csrfmiddlewaretoken"' in page.split('id="contributions"')[1]
    assert 'data-type="mark_contribution"' not in consultant


def test_a_remembered_form_carries_each_readers_own_token(cast):
    """The client's forms are remembered with a stand-in for the token: each page gets its own."""
    workshop = cast.at_step(Step.CONSULTATION)
    actions.contribute(workshop.pk, cid=uuid.uuid4(), kind="idea", body="Une idée", acting_user=cast.julien)
    ctx = room.context(Workshop.objects.get(pk=workshop.pk), cast.marc)
    template, item = "workshops/_contribution.html", ctx["contributions"][0]
    for token in ("jeton-de-cette-page", "jeton-d-une-autre-page"):
        reader = {**ctx, "csrf_token": token}
        html = fragments.item_html(template, item, reader)
        assert html == full_rendering(template, item, reader)
        assert f'name="csrfmiddlewaretoken" value="{token}"' in html
    assert "jeton-de-cette-page" not in fragments.item_html(template, item, {**ctx, "csrf_token": "jeton-d-une-autre-page"})
    assert fragments.item_html(template, item, ctx) == full_rendering(template, item, ctx)  # a socket's: no token
