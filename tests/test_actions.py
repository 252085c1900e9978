"""The domain actions: what a facilitator and participants would notice."""
import threading
import uuid

import pytest
from django.db import connection
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from workshops import actions, presence
from workshops.errors import Conflict, Invalid, NotFound, Refused
from workshops.models import Case, Contribution, Event, Learning, PlannedAction, PrivateNote, Workshop
from workshops.steps import Step


def events(cast):
    return list(Event.objects.filter(workshop=cast.workshop).order_by("seq"))


def test_sequence_numbers_are_contiguous_and_saved_with_each_change(cast, cid):
    cast.at_step(Step.CLARIFICATION)
    actions.ask_question(cast.workshop.pk, cid=cid(), body="Depuis quand ?", acting_user=cast.sophie)
    seqs = [e.seq for e in events(cast)]
    assert seqs == list(range(1, len(seqs) + 1))
    assert Workshop.objects.get(pk=cast.workshop.pk).seq == seqs[-1]
    assert [e.kind for e in events(cast)] == ["client.designated", "workshop.started", "step.changed", "question.asked"]


def test_the_workshop_cannot_start_without_a_client(cast):
    with pytest.raises(Refused, match="client"):
        actions.start(cast.workshop.pk, acting_user=cast.claire)


def test_it_refuses_a_case_from_another_group(cast):
    other = Case.objects.create(group=cast.olivier.memberships.get().group, owner=cast.olivier, title="Ailleurs")
    with pytest.raises(NotFound):
        actions.designate_case(cast.workshop.pk, other.pk, acting_user=cast.claire)


def test_the_facilitator_cannot_be_the_client(cast):
    own = Case.objects.create(group=cast.group, owner=cast.claire, title="Le mien")
    with pytest.raises(Refused):
        actions.designate_case(cast.workshop.pk, own.pk, acting_user=cast.claire)


def test_designating_makes_the_case_owner_the_client(cast):
    actions.designate_case(cast.workshop.pk, cast.case.pk, acting_user=cast.claire)
    assert Workshop.objects.get(pk=cast.workshop.pk).client_id == cast.marc.pk


def test_an_outsider_cannot_act_at_all(cast, cid):
    from workshops.errors import Forbidden

    cast.at_step(Step.CLARIFICATION)
    with pytest.raises(Forbidden):
        actions.ask_question(cast.workshop.pk, cid=cid(), body="?", acting_user=cast.olivier)


@pytest.mark.parametrize(
    "send",
    [
        lambda c, cid: actions.ask_question(c.workshop.pk, cid=cid, body="Depuis quand ?", acting_user=c.sophie),
        lambda c, cid: actions.write_note(c.workshop.pk, cid=cid, body="À creuser", acting_user=c.julien),
    ],
    ids=["question", "note"],
)
def test_a_message_sent_twice_is_stored_once(cast, send):
    cast.at_step(Step.CLARIFICATION)
    same = str(uuid.uuid4())
    first = send(cast, same)
    seq = Workshop.objects.get(pk=cast.workshop.pk).seq
    again = send(cast, same)
    assert first.pk == again.pk
    assert Workshop.objects.get(pk=cast.workshop.pk).seq == seq, "no second event"


def test_contributions_actions_and_learnings_are_stored_once(cast):
    w = cast.workshop.pk
    cast.at_step(Step.CONSULTATION)
    same = uuid.uuid4()
    for _ in range(2):
        actions.contribute(w, cid=same, kind="idea", body="Un café", acting_user=cast.sophie)
    assert Contribution.objects.filter(cid=same).count() == 1
    cast.at_step(Step.PLAN)
    for _ in range(2):
        actions.add_action(w, cid=same, what="Appeler", acting_user=cast.marc)
    assert PlannedAction.objects.filter(cid=same).count() == 1
    cast.at_step(Step.APPRENTISSAGE)
    for _ in range(2):
        actions.write_learning(w, cid=same, body="Écouter", acting_user=cast.julien)
    assert Learning.objects.filter(cid=same).count() == 1


