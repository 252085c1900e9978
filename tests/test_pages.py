"""Pages as members, outsiders and anonymous visitors meet them."""
import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.tokens import signin_path, signin_tokens
from workshops.models import Contribution, Group, Membership, Workshop
from workshops.steps import Step


def room_url(cast):
    return reverse("workshop", args=[cast.workshop.pk])


def test_an_anonymous_visitor_is_sent_to_sign_in(client, cast):
    for url in (reverse("home"), room_url(cast), reverse("group", args=[cast.group.pk])):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_an_outsider_gets_403_and_no_content(client, cast):
    client.force_login(cast.olivier)
    for url in (room_url(cast), reverse("group", args=[cast.group.pk])):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="fr")
        assert response.status_code == 403
        assert cast.case.title.encode() not in response.content
        assert b"Marc" not in response.content


def test_an_outsider_cannot_post_to_the_room(client, cast, cid):
    cast.at_step(Step.CLARIFICATION)
    client.force_login(cast.olivier)
    response = client.post(reverse("workshop_act", args=[cast.workshop.pk]), {"type": "ask_question", "cid": cid(), "body": "?"})
    assert response.status_code == 403
    assert not Contribution.objects.exists()


def test_a_missing_workshop_is_404(client, cast):
    client.force_login(cast.sophie)
    assert client.get(reverse("workshop", args=[9999])).status_code == 404


def test_home_lists_only_my_groups_and_workshops(client, cast):
    Workshop.objects.create(group=Group.objects.get(name="Autre groupe"), title="Séance secrète", facilitator=cast.olivier)
    client.force_login(cast.sophie)
    page = client.get(reverse("home")).content.decode()
    assert "Groupe Test" in page and "Séance 1" in page
    assert "Autre groupe" not in page and "Séance secrète" not in page


def test_the_room_is_rendered_by_role(client, cast):
    cast.at_step(Step.CLARIFICATION)
    client.force_login(cast.sophie)
    consultant = client.get(room_url(cast)).content.decode()
    assert 'data-type="ask_question"' in consultant and 'data-type="advance"' not in consultant
    client.force_login(cast.claire)
    facilitator = client.get(room_url(cast)).content.decode()
    assert 'data-type="advance"' in facilitator
    # The facilitator asks nothing himself: his question form only types for someone in the room.
    assert 'data-type="ask_question"' in facilitator and 'name="on_behalf_of"' in facilitator
    assert 'name="on_behalf_of"' not in consultant


def test_a_form_post_runs_the_same_rules_without_javascript(client, cast, cid):
    cast.at_step(Step.CLARIFICATION)
    client.force_login(cast.sophie)
    url = reverse("workshop_act", args=[cast.workshop.pk])
    response = client.post(url, {"type": "ask_question", "cid": cid(), "body": "Depuis quand ?"})
    assert response.status_code == 302
    assert Contribution.objects.get().body == "Depuis quand ?"
    client.force_login(cast.marc)
    response = client.post(url, {"type": "ask_question", "cid": cid(), "body": "Moi aussi ?"}, follow=True)
    assert Contribution.objects.count() == 1
    assert "consultants" in response.content.decode(), "the refusal is explained"


def test_content_is_escaped_in_the_page(client, cast, cid):
    from workshops import actions

    cast.at_step(Step.CLARIFICATION)
    actions.ask_question(cast.workshop.pk, cid=cid(), body="<script>alert(1)</script>", acting_user=cast.sophie)
    client.force_login(cast.marc)
    page = client.get(room_url(cast)).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page


def test_an_ended_workshop_stays_readable_by_the_group(client, cast, cid):
    from workshops import actions

    w = cast.at_step(Step.APPRENTISSAGE)
    actions.write_learning(w.pk, cid=cid(), body="Écouter avant de conseiller", acting_user=cast.julien)
    actions.end(w.pk, acting_user=cast.claire)
    client.force_login(cast.sophie)
    page = client.get(room_url(cast)).content.decode()
    assert "Écouter avant de conseiller" in page
    assert 'data-type="write_learning"' not in page


def test_a_sign_in_link_works_once(client, cast):
    path = signin_path(cast.sophie)
    assert client.get(path).url == reverse("home")
    assert client.get(reverse("home")).status_code == 200
    client.logout()
    again = client.get(path)
    assert again.url == reverse("login")


