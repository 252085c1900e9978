"""The sockets of a room share what is alike for everyone at one sequence number (`room.shared`,
docs/performance.md): never a member's own parts, never what is one role's alone."""
import uuid

from workshops import actions, room, serialize, speaking
from workshops.models import Event, Workshop
from workshops.steps import Step


def snapshot(cast, user) -> dict:
    """What a socket's snapshot is built from, as the consumer asks for it."""
    return room.context(Workshop.objects.get(pk=cast.workshop.pk), user, reuse=True)


def test_shared_snapshots_keep_each_members_own_parts(cast):
    workshop = cast.at_step(Step.APPRENTISSAGE)
    actions.write_note(workshop.pk, cid=uuid.uuid4(), body="Sophie private thought", acting_user=cast.sophie)
    actions.write_note(workshop.pk, cid=uuid.uuid4(), body="Julien private thought", acting_user=cast.julien)
    actions.evaluate(workshop.pk, score=4, comment="Sophie private verdict", acting_user=cast.sophie)

    seen = {name: snapshot(cast, getattr(cast, name)) for name in ("claire", "sophie", "julien")}

    assert len({ctx["seq"] for ctx in seen.values()}) == 1  # one sequence number: one shared entry
    assert [n["body"] for n in seen["sophie"]["notes"]] == ["Sophie private thought"]
    assert [n["body"] for n in seen["julien"]["notes"]] == ["Julien private thought"]
    assert seen["claire"]["notes"] == []
    assert seen["sophie"]["evaluation"]["comment"] == "Sophie private verdict"
    assert seen["julien"]["evaluation"] is None and seen["claire"]["evaluation"] is None
    assert seen["claire"]["log"] and seen["sophie"]["log"] == [] and seen["julien"]["log"] == []  # the facilitator's
    page = room.render_room(seen["julien"])
    assert "Julien private thought" in page
    assert "Sophie private thought" not in page and "Sophie private verdict" not in page


def test_a_shared_snapshot_is_never_reused_for_a_newer_room(cast):
    workshop = cast.at_step(Step.CONSULTATION)
    before = snapshot(cast, cast.sophie)
    actions.contribute(workshop.pk, cid=uuid.uuid4(), kind="idea", body="A fresh idea", acting_user=cast.julien)

    after = snapshot(cast, cast.sophie)

    assert after["seq"] == before["seq"] + 1
    assert [c["body"] for c in after["contributions"]] == [c["body"] for c in before["contributions"]] + ["A fresh idea"]


def test_shared_snapshots_keep_whose_hand_is_up_and_who_speaks_per_member(cast):
    workshop = cast.at_step(Step.CONSULTATION)
    speaking.raise_hand(workshop.pk, acting_user=cast.julien)
    speaking.speak(workshop.pk, acting_user=cast.sophie)

    seen = {name: snapshot(cast, getattr(cast, name)) for name in ("claire", "sophie", "julien")}

    assert [entry["person"]["id"] for entry in seen["claire"]["speaking"]["queue"]] == [cast.julien.pk]  # the queue is alike
    assert [s["my_hand_raised"] for s in seen.values()] == [False, False, True]
    assert [s["i_speak"] for s in seen.values()] == [False, True, False]
    assert "speaking_figures" in seen["claire"] and "speaking_figures" not in seen["julien"]  # the facilitator's alone
    agendas = [[(row["number"], row["state"]) for row in s["agenda"]["rows"]] for s in seen.values()]
    assert agendas[0] == agendas[1] == agendas[2] and (4, "current") in agendas[0]  # the step changes, read once
    assert len({s["agenda"]["run"] for s in seen.values()}) == 1


def test_the_room_lists_contributions_as_their_events_carry_them(cast):
    """The room reads contributions and learnings as plain values (docs/performance.md); each one
    must be the very dict its event carried, so a snapshot and a live upsert render alike."""
    workshop = cast.at_step(Step.CLARIFICATION)
    question = actions.ask_question(workshop.pk, cid=uuid.uuid4(), body="Depuis quand ?", acting_user=cast.sophie)
    actions.answer_question(workshop.pk, question_id=question.pk, body="Depuis mars.", acting_user=cast.marc)
    workshop = cast.at_step(Step.CONSULTATION)
    for who, body in ((cast.julien, "Une idée"), (cast.sophie, "Une expérience"), (cast.julien, "Une ressource")):
        actions.contribute(workshop.pk, cid=uuid.uuid4(), kind="idea", body=body, acting_user=who)
    first = workshop.contributions.filter(kind="idea").first()
    actions.mark_contribution(workshop.pk, contribution_id=first.pk, mark="keep", acting_user=cast.marc)
    workshop = cast.at_step(Step.APPRENTISSAGE)
    actions.write_learning(workshop.pk, cid=uuid.uuid4(), body="J'ai appris à me taire.", acting_user=cast.julien)

    assert serialize.contributions(workshop.contributions.all()) == [serialize.contribution(c) for c in workshop.contributions.all()]
    assert serialize.learnings(workshop.learnings.all()) == [serialize.learning(item) for item in workshop.learnings.all()]
    added = Event.objects.filter(workshop=workshop, kind="contribution.added").order_by("seq").last().payload["contribution"]
    listed = room.context(Workshop.objects.get(pk=workshop.pk), cast.sophie)["contributions"]
    assert added in listed
