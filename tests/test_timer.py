from datetime import UTC, datetime, timedelta

from workshops import timer
from workshops.models import Workshop

T0 = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def fresh(duration=900) -> Workshop:
    w = Workshop()
    timer.restart(w, duration, T0)
    return w


def test_it_counts_down_while_running():
    w = fresh()
    assert timer.state(w, at(60)) == {"duration": 900, "elapsed": 60.0, "running": True, "at": at(60).isoformat()}


def test_a_pause_freezes_the_time_spent():
    w = fresh()
    timer.pause(w, at(100))
    assert timer.elapsed(w, at(500)) == 100
    timer.resume(w, at(500))
    assert timer.elapsed(w, at(530)) == 130


def test_resuming_a_running_timer_changes_nothing():
    w = fresh()
    timer.resume(w, at(50))
    assert timer.elapsed(w, at(60)) == 60


def test_extending_adds_time_without_touching_what_was_spent():
    w = fresh(600)
    timer.extend(w, 300)
    state = timer.state(w, at(700))
    assert state["duration"] == 900 and state["elapsed"] == 700


def test_overtime_is_elapsed_beyond_duration():
    w = fresh(600)
    state = timer.state(w, at(660))
    assert state["duration"] - state["elapsed"] == -60


def test_reset_starts_the_step_time_again():
    w = fresh(600)
    timer.pause(w, at(300))
    timer.restart(w, 600, at(400))
    assert timer.elapsed(w, at(410)) == 10
