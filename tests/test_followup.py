"""The follow-up ("retour"): previous clients report on their plans at the opening, live."""
import pytest
from django.urls import reverse

from workshops import actions, followup, room, sessions
from workshops.errors import Invalid, NotFound, Refused
from workshops.models import Case, Event, PlannedAction, Workshop
from workshops.steps import Step


@pytest.fixture
def ended_plan(cast, cid):
    """Marc's workshop ended with two actions; the next session is planned."""
    cast.at_step(Step.PLAN)
    first = actions.add_action(cast.workshop.pk, cid=cid(), what="Voir chacun en tête-à-tête", acting_user=cast.marc)
    second = actions.add_action(cast.workshop.pk, cid=cid(), what="Proposer un rituel d'équipe", acting_user=cast.marc)
    cast.at_step(Step.APPRENTISSAGE)
    actions.end(cast.workshop.pk, acting_user=cast.claire)
    nxt = sessions.plan_session(cast.group, facilitator=cast.claire, number=2).workshops.get()
    return cast.workshop, nxt, first, second


def test_the_next_session_opens_with_the_previous_plan(cast, ended_plan):
    plan, nxt, first, second = ended_plan
    assert list(followup.open_plans(cast.group.pk, before=nxt)) == [plan]
    page = room.render_room(room.context(nxt, cast.sophie))
    assert "Voir chacun en tête-à-tête" in page and "Proposer un rituel" in page


def test_the_client_reports_each_action_and_the_group_sees_it(cast, ended_plan):
    plan, nxt, first, second = ended_plan
    followup.report(nxt.pk, action_id=first.pk, followup="done", comment="Fait avec tous sauf un", acting_user=cast.marc)
    followup.report(nxt.pk, action_id=second.pk, followup="in_progress", acting_user=cast.marc)
    first.refresh_from_db()
    assert (first.followup, first.followup_comment) == ("done", "Fait avec tous sauf un")
    assert Event.objects.filter(workshop=nxt, kind="followup.updated").count() == 2  # in the opening room
    page = room.render_room(room.context(nxt, cast.julien))
    assert "Fait avec tous sauf un" in page


@pytest.mark.parametrize("who", ["sophie", "claire"])
def test_only_the_plans_client_reports(cast, ended_plan, who):
    plan, nxt, first, _ = ended_plan
    with pytest.raises(Refused):
        followup.report(nxt.pk, action_id=first.pk, followup="done", acting_user=getattr(cast, who))
    first.refresh_from_db()
    assert first.followup == ""


def test_a_bad_state_is_refused_and_nothing_changes(cast, ended_plan):
    _plan, nxt, first, _ = ended_plan
    followup.report(nxt.pk, action_id=first.pk, followup="dropped", comment="trop tôt", acting_user=cast.marc)
    for bad in ("", "finished", None):
        with pytest.raises(Invalid):
            followup.report(nxt.pk, action_id=first.pk, followup=bad, acting_user=cast.marc)
    with pytest.raises(Invalid):
        followup.report(nxt.pk, action_id=first.pk, followup="done", comment="x" * 1001, acting_user=cast.marc)
    first.refresh_from_db()
    assert (first.followup, first.followup_comment) == ("dropped", "trop tôt")


def test_plans_stay_open_across_sessions_until_the_client_closes_them(cast, ended_plan):
    plan, nxt, first, _ = ended_plan
    third = sessions.plan_session(cast.group, facilitator=cast.claire, number=3).workshops.get()
    assert plan in followup.open_plans(cast.group.pk, before=third)
    followup.close(nxt.pk, plan_id=plan.pk, acting_user=cast.marc)
    assert plan not in followup.open_plans(cast.group.pk, before=third)
    with pytest.raises(Refused):
        followup.report(third.pk, action_id=first.pk, followup="done", acting_user=cast.marc)
    assert PlannedAction.objects.filter(workshop=plan).count() == 2  # closed, not deleted


def test_an_action_from_another_group_is_not_found(cast, ended_plan, cid):
    _plan, nxt, *_ = ended_plan
    other = Workshop.objects.create(group=cast.olivier.memberships.get().group, title="Ailleurs", facilitator=cast.olivier)
    stray = PlannedAction.objects.create(workshop=other, what="secret")
    with pytest.raises(NotFound):
        followup.report(nxt.pk, action_id=stray.pk, followup="done", acting_user=cast.marc)


def test_the_follow_up_form_works_without_javascript(client, cast, ended_plan):
    _plan, nxt, first, _ = ended_plan
    client.force_login(cast.marc)
    client.post(reverse("workshop_act", args=[nxt.pk]), {"type": "report_followup", "action_id": first.pk, "followup": "done", "comment": ""})
    first.refresh_from_db()
    assert first.followup == "done"


def test_the_vote_form_works_without_javascript(client, cast):
    other = Case.objects.create(group=cast.group, owner=cast.sophie, title="Cas de Sophie")
    client.force_login(cast.julien)
    client.post(reverse("workshop_act", args=[cast.workshop.pk]), {"type": "vote", "votes": [str(other.pk), str(other.pk), ""]})
    from workshops.pool import my_votes

    assert my_votes(cast.workshop.session_id, cast.julien) == [other.pk, other.pk]
