"""Choosing the case: the pool, 3 votes each, the tally only the facilitator sees, whose turn it is."""
import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.conftest import make_user
from workshops import actions, pool, room, sessions
from workshops.errors import Invalid, NotFound, Refused
from workshops.models import Case, Event, Membership, Vote
from workshops.steps import Step


def submit(cast, user, title, **fields):
    return pool.submit_case(cast.group.pk, title=title, acting_user=user, **fields)


def test_a_member_brings_a_case_and_the_waiting_room_is_told(cast):
    case = submit(cast, cast.sophie, "Un conflit entre deux collègues", summary="Depuis mars.", stakes="L'équipe", urgency=3)
    assert case.status == Case.POOL and case.owner == cast.sophie and case.urgency == 3
    assert Event.objects.filter(workshop=cast.workshop, kind="pool.changed").exists()
    assert [c.title for c in pool.in_pool(cast.group.pk)][0] == "Un conflit entre deux collègues"  # most urgent first


@pytest.mark.parametrize("fields, message", [
    ({"title": ""}, "empty"),
    ({"title": "x" * 201}, "long"),
    ({"title": "Ok", "urgency": "9"}, "urgent"),
    ({"title": "Ok", "urgency": "soon"}, "urgent"),
])
def test_a_bad_case_is_refused_with_a_reason_and_nothing_is_stored(cast, fields, message):
    before = Case.objects.count()
    with pytest.raises(Invalid):
        pool.submit_case(cast.group.pk, acting_user=cast.sophie, **fields)
    assert Case.objects.count() == before


def test_the_facilitator_does_not_bring_cases(cast):
    with pytest.raises(Refused):
        submit(cast, cast.claire, "Mon cas")


def test_an_outsider_cannot_bring_a_case(cast):
    from workshops.errors import Forbidden

    with pytest.raises(Forbidden):
        submit(cast, cast.olivier, "Intrus")


def test_votes_are_three_per_member_and_replace_the_previous_ones(cast):
    second = submit(cast, cast.sophie, "Cas de Sophie")
    pool.vote(cast.workshop.pk, votes=[cast.case.pk, cast.case.pk, second.pk], acting_user=cast.julien)
    pool.vote(cast.workshop.pk, votes=[second.pk], acting_user=cast.julien)
    assert pool.my_votes(cast.workshop.session_id, cast.julien) == [second.pk]
    with pytest.raises(Invalid):
        pool.vote(cast.workshop.pk, votes=[second.pk] * 4, acting_user=cast.julien)
    assert pool.my_votes(cast.workshop.session_id, cast.julien) == [second.pk]  # the refused vote changed nothing


def test_the_tally_adds_votes_and_breaks_ties_by_urgency(cast):
    sophie_case = submit(cast, cast.sophie, "Cas de Sophie", urgency=3)
    julien_case = submit(cast, cast.julien, "Cas de Julien", urgency=1)
    pool.vote(cast.workshop.pk, votes=[cast.case.pk, cast.case.pk, julien_case.pk], acting_user=cast.sophie)
    pool.vote(cast.workshop.pk, votes=[sophie_case.pk, julien_case.pk], acting_user=cast.marc)
    tally = pool.tally(cast.workshop.session, cast.group.pk)
    # Marc's case (urgency 2) and Julien's (urgency 1) tie at 2: the more urgent comes first.
    assert [(row["case"].pk, row["votes"]) for row in tally] == [(cast.case.pk, 2), (julien_case.pk, 2), (sophie_case.pk, 1)]


@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ballots=st.lists(st.lists(st.integers(0, 2), max_size=3), min_size=1, max_size=3))
def test_the_tally_is_the_sum_of_the_ballots(cast, ballots):
    Vote.objects.all().delete()
    cases = list(Case.objects.filter(group=cast.group, status=Case.POOL).order_by("id"))
    while len(cases) < 3:
        cases.append(submit(cast, cast.julien, f"Cas {len(cases)}"))
    voters = [cast.marc, cast.sophie, cast.julien]
    expected = {c.pk: 0 for c in cases}
    for voter, ballot in zip(voters, ballots, strict=False):
        pool.vote(cast.workshop.pk, votes=[cases[i].pk for i in ballot], acting_user=voter)
        for i in ballot:
            expected[cases[i].pk] += 1
    got = {row["case"].pk: row["votes"] for row in pool.tally(cast.workshop.session, cast.group.pk)}
    assert got == expected
    assert sum(got.values()) <= 3 * len(voters)


def test_the_facilitator_does_not_vote_and_nobody_votes_once_started(cast):
    with pytest.raises(Refused):
        pool.vote(cast.workshop.pk, votes=[cast.case.pk], acting_user=cast.claire)
    cast.at_step(Step.EXPOSE)
    with pytest.raises(Refused):
        pool.vote(cast.workshop.pk, votes=[], acting_user=cast.sophie)


