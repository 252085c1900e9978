"""What the room, the speaking clock and the session record show of speaking turns and balance.
The rules and the accounting are in workshops.speaking; this module only reads and shapes."""
from datetime import datetime

from django.db.models import Count
from django.utils import timezone

from workshops import presence
from workshops.models import Attendance, Contribution, HandRaise, Learning, Membership, SpeakingTurn, Workshop
from workshops.people import display_name, role_in
from workshops.speaking import (
    SHARING,
    Turn,
    balance,
    duration_text,
    floor_acts,
    open_turn,
    propose_next,
    public_state,
    queue_order,
    speaking_seconds,
)
from workshops.steps import STEPS, Step


def card(state: dict, viewer: dict, now: datetime) -> dict:
    """The template context of the speaking card, for one viewer, at `now` (no query)."""
    speaker = state.get("speaker")
    elapsed = (now - datetime.fromisoformat(speaker["since"])).total_seconds() if speaker else 0
    queued = [entry["person"]["id"] for entry in state.get("queue", [])]
    return {
        "speaking": state,
        "speaking_elapsed": max(0, round(elapsed)),
        "speaking_elapsed_text": duration_text(max(0, elapsed)),
        "my_hand_raised": viewer["id"] in queued,
        "i_speak": bool(speaker) and speaker["person"]["id"] == viewer["id"],
        "floor": floor_acts(viewer["role"]),
        "viewer": viewer,
    }


def _clock_marks(workshop: Workshop) -> tuple[list[float], list[tuple[float, float | None]]]:
    """Step boundaries and pauses from the event log (times as epoch seconds)."""
    boundaries, pauses, paused_at = [], [], None
    rows = workshop.events.filter(kind__in=("step.changed", "timer.changed", "workshop.ended")).order_by("seq")
    for event in rows:
        at = event.created_at.timestamp()
        if event.kind == "timer.changed":  # a purged payload ({}) leaves the timer as it was
            running = (event.payload.get("timer") or {}).get("running", paused_at is None)
        else:
            running = event.kind == "step.changed"  # a new step's timer runs; the end stops it
        if event.kind != "timer.changed":
            boundaries.append(at)
        if not running and paused_at is None:
            paused_at = at
        elif running and paused_at is not None:
            pauses.append((paused_at, at))
            paused_at = None
    if paused_at is not None:
        pauses.append((paused_at, None))
    return boundaries, pauses


def seconds_by_step(workshop: Workshop, now: datetime) -> dict[int, dict[int, float]]:
    turns = [
        Turn(t.user_id, t.step, t.started_at.timestamp(), t.ended_at.timestamp() if t.ended_at else None)
        for t in SpeakingTurn.objects.filter(workshop=workshop)
    ]
    boundaries, pauses = _clock_marks(workshop) if turns else ([], [])
    return speaking_seconds(turns, now=now.timestamp(), boundaries=boundaries, pauses=pauses)


def contributions_by_step(workshop: Workshop) -> dict[int, dict[int, int]]:
    """What each one said in writing, per step: questions, contributions, learnings."""
    counts: dict[int, dict[int, int]] = {}
    for row in Contribution.objects.filter(workshop=workshop).values("step", "author_id").annotate(n=Count("id")):
        counts.setdefault(row["step"], {})[row["author_id"]] = row["n"]
    for row in Learning.objects.filter(workshop=workshop).values("author_id").annotate(n=Count("id")):
        per = counts.setdefault(int(Step.APPRENTISSAGE), {})
        per[row["author_id"]] = per.get(row["author_id"], 0) + row["n"]
    return counts


def _step_figures(workshop, step, seconds, counts, people, attending) -> dict:
    """One step's table: a row per participant who was there, spoke or wrote; the balance."""
    ids = [uid for uid in people if uid in attending or seconds.get(uid) or counts.get(uid)]
    total = sum(seconds.get(uid, 0.0) for uid in ids)
    sharing = [uid for uid in ids if role_in(workshop, uid) in SHARING[Step(step)]]
    figure = balance(seconds, sharing)
    rows = [
        {
            "person": {"id": uid, "name": people[uid]},
            "seconds": round(seconds.get(uid, 0.0)),
            "time": duration_text(seconds.get(uid, 0.0)),
            "contributions": counts.get(uid, 0),
            "share": seconds.get(uid, 0.0) / total if total else 0.0,
            "percent": round(100 * seconds.get(uid, 0.0) / total) if total else 0,
            "over": uid in figure.over,
        }
        for uid in ids
    ]
    return {
        "step": step,
        "title": STEPS[Step(step)].title,
        "rows": rows,
        "weighed": bool(SHARING[Step(step)]),
        "balance": figure.score,
        "fair_time": duration_text(figure.fair_share),
        "over": [people[uid] for uid in figure.over],
        "total_time": duration_text(total),
    }


