"""The agenda of a workshop: the six time boxes as planned, as lived, and the end projected from now.

`project` is pure (plain values in, plain values out) so that its arithmetic is tested on its own;
`of(workshop, now)` reads the step changes from the event log and the timer from the workshop.

The projection is honest about time already gone: steps done count at their actual duration
(pauses included: the group was there), the current step at what its timer still has
(extensions included; nothing once in overtime, since overtime is already behind us), the steps
after it at their planned time — a step left by "go back" will be lived again, at its planned time.
"""
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from workshops import timer
from workshops.models import Workshop
from workshops.steps import STEPS, Step, planned_seconds

DONE, CURRENT, TODO, SKIPPED = "done", "current", "todo", "skipped"
STEP_EVENTS = ("workshop.started", "step.changed", "workshop.ended")


@dataclass(frozen=True)
class Visit:
    """A stay in one step, from entering it to leaving it (None: still there)."""

    step: int
    start: datetime
    end: datetime | None = None


@dataclass(frozen=True)
class Row:
    step: int
    planned: int  # seconds
    actual: float | None  # seconds spent in the step so far, over all its visits; None if never entered
    state: str


@dataclass(frozen=True)
class Agenda:
    rows: list[Row]
    start: datetime  # when the first step started, or is expected to
    planned_end: datetime  # start + every time box
    projected_end: datetime  # the actual end once ended
    status: str
    run: int = 0  # the sequence number that started the current timer run (a step entered, a reset)

    @property
    def drift(self) -> float:
        """Seconds late (positive) or early (negative) against the plan."""
        return (self.projected_end - self.planned_end).total_seconds()

    @property
    def drift_minutes(self) -> int:
        return round(self.drift / 60)

    @property
    def total_planned(self) -> int:
        return sum(row.planned for row in self.rows)


def project(
    planned: dict[int, int],
    visits: list[Visit],
    *,
    now: datetime,
    remaining: float = 0.0,
    scheduled: datetime | None = None,
    ended_at: datetime | None = None,
) -> Agenda:
    """`planned`: seconds per step; `visits`: in order, contiguous, the last one open while live;
    `remaining`: what the current step's timer still has (negative in overtime)."""
    total = sum(planned.values())
    steps = sorted(planned)
    if not visits:  # not started: from the session's time, or from now if that time has passed
        start = max(now, scheduled) if scheduled else now
        rows = [Row(s, planned[s], None, TODO) for s in steps]
        return Agenda(rows, start, (scheduled or now) + timedelta(seconds=total), start + timedelta(seconds=total), Workshop.PLANNED)
    start = visits[0].start
    spent = _spent(visits, ended_at or now)
    if ended_at is not None:
        rows = [Row(s, planned[s], spent.get(s), DONE if s in spent else SKIPPED) for s in steps]
        return Agenda(rows, start, start + timedelta(seconds=total), ended_at, Workshop.ENDED)
    current = visits[-1].step
    ahead = sum(planned[s] for s in steps if s > current)
    rows = [
        Row(s, planned[s], spent.get(s), DONE if s < current else CURRENT if s == current else TODO) for s in steps
    ]
    projected = now + timedelta(seconds=max(0.0, remaining) + ahead)
    return Agenda(rows, start, start + timedelta(seconds=total), projected, Workshop.LIVE)


def _spent(visits: list[Visit], until: datetime) -> dict[int, float]:
    spent: dict[int, float] = {}
    for visit in visits:
        end = visit.end or until
        spent[visit.step] = spent.get(visit.step, 0.0) + max(0.0, (end - visit.start).total_seconds())
    return spent


def visits_from(changes: list[tuple[datetime, str, int | None]]) -> list[Visit]:
    """The stays in each step, from the log's (time, kind, step entered) in order."""
    visits: list[Visit] = []
    for at, kind, step in changes:
        if visits and visits[-1].end is None:
            visits[-1] = Visit(visits[-1].step, visits[-1].start, at)
        if kind != "workshop.ended" and step is not None:
            visits.append(Visit(int(step), at))
    return visits


def history(workshop: Workshop) -> tuple[list, int]:
    """What the agenda needs from the event log: the step changes, and the number of the timer's
    current run. The same for every member at one sequence number (room.shared keeps it)."""
    log = list(workshop.events.filter(kind__in=(*STEP_EVENTS, "timer.changed")).order_by("seq"))
    changes = [
        (e.created_at, e.kind, Step.EXPOSE if e.kind == "workshop.started" else e.payload.get("step"))
        for e in log if e.kind in STEP_EVENTS
    ]
    runs = [e.seq for e in log if e.kind != "timer.changed" or e.payload.get("op") == "reset"]
    return changes, max(runs, default=0)


def of(workshop: Workshop, now: datetime, known: tuple[list, int] | None = None) -> Agenda:
    """The agenda of this workshop at `now` (`known`: its `history`, if already read)."""
    planned = {int(s): planned_seconds(s, workshop.short_format, workshop.minutes) for s in Step}
    changes, run = known if known is not None else history(workshop)
    visits = visits_from(changes)
    if workshop.status == Workshop.PLANNED:
        visits = []
    remaining = workshop.timer_duration - timer.elapsed(workshop, now) if workshop.status == Workshop.LIVE else 0.0
    ended_at = (workshop.ended_at or now) if workshop.status == Workshop.ENDED and visits else None
    projected = project(planned, visits, now=now, remaining=remaining, scheduled=workshop.scheduled_at, ended_at=ended_at)
    return replace(projected, run=run)


def card(workshop: Workshop, now: datetime, known: tuple[list, int] | None = None) -> dict:
    """The agenda card's context for this workshop at `now`."""
    return context(of(workshop, now, known), now)


def context(agenda: Agenda, now: datetime) -> dict:
    """What the agenda card shows: titles, minutes, times (aware: templates localise them).
    `since` (epoch seconds) lets room.js count the current step's minutes on: now − since."""
    return {
        "rows": [
            {
                "number": row.step,
                "title": STEPS[Step(row.step)].title,
                "planned": minutes_label(round(row.planned / 60)),
                "actual": None if row.actual is None else minutes_label(round(row.actual / 60)),
                "state": row.state,
                "since": round(now.timestamp() - row.actual) if row.state == CURRENT and row.actual is not None else None,
            }
            for row in agenda.rows
        ],
        "minutes": minutes_label("{n}"),
        "status": agenda.status,
        "run": agenda.run,
        "start": agenda.start,
        "planned_end": agenda.planned_end,
        "projected_end": agenda.projected_end,
        "drift": agenda.drift_minutes,
        "drift_label": drift_label(agenda.drift_minutes),
        "ahead": sum(row.planned for row in agenda.rows if row.state == TODO),
    }


def minutes_label(n) -> str:
    return _("{n} min").replace("{n}", str(n))


def drift_label(minutes: int) -> str:
    """"+7 min", "−3 min" or "on time"; room.js writes the same strings as the drift moves."""
    if minutes > 0:
        return _("+{n} min").replace("{n}", str(minutes))
    if minutes < 0:
        return _("−{n} min").replace("{n}", str(-minutes))
    return _("on time")