def test_a_vote_for_a_case_outside_the_pool_is_refused(cast):
    other_group_case = Case.objects.create(group=cast.olivier.memberships.get().group, owner=cast.olivier, title="Ailleurs")
    with pytest.raises(NotFound):
        pool.vote(cast.workshop.pk, votes=[other_group_case.pk], acting_user=cast.sophie)


def test_only_the_facilitator_sees_the_tally_and_nobody_sees_who_voted_what(cast):
    pool.vote(cast.workshop.pk, votes=[cast.case.pk] * 3, acting_user=cast.sophie)
    facilitator = room.render_room(room.context(cast.workshop, cast.claire))
    member = room.render_room(room.context(cast.workshop, cast.julien))
    assert 'class="tally"' in facilitator and 'class="tally"' not in member
    event = Event.objects.filter(workshop=cast.workshop, kind="votes.updated").get()
    assert event.payload == {"voters": 1}  # the public event carries a count, not a ballot


def test_a_started_case_leaves_the_pool_and_cannot_be_chosen_again(cast):
    cast.at_step(Step.EXPOSE)
    assert Case.objects.get(pk=cast.case.pk).status == Case.TREATED
    assert cast.case.pk not in pool.in_pool(cast.group.pk).values_list("pk", flat=True)
    actions.end(cast.workshop.pk, reason="fin", acting_user=cast.claire)
    second = sessions.add_second_case(cast.workshop.session_id)
    with pytest.raises(Refused):
        actions.designate_case(second.pk, cast.case.pk, acting_user=cast.claire)


def test_a_member_withdraws_his_case_while_it_waits_but_not_after(cast):
    case = submit(cast, cast.sophie, "Finalement non")
    actions.designate_case(cast.workshop.pk, case.pk, acting_user=cast.claire)
    with pytest.raises(NotFound):
        pool.withdraw_case(case.pk, acting_user=cast.julien)  # not his
    pool.withdraw_case(case.pk, acting_user=cast.sophie)
    cast.workshop.refresh_from_db()
    assert cast.workshop.case_id is None and Case.objects.get(pk=case.pk).status == Case.WITHDRAWN
    cast.at_step(Step.EXPOSE)
    with pytest.raises(Refused):
        pool.withdraw_case(cast.case.pk, acting_user=cast.marc)


def test_rotation_and_suggestion_favour_who_has_not_been_client(cast):
    submit(cast, cast.julien, "Le cas de Julien")
    assert [p["name"] for p in pool.suggestion(cast.group.pk, None)][0] == "Julien Petit"  # has a case waiting
    cast.at_step(Step.EXPOSE)
    rows = {row["person"]["name"]: row["turns"] for row in pool.rotation(cast.group.pk, None)}
    assert [t["title"] for t in rows["Marc Lefèvre"]] == [cast.workshop.title]
    assert rows["Sophie Bernard"] == [] and "Claire Morel" not in rows  # the facilitator is never client
    assert "Marc Lefèvre" not in [p["name"] for p in pool.suggestion(cast.group.pk, None)]


def test_rotation_counts_only_this_cycle(cast):
    cast.at_step(Step.EXPOSE)
    from workshops.models import Cycle

    cycle = Cycle.objects.create(group=cast.group, title="Année 2")
    assert all(not row["turns"] for row in pool.rotation(cast.group.pk, cycle.pk))


def test_the_pool_page_keeps_what_was_typed_when_refused(client, cast):
    client.force_login(cast.sophie)
    response = client.post(reverse("case_submit", args=[cast.group.pk]), {"title": "", "summary": "Mon long texte", "urgency": "2"}, follow=True)
    page = response.content.decode()
    assert "Mon long texte" in page and 'class="error"' in page


def test_the_pool_form_works_without_javascript_and_outsiders_get_403(client, cast):
    client.force_login(cast.sophie)
    client.post(reverse("case_submit", args=[cast.group.pk]), {"title": "Un cas", "urgency": "1"})
    assert [case.title for case in Case.objects.filter(owner=cast.sophie)] == ["Un cas"]
    client.force_login(cast.olivier)
    assert client.post(reverse("case_submit", args=[cast.group.pk]), {"title": "x", "urgency": "1"}).status_code == 403


def test_a_member_who_joins_late_is_in_the_rotation(cast):
    late = make_user("nina", "Nina", "Roux")
    Membership.objects.create(group=cast.group, user=late)
    assert "Nina Roux" in [p["name"] for p in pool.suggestion(cast.group.pk, None)]
