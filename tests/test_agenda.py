"""The agenda: six time boxes as planned, as lived, and the end projected from now."""
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workshops import actions, agenda
from workshops.agenda import Visit, project, visits_from
from workshops.models import Workshop
from workshops.steps import Step

T0 = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
PLAN = {1: 900, 2: 2400, 3: 900, 4: 2100, 5: 900, 6: 1200}  # the 3-hour format, in seconds


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def lived(*stays: tuple[int, float]) -> list[Visit]:
    """Contiguous visits from T0: (step, minutes spent); the last one is still open."""
    visits, start = [], T0
    for step, minutes in stays:
        end = start + timedelta(minutes=minutes)
        visits.append(Visit(step, start, end))
        start = end
    visits[-1] = Visit(visits[-1].step, visits[-1].start)
    return visits


def test_on_time_the_projected_end_is_the_planned_end():
    now = at(15 + 10)  # the exposé took its 15 minutes, 10 minutes into the clarification
    plan = project(PLAN, lived((1, 15), (2, 10)), now=now, remaining=2400 - 600)
    assert plan.planned_end == at(140)
    assert plan.projected_end == at(140)
    assert plan.drift == 0
    assert [row.state for row in plan.rows] == ["done", "current", "todo", "todo", "todo", "todo"]
    assert plan.rows[0].actual == 900


def test_an_overrun_step_pushes_the_end_by_its_overrun():
    # The exposé took 22 minutes instead of 15: the end moves by 7 minutes.
    plan = project(PLAN, lived((1, 22), (2, 0)), now=at(22), remaining=2400)
    assert plan.drift_minutes == 7
    assert plan.projected_end == at(147)


def test_in_overtime_the_end_moves_with_the_clock():
    # 50 minutes into a 40-minute clarification: 10 minutes over, and counting.
    visits = lived((1, 15), (2, 50))
    first = project(PLAN, visits, now=at(65), remaining=-600)
    later = project(PLAN, visits, now=at(70), remaining=-900)
    assert first.drift_minutes == 10
    assert later.projected_end - first.projected_end == timedelta(minutes=5)


def test_an_extension_counts_while_the_step_is_on():
    # +5 minutes on the exposé, 3 minutes in: 17 minutes left of 20.
    plan = project(PLAN, lived((1, 3)), now=at(3), remaining=17 * 60)
    assert plan.drift_minutes == 5


def test_a_pause_costs_its_length():
    # Paused 4 minutes, 10 minutes into the exposé: its timer has 9 minutes left (6 spent running).
    plan = project(PLAN, lived((1, 10)), now=at(10), remaining=9 * 60)
    assert plan.drift_minutes == 4


def test_going_back_counts_both_visits_and_the_step_left_will_be_lived_again():
    # Clarification 30 min, back to the exposé for 5 min, then the clarification again.
    visits = lived((1, 15), (2, 30), (1, 5), (2, 2))
    plan = project(PLAN, visits, now=at(52), remaining=2400 - 120)
    assert plan.rows[0].actual == 20 * 60
    assert plan.rows[1].actual == 32 * 60
    assert plan.rows[1].state == "current"
    # The second clarification has its full time box again: the first 30 minutes are the cost.
    assert plan.projected_end == at(52) + timedelta(seconds=2400 - 120 + 900 + 2100 + 900 + 1200)
    back = project(PLAN, lived((1, 15), (2, 30), (1, 1)), now=at(46), remaining=840)
    assert [row.state for row in back.rows][:2] == ["current", "todo"]
    assert back.rows[1].actual == 30 * 60  # what was spent stays on the record


def test_not_started_it_projects_from_the_session_time_or_from_now_when_late():
    early = project(PLAN, [], now=at(-30), scheduled=T0)
    assert (early.start, early.projected_end, early.drift) == (T0, at(140), 0)
    late = project(PLAN, [], now=at(12), scheduled=T0)
    assert late.start == at(12) and late.drift_minutes == 12
    unscheduled = project(PLAN, [], now=at(0))
    assert unscheduled.projected_end == at(140) and unscheduled.status == Workshop.PLANNED


def test_ended_it_is_the_actual_end_and_steps_never_reached_are_skipped():
    visits = [Visit(1, at(0), at(20)), Visit(2, at(20), at(50))]
    plan = project(PLAN, visits, now=at(90), ended_at=at(50))
    assert plan.projected_end == at(50)
    assert plan.status == Workshop.ENDED
    assert [row.state for row in plan.rows] == ["done", "done", "skipped", "skipped", "skipped", "skipped"]


def test_the_log_becomes_visits():
    changes = [(at(0), "workshop.started", 1), (at(15), "step.changed", 2), (at(40), "step.changed", 1),
               (at(45), "step.changed", 2), (at(90), "workshop.ended", None)]
    assert visits_from(changes) == [Visit(1, at(0), at(15)), Visit(2, at(15), at(40)), Visit(1, at(40), at(45)), Visit(2, at(45), at(90))]