def test_private_notes_are_addressed_to_their_author_only(cast, cid):
    cast.at_step(Step.EXPOSE)
    actions.write_note(cast.workshop.pk, cid=cid(), body="Il semble fatigué", acting_user=cast.sophie)
    event = events(cast)[-1]
    assert event.kind == "note.added" and event.audience_id == cast.sophie.pk
    assert PrivateNote.objects.get().author == cast.sophie


def test_the_contract_waits_for_everyone_present_to_accept(cast):
    w = cast.at_step(Step.CONTRAT)
    for user in (cast.marc, cast.sophie, cast.claire):
        presence.join(w.pk, user.pk, f"chan-{user.pk}")
    with pytest.raises(Refused) as refused:
        actions.advance(w.pk, from_step=3, acting_user=cast.claire)
    assert "Marc" in refused.value.message and "Sophie" in refused.value.message
    assert "Julien" not in refused.value.message, "absent members do not block"
    actions.accept_rules(w.pk, acting_user=cast.marc)
    actions.accept_rules(w.pk, acting_user=cast.sophie)
    actions.advance(w.pk, from_step=3, acting_user=cast.claire)
    assert Workshop.objects.get(pk=w.pk).step == Step.CONSULTATION


def test_the_facilitator_may_override_the_contract_with_a_logged_reason(cast):
    w = cast.at_step(Step.CONTRAT)
    presence.join(w.pk, cast.sophie.pk, "chan-s")
    actions.advance(w.pk, from_step=3, override_reason="Sophie est partie en urgence", acting_user=cast.claire)
    change = events(cast)[-1]
    assert change.payload["override"] == {"reason": "Sophie est partie en urgence", "waiting": ["Sophie Bernard"]}


def test_going_back_needs_a_reason_and_logs_it(cast):
    w = cast.at_step(Step.CONSULTATION)
    with pytest.raises(Invalid):
        actions.go_back(w.pk, from_step=4, reason="  ", acting_user=cast.claire)
    actions.go_back(w.pk, from_step=4, reason="Une question oubliée", acting_user=cast.claire)
    assert Workshop.objects.get(pk=w.pk).step == Step.CONTRAT
    assert events(cast)[-1].payload["reason"] == "Une question oubliée"


def test_a_stale_screen_cannot_move_the_step(cast):
    w = cast.at_step(Step.CLARIFICATION)
    with pytest.raises(Conflict):
        actions.advance(w.pk, from_step=1, acting_user=cast.claire)
    assert Workshop.objects.get(pk=w.pk).step == Step.CLARIFICATION


@pytest.mark.django_db(transaction=True)
def test_two_facilitator_tabs_racing_move_the_step_once(cast):
    w = cast.at_step(Step.CLARIFICATION)
    barrier = threading.Barrier(2)
    outcomes = []

    def tab():
        barrier.wait()
        try:
            actions.advance(w.pk, from_step=2, acting_user=cast.claire)
            outcomes.append("moved")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=tab) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "moved"]
    assert Workshop.objects.get(pk=w.pk).step == Step.CONTRAT
    assert [e.payload["step"] for e in Event.objects.filter(workshop=w, kind="step.changed")].count(3) == 1


def test_ending_early_needs_a_reason(cast):
    w = cast.at_step(Step.CONSULTATION)
    with pytest.raises(Refused):
        actions.end(w.pk, acting_user=cast.claire)
    actions.end(w.pk, reason="Alerte incendie", acting_user=cast.claire)
    assert Workshop.objects.get(pk=w.pk).status == Workshop.ENDED


def test_an_ended_workshop_is_frozen(cast, cid):
    w = cast.at_step(Step.APPRENTISSAGE)
    actions.end(w.pk, acting_user=cast.claire)
    seq = Workshop.objects.get(pk=w.pk).seq
    with pytest.raises(Refused, match="terminé"):
        actions.write_learning(w.pk, cid=cid(), body="Trop tard", acting_user=cast.sophie)
    with pytest.raises(Refused):
        actions.control_timer(w.pk, op="pause", acting_user=cast.claire)
    with pytest.raises(Refused):
        actions.write_note(w.pk, cid=cid(), body="Trop tard", acting_user=cast.sophie)
    assert Workshop.objects.get(pk=w.pk).seq == seq


