"""The opening of a session over real sockets: votes and follow-up reach everyone live, each
re-rendered for its viewer, so the tally stays the facilitator's."""
import pytest
from channels.db import database_sync_to_async as db

from tests import ws
from tests.ws import command, receive_until
from workshops import actions, sessions
from workshops.models import Case, PlannedAction
from workshops.steps import Step

pytestmark = pytest.mark.django_db(transaction=True)
consumer_hygiene, sockets = ws.consumer_hygiene, ws.sockets


def snapshot_html(message: dict) -> str:
    return message["ops"][0]["html"]


async def test_a_vote_refreshes_every_room_and_only_the_facilitator_sees_the_tally(cast, sockets):
    other = await db(Case.objects.create)(group=cast.group, owner=cast.sophie, title="Cas de Sophie")
    claire = await sockets.open(cast.claire, cast.workshop.pk)
    marc = await sockets.open(cast.marc, cast.workshop.pk)
    julien = await sockets.open(cast.julien, cast.workshop.pk)
    reply, _ = await command(julien, {"type": "vote", "votes": [other.pk, other.pk, cast.case.pk]})
    assert reply["type"] == "ack"
    for_claire = snapshot_html(await receive_until(claire, lambda m: m["type"] == "snapshot"))
    for_marc = snapshot_html(await receive_until(marc, lambda m: m["type"] == "snapshot"))
    assert 'class="tally"' in for_claire and ">2</td>" in for_claire
    assert 'class="tally"' not in for_marc and "1 membre a voté" in for_marc


async def test_a_refused_vote_gets_a_clear_error_in_french(cast, sockets):
    julien = await sockets.open(cast.julien, cast.workshop.pk)
    reply, _ = await command(julien, {"type": "vote", "votes": [cast.case.pk] * 4})
    assert reply["type"] == "error" and "3" in reply["message"]
    reply, _ = await command(julien, {"type": "vote", "votes": "not a list of ids"})
    assert reply["type"] == "error"


async def test_the_follow_up_reaches_the_group_live(cast, sockets):
    def ended_with_plan():
        cast.at_step(Step.PLAN)
        action = actions.add_action(cast.workshop.pk, cid="8a9f5a52-8b8e-4a49-9c51-4d1c2a0f0c11", what="Parler à Luc", acting_user=cast.marc)
        cast.at_step(Step.APPRENTISSAGE)
        actions.end(cast.workshop.pk, acting_user=cast.claire)
        return action, sessions.plan_session(cast.group, facilitator=cast.claire, number=2).workshops.get()

    action, nxt = await db(ended_with_plan)()
    marc = await sockets.open(cast.marc, nxt.pk)
    sophie = await sockets.open(cast.sophie, nxt.pk)
    reply, _ = await command(marc, {"type": "report_followup", "action_id": action.pk, "followup": "in_progress", "comment": "Rendez-vous pris"})
    assert reply["type"] == "ack"
    html = snapshot_html(await receive_until(sophie, lambda m: m["type"] == "snapshot"))
    assert "Rendez-vous pris" in html and "en cours" in html
    reply, _ = await command(sophie, {"type": "report_followup", "action_id": action.pk, "followup": "done"})
    assert reply["type"] == "error"
    assert (await db(PlannedAction.objects.get)(pk=action.pk)).followup == "in_progress"


async def test_joining_the_live_room_marks_attendance_and_the_start_marks_who_is_there(cast, sockets):
    from workshops.models import Attendance

    def present():
        return set(Attendance.objects.filter(session_id=cast.workshop.session_id, present=True).values_list("user__username", flat=True))

    await sockets.open(cast.sophie, cast.workshop.pk)  # the opening: not yet attendance
    assert await db(present)() == set()
    await db(cast.at_step)(Step.EXPOSE)  # the start marks who is in the room
    assert await db(present)() == {"sophie"}
    await sockets.open(cast.julien, cast.workshop.pk)
    assert await db(present)() == {"sophie", "julien"}