# --- properties -----------------------------------------------------------------------------

steps = st.integers(1, 6)
minutes = st.floats(0, 90, allow_nan=False)
stays = st.lists(st.tuples(steps, minutes), min_size=1, max_size=12)
plans = st.fixed_dictionaries({s: st.integers(60, 120 * 60) for s in range(1, 7)})


@given(plans, stays, st.floats(-7200, 7200, allow_nan=False), st.floats(0, 120, allow_nan=False))
def test_live_the_end_is_never_before_now_and_adds_up(planned, history, remaining, late):
    visits = lived(*history)
    current = visits[-1].step
    now = visits[-1].start + timedelta(minutes=late)
    plan = project(planned, visits, now=now, remaining=remaining)
    assert plan.projected_end >= now
    ahead = sum(planned[s] for s in planned if s > current)
    assert plan.projected_end == now + timedelta(seconds=max(0.0, remaining) + ahead)
    # Time spent, step by step, is all the time since the start: no gap, nothing counted twice.
    assert sum(row.actual or 0 for row in plan.rows) == pytest.approx((now - plan.start).total_seconds())
    assert plan.planned_end == plan.start + timedelta(seconds=sum(planned.values()))


@given(plans, st.lists(minutes, min_size=1, max_size=6), st.floats(0, 1, allow_nan=False))
def test_in_order_the_drift_is_the_sum_of_overruns(planned, spent, progress):
    """Steps 1..k lived in order: drift = Σ (actual − planned) of done steps + the current step's
    (spent + what its timer has left − planned)."""
    history = [(step, m) for step, m in enumerate(spent, start=1)]
    visits = lived(*history)
    current = len(spent)
    now = visits[-1].start + timedelta(seconds=progress * planned[current])
    elapsed = (now - visits[-1].start).total_seconds()
    plan = project(planned, visits, now=now, remaining=planned[current] - elapsed)
    overruns = sum(m * 60 - planned[s] for s, m in history[:-1])
    assert plan.drift == pytest.approx(overruns, abs=1e-3)


@given(plans, stays, st.floats(0, 600, allow_nan=False))
def test_ended_the_end_is_the_actual_end(planned, history, after):
    visits = lived(*history)
    end = visits[-1].start + timedelta(minutes=5)
    closed = [*visits[:-1], Visit(visits[-1].step, visits[-1].start, end)]
    plan = project(planned, closed, now=end + timedelta(minutes=after), ended_at=end)
    assert plan.projected_end == end
    assert sum(row.actual or 0 for row in plan.rows) == pytest.approx((end - plan.start).total_seconds())


# --- from a real workshop ---------------------------------------------------------------------


def test_a_workshop_reads_its_agenda_from_its_log(cast):
    workshop = cast.at_step(Step.CLARIFICATION)
    actions.go_back(workshop.pk, from_step=2, reason="préciser", acting_user=cast.claire)
    actions.control_timer(workshop.pk, op="extend", minutes=5, acting_user=cast.claire)
    workshop.refresh_from_db()
    plan = agenda.of(workshop, workshop.timer_started_at + timedelta(minutes=1))
    assert [row.state for row in plan.rows][:3] == ["current", "todo", "todo"]
    assert plan.rows[1].actual is not None  # the clarification was entered once
    assert 5 * 60 - 2 <= plan.drift <= 5 * 60 + 2  # the extension; the steps before took seconds
    last_step_event = workshop.events.filter(kind="step.changed").order_by("-seq").first().seq
    assert plan.run == last_step_event  # an extension is the same run
    actions.control_timer(workshop.pk, op="reset", acting_user=cast.claire)
    workshop.refresh_from_db()
    assert agenda.of(workshop, workshop.timer_started_at).run == workshop.seq  # a restart is a new run


def test_the_room_shows_the_agenda_to_everyone(cast, client):
    cast.at_step(Step.CLARIFICATION)
    client.force_login(cast.sophie)
    page = client.get(f"/workshops/{cast.workshop.pk}/").content.decode()
    assert 'id="agenda"' in page and "data-projected-end" in page and 'data-live="1"' in page


def test_the_card_lets_the_browser_count_the_current_step_on(cast):
    workshop = cast.at_step(Step.EXPOSE)
    now = workshop.timer_started_at + timedelta(minutes=3)
    card = agenda.card(workshop, now)
    current = next(row for row in card["rows"] if row["state"] == "current")
    assert abs(current["since"] - workshop.timer_started_at.timestamp()) <= 1  # now − since: 3 minutes
    assert "3" in current["actual"] and "15" in current["planned"]
    assert all(row["since"] is None for row in card["rows"] if row["state"] != "current")
    assert card["ahead"] == 2400 + 900 + 2100 + 900 + 1200  # what room.js adds after the current step