def test_the_timer_controls_are_saved_and_announced(cast):
    w = cast.at_step(Step.EXPOSE)
    actions.control_timer(w.pk, op="pause", acting_user=cast.claire)
    assert Workshop.objects.get(pk=w.pk).timer_started_at is None
    actions.control_timer(w.pk, op="extend", minutes=5, acting_user=cast.claire)
    assert Workshop.objects.get(pk=w.pk).timer_duration == 15 * 60 + 5 * 60
    actions.control_timer(w.pk, op="resume", acting_user=cast.claire)
    assert events(cast)[-1].payload["timer"]["running"] is True
    with pytest.raises(Invalid):
        actions.control_timer(w.pk, op="explode", acting_user=cast.claire)
    with pytest.raises(Invalid):
        actions.control_timer(w.pk, op="extend", minutes=600, acting_user=cast.claire)


def test_each_step_gets_its_planned_time(cast):
    w = cast.at_step(Step.CLARIFICATION)
    assert w.timer_duration == 40 * 60


def test_an_action_links_only_contributions_the_client_marked(cast, cid):
    w = cast.at_step(Step.CONSULTATION)
    kept = actions.contribute(w.pk, cid=cid(), kind="idea", body="Un café", acting_user=cast.sophie)
    other = actions.contribute(w.pk, cid=cid(), kind="idea", body="Un séminaire", acting_user=cast.julien)
    actions.mark_contribution(w.pk, contribution_id=kept.pk, mark="keep", acting_user=cast.marc)
    cast.at_step(Step.PLAN)
    with pytest.raises(Invalid):
        actions.add_action(w.pk, cid=cid(), what="Appeler", kept=[other.pk], acting_user=cast.marc)
    action = actions.add_action(w.pk, cid=cid(), what="Inviter l'équipe", due="2026-12-15", kept=[str(kept.pk)], acting_user=cast.marc)
    assert list(action.kept.all()) == [kept]
    with pytest.raises(Invalid, match="2026-12-31"):
        actions.add_action(w.pk, cid=cid(), what="x", due="demain", acting_user=cast.marc)


def test_an_evaluation_is_one_per_participant_and_scored_1_to_5(cast):
    w = cast.at_step(Step.APPRENTISSAGE)
    with pytest.raises(Invalid):
        actions.evaluate(w.pk, score=6, acting_user=cast.sophie)
    actions.evaluate(w.pk, score=3, acting_user=cast.sophie)
    actions.evaluate(w.pk, score=5, comment="Merci", acting_user=cast.sophie)
    assert w.evaluations.get().score == 5
    recorded = Event.objects.filter(workshop=w, kind="evaluation.recorded")
    assert {e.audience_id for e in recorded} == {cast.sophie.pk}


@pytest.mark.parametrize("body", ["", "   ", "x" * 5001, None, 12, ["liste"]])
def test_bad_text_is_refused_with_a_reason_and_stores_nothing(cast, cid, body):
    cast.at_step(Step.CLARIFICATION)
    before = Contribution.objects.count()
    with pytest.raises(Invalid) as invalid:
        actions.ask_question(cast.workshop.pk, cid=cid(), body=body, acting_user=cast.sophie)
    assert invalid.value.message
    assert Contribution.objects.count() == before


def test_a_text_of_exactly_the_limit_is_accepted(cast, cid):
    cast.at_step(Step.CLARIFICATION)
    q = actions.ask_question(cast.workshop.pk, cid=cid(), body="é" * 5000, acting_user=cast.sophie)
    assert len(q.body) == 5000


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.text(min_size=1, max_size=300).filter(lambda s: s.replace("\x00", "").strip()))
def test_any_text_is_stored_as_typed(cast, body):
    if Workshop.objects.get(pk=cast.workshop.pk).step != Step.CLARIFICATION:
        cast.at_step(Step.CLARIFICATION)
    q = actions.ask_question(cast.workshop.pk, cid=uuid.uuid4(), body=body, acting_user=cast.sophie)
    assert Contribution.objects.get(pk=q.pk).body == body.replace("\x00", "").strip()
