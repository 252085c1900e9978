"""The sockets of a room share what is alike for everyone at one sequence number (`room.shared`,
docs/performance.md): never a member's own parts, never what is one role's alone."""
import uuid

from workshops import actions, room
from workshops.models import Workshop
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