def test_an_expired_sign_in_link_is_refused(client, cast, settings, monkeypatch):
    path = signin_path(cast.sophie)
    settings.PASSWORD_RESET_TIMEOUT = 60
    later = signin_tokens._now().timestamp() + 120
    import datetime

    monkeypatch.setattr(signin_tokens, "_now", lambda: datetime.datetime.fromtimestamp(later))
    assert client.get(path).url == reverse("login")


def test_a_forged_sign_in_link_is_refused(client, cast):
    assert client.get("/signin/Mg/forged-token/").url == reverse("login")
    assert client.get("/signin/!!!/forged-token/").url == reverse("login")


def test_members_sign_in_with_a_password(client, cast):
    response = client.post(reverse("login"), {"username": "sophie", "password": "pw-sophie"})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


@pytest.mark.django_db
def test_the_demo_seed_builds_a_group_of_eight_and_prints_their_links(capsys):
    call_command("seed_demo", "--base-url", "http://127.0.0.1:8000")
    out = capsys.readouterr().out
    group = Group.objects.get(name="Groupe Managers Lyon")
    assert Membership.objects.filter(group=group).count() == 8
    # A cycle of one session per participant: two held (their plans await the follow-up), tonight's ready.
    held = group.workshops.filter(status=Workshop.ENDED)
    assert group.sessions.count() == 7 and held.count() == 2
    assert all(w.actions.count() == 2 and w.evaluations.count() == 6 for w in held)
    assert group.sessions.get(number=3).workshops.get().status == Workshop.PLANNED
    assert len(re.findall(r"http://127\.0\.0\.1:8000/signin/\S+/", out)) == 9  # 8 members and the coordinator
    # The held sessions' records show who spoke how long; one voice took too much of the consultation.
    from workshops import speaking_view

    consultation = next(s for s in speaking_view.record(held.first()) if s["step"] == Step.CONSULTATION)
    assert consultation["balance"] is not None and consultation["over"]
    call_command("seed_demo")
    assert Group.objects.filter(name="Groupe Managers Lyon").count() == 1, "seeding again keeps the group"


def test_a_participant_sees_that_he_accepted_the_rules(client, cast):
    from workshops import actions

    cast.at_step(Step.CONTRAT)
    client.force_login(cast.sophie)
    assert 'data-type="accept_rules"' in client.get(room_url(cast)).content.decode()
    actions.accept_rules(cast.workshop.pk, acting_user=cast.sophie)
    page = client.get(room_url(cast)).content.decode()
    assert "Vous avez accepté les règles." in page and 'data-type="accept_rules"' not in page


def test_a_due_date_is_shown_the_french_way(client, cast, cid):
    from workshops import actions

    cast.at_step(Step.PLAN)
    actions.add_action(cast.workshop.pk, cid=cid(), what="Inviter l'équipe", due="2026-12-15", acting_user=cast.marc)
    client.force_login(cast.sophie)
    assert "15 décembre 2026" in client.get(room_url(cast)).content.decode()


@pytest.mark.django_db
def test_seeding_again_after_a_workshop_started_plans_the_next_one(capsys):
    from workshops import actions

    call_command("seed_demo")
    first = Workshop.objects.get(session__number=3)
    marc_case = first.group.cases.get(owner__username="marc")
    actions.designate_case(first.pk, marc_case.pk, acting_user=first.facilitator)
    actions.start(first.pk, acting_user=first.facilitator)
    capsys.readouterr()
    call_command("seed_demo")
    offered = Workshop.objects.get(session__number=4)
    first.refresh_from_db()
    assert offered.status == Workshop.PLANNED and offered.session.starts_at > first.started_at
    assert f"/workshops/{offered.pk}/" in capsys.readouterr().out


@pytest.mark.parametrize(
    "step,forward,back,override,end_reason",
    [(1, True, False, False, True), (3, True, True, True, True), (6, False, True, False, False)],
)
def test_the_facilitator_controls_follow_the_step(client, cast, step, forward, back, override, end_reason):
    cast.at_step(Step(step))
    client.force_login(cast.claire)
    page = client.get(room_url(cast)).content.decode()
    assert ('data-type="advance"' in page) is forward
    assert ('data-type="go_back"' in page) is back
    assert ('name="override_reason"' in page) is override
    end_form = page.split('data-type="end"')[1].split("</form>")[0]
    assert ('name="reason"' in end_form) is end_reason
    client.force_login(cast.marc)
    assert 'data-type="advance"' not in client.get(room_url(cast)).content.decode()