def _participants(workshop: Workshop) -> dict[int, str]:
    rows = Membership.objects.filter(group_id=workshop.group_id).exclude(user_id=workshop.facilitator_id).select_related("user")
    people = {m.user_id: display_name(m.user) for m in rows}
    extra = SpeakingTurn.objects.filter(workshop=workshop).exclude(user_id__in=[*people, workshop.facilitator_id])
    for turn in extra.select_related("user"):  # a former member: his time stays in the figures
        people[turn.user_id] = display_name(turn.user)
    return dict(sorted(people.items(), key=lambda item: (item[1].casefold(), item[0])))


def live_figures(workshop: Workshop, now: datetime | None = None) -> dict:
    """The facilitator's panel: the current step's table, balance, hint and proposed next speaker."""
    now = now or timezone.now()
    people = _participants(workshop)
    present = presence.present_ids(workshop.pk)
    step = workshop.step
    seconds = seconds_by_step(workshop, now).get(step, {})
    counts = contributions_by_step(workshop).get(step, {})
    figures = _step_figures(workshop, step, seconds, counts, people, present)
    hands = list(HandRaise.objects.filter(workshop=workshop, lowered_at__isnull=True))
    proposed = propose_next(queue_order(hands), seconds, counts)
    turn = open_turn(workshop)
    figures["proposed"] = {"id": proposed.user_id, "name": people.get(proposed.user_id, "")} if proposed else None
    figures["speaker_id"] = turn.user_id if turn else None
    figures["clock"] = [  # the speaking clock's buttons: who is here first, then the rest of the group
        {"id": uid, "name": name, "present": uid in present, "speaking": turn is not None and turn.user_id == uid}
        for uid, name in sorted(people.items(), key=lambda item: item[0] not in present)
    ]
    return figures


def record(workshop: Workshop) -> list[dict]:
    """The session record: per step that was reached, each one's time and contributions, the
    balance. For the group's members; the coordinator never reads it."""
    if workshop.status == Workshop.PLANNED:
        return []
    now = workshop.ended_at or timezone.now()
    people = _participants(workshop)
    seconds = seconds_by_step(workshop, now)
    counts = contributions_by_step(workshop)
    attending = set()
    if workshop.session_id:
        attending = set(Attendance.objects.filter(session_id=workshop.session_id, present=True).values_list("user_id", flat=True))
    steps = sorted(set(seconds) | set(counts))
    return [_step_figures(workshop, step, seconds.get(step, {}), counts.get(step, {}), people, attending) for step in steps]


# Events after which the facilitator's figures (panel, clock) are fetched again: they never travel
# in an event, so they reach nobody else, and they count what was just written.
REFRESHING = frozenset({"speaking.changed", "question.asked", "contribution.added", "learning.added"})
FACILITATOR_PARTS = ["speaking-balance", "speaking-clock"]


def refresh_ops(kind: str, viewer: dict) -> list[dict]:
    if kind in REFRESHING and viewer["is_facilitator"]:
        return [{"op": "refresh", "ids": FACILITATOR_PARTS}]
    return []


def room_context(workshop: Workshop, viewer: dict, state: dict | None = None, now: datetime | None = None) -> dict:
    """The speaking card in the live room, and the facilitator's figures (`state`: the
    `public_state`, if already read)."""
    if workshop.status != Workshop.LIVE:
        return {"speaking": None}
    now = now or timezone.now()
    ctx = card(state if state is not None else public_state(workshop), viewer, now)
    if viewer["is_facilitator"]:
        ctx["speaking_figures"] = live_figures(workshop, now)
    return ctx
