"""The step timer as timestamps, so it survives restarts and reads the same on every worker."""
from datetime import datetime

from workshops.models import Workshop


def elapsed(workshop: Workshop, now: datetime) -> float:
    running = (now - workshop.timer_started_at).total_seconds() if workshop.timer_started_at else 0.0
    return workshop.timer_elapsed + running


def state(workshop: Workshop, now: datetime) -> dict:
    """What a browser needs to count down: remaining = duration - elapsed - (running ? since at : 0)."""
    return {
        "duration": workshop.timer_duration,
        "elapsed": round(elapsed(workshop, now), 3),
        "running": workshop.timer_started_at is not None,
        "at": now.isoformat(),
    }


def restart(workshop: Workshop, seconds: int, now: datetime) -> None:
    workshop.timer_duration = seconds
    workshop.timer_elapsed = 0
    workshop.timer_started_at = now


def pause(workshop: Workshop, now: datetime) -> None:
    workshop.timer_elapsed = elapsed(workshop, now)
    workshop.timer_started_at = None


def resume(workshop: Workshop, now: datetime) -> None:
    if workshop.timer_started_at is None:
        workshop.timer_started_at = now


def extend(workshop: Workshop, seconds: int) -> None:
    workshop.timer_duration += seconds


TIMER_FIELDS = ["timer_duration", "timer_elapsed", "timer_started_at"]
