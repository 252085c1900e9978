"""Speaking turns and balance: who asks for the floor, who has it, and for how long in each step.

The rules, as the facilitator lives them:
- Participants (the client, the consultants) raise a hand and say "I'm speaking"; the facilitator
  guards the process: he gives the floor and runs the speaking clock, he never holds it himself.
- The queue is the raised hands in the order they were raised. The app proposes to give the floor
  next to whoever of them has spoken least in this step (seconds, then contributions, then the
  earliest hand).
- One person speaks at a time in a workshop: starting a turn ends the current one at that instant
  (the overlap rule). A step change, a pause of the step timer and the end of the workshop close
  the open turn; no turn starts while the timer is paused. The accounting below clips turns by the
  same rules, so it stays right even for intervals that overlap or cross a pause or a step change.
- Balance: among those who share the floor in a step (below), fair share = their speaking time /
  their number; balance = 100 when everyone spoke equally, 0 when one person spoke all the time
  (how much of the time would have to change hands, scaled). Whoever spoke more than twice the
  fair share gets a gentle hint, for the facilitator's eyes only.

Pure functions first (no database), then the actions (lock, check, write, record the event).
What the room, the speaking clock and the session record show is in workshops.speaking_view.
"""
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from workshops import actions, events, serialize
from workshops.errors import Invalid, NotFound, Refused
from workshops.models import HandRaise, Membership, SpeakingTurn, Workshop
from workshops.steps import Role, Step

# In the exposé, the contract and the action plan the client has the floor by design: times are
# shown, not weighed. Elsewhere the floor is shared by these roles.
SHARING: dict[Step, frozenset[Role]] = {
    Step.EXPOSE: frozenset(),
    Step.CLARIFICATION: frozenset({Role.CONSULTANT}),  # the client answers: his time is not theirs to share
    Step.CONTRAT: frozenset(),
    Step.CONSULTATION: frozenset({Role.CONSULTANT}),
    Step.PLAN: frozenset(),
    Step.APPRENTISSAGE: frozenset({Role.CLIENT, Role.CONSULTANT}),
}
HINT_FACTOR = 2  # "more than twice the fair share"
HINT_AFTER_SECONDS = 60  # the first words of a step are no imbalance yet


# --- pure: accounting, queue, balance ------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    user: int
    step: int
    start: float  # seconds (any origin: tests use small numbers, the room epoch seconds)
    end: float | None  # None: still speaking


def speaking_seconds(turns, *, now: float, boundaries=(), pauses=()) -> dict[int, dict[int, float]]:
    """{step: {user: seconds}}. A turn ends at the first of: its own end, the start of the next
    turn (one speaker at a time), the first step boundary after its start; time inside a pause
    (start, end or None) does not count."""
    ordered = sorted(turns, key=lambda t: t.start)  # stable: of two equal starts, the later given wins
    cuts = sorted(boundaries)
    spans = [(a, now if b is None else b) for a, b in pauses]
    totals: dict[int, dict[int, float]] = {}
    for i, turn in enumerate(ordered):
        end = min(now if turn.end is None else turn.end, now)
        if i + 1 < len(ordered):
            end = min(end, ordered[i + 1].start)
        end = min([end, *(b for b in cuts if b > turn.start)])
        if end <= turn.start:
            continue
        paused = sum(max(0.0, min(end, b) - max(turn.start, a)) for a, b in _merged(spans))
        seconds = (end - turn.start) - paused
        if seconds > 0:
            per_step = totals.setdefault(turn.step, {})
            per_step[turn.user] = per_step.get(turn.user, 0.0) + seconds
    return totals


def _merged(spans):
    """Overlapping pauses counted once."""
    merged: list[list[float]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return merged


def queue_order(hands):
    """First come, first served: the raised hands by the time they were raised."""
    return sorted(hands, key=lambda h: (h.raised_at, h.pk or 0))


def propose_next(hands, seconds: dict[int, float], contributions: dict[int, int]):
    """The raised hand of whoever has spoken least in this step; the earliest hand breaks ties."""
    if not hands:
        return None
    return min(hands, key=lambda h: (round(seconds.get(h.user_id, 0.0), 3), contributions.get(h.user_id, 0), h.raised_at, h.pk or 0))


@dataclass(frozen=True)
class Balance:
    score: int | None  # 0–100; None when fewer than two share the floor or nobody spoke
    fair_share: float  # seconds
    over: tuple[int, ...]  # users above HINT_FACTOR × fair share


def balance(seconds: dict[int, float], sharing) -> Balance:
    people = sorted(set(sharing))
    total = sum(seconds.get(u, 0.0) for u in people)
    if len(people) < 2 or total <= 0:
        return Balance(None, total / len(people) if people else 0.0, ())
    fair = total / len(people)
    moved = sum(abs(seconds.get(u, 0.0) - fair) for u in people) / 2 / total  # share that would change hands
    most = 1 - 1 / len(people)  # one person spoke all the time
    score = round(100 * (1 - moved / most))
    over = tuple(u for u in people if seconds.get(u, 0.0) > HINT_FACTOR * fair) if total >= HINT_AFTER_SECONDS else ()
    return Balance(max(0, min(100, score)), fair, over)


def duration_text(seconds: float) -> str:
    """3:05, or 1:02:09 past an hour."""
    s = int(round(seconds))
    hours, rest = divmod(s, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


# --- actions ------------------------------------------------------------------------------


# The workshop row lock and the live check are the actions' own. workshops.actions imports this
# module in turn, for its hooks: each calls the other only at run time, never at import.
def _locked(workshop_id, acting_user):
    return actions._locked(workshop_id, acting_user)


def _require_live(workshop: Workshop) -> None:
    actions._require_live(workshop)


# Who may do what with the floor: the facilitator guards it and gives it, the participants take
# it. The actions below check this table; the room asks `floor_acts` instead of testing roles.
PARTICIPANTS = frozenset({Role.CLIENT, Role.CONSULTANT})
FLOOR_ACTS = {
    "raise_hand": PARTICIPANTS,
    "speak": PARTICIPANTS,
    "give_floor": frozenset({Role.FACILITATOR}),
    "end_turn": frozenset({Role.FACILITATOR}),
    "lower_any_hand": frozenset({Role.FACILITATOR}),
}


def floor_acts(role: Role | str) -> dict[str, bool]:
    return {act: Role(role) in roles for act, roles in FLOOR_ACTS.items()}


def _require(role: Role, act: str) -> None:
    if role in FLOOR_ACTS[act]:
        return
    if act == "lower_any_hand":
        raise Refused(_("Only the facilitator can lower someone else's hand."))
    if role == Role.FACILITATOR:
        raise Refused(_("The facilitator guards the process: he gives the floor, he does not take it."))
    raise Refused(_("Only the facilitator gives the floor."))


def _require_running(workshop: Workshop) -> None:
    if workshop.timer_started_at is None:
        raise Refused(_("The timer is paused: resume it to count speaking time."))


def open_turn(workshop: Workshop) -> SpeakingTurn | None:
    return SpeakingTurn.objects.filter(workshop=workshop, ended_at__isnull=True).select_related("user").first()


def _open_hand(workshop: Workshop, user_id: int) -> HandRaise | None:
    return HandRaise.objects.filter(workshop=workshop, user_id=user_id, lowered_at__isnull=True).first()


def _announce(workshop: Workshop, acting_user) -> None:
    events.record(workshop, "speaking.changed", {"speaking": public_state(workshop)}, actor=acting_user)


def raise_hand(workshop_id: int, *, acting_user) -> HandRaise:
    with _locked(workshop_id, acting_user) as (workshop, role):
        _require_live(workshop)
        _require(role, "raise_hand")
        if hand := _open_hand(workshop, acting_user.pk):
            return hand  # already in the queue: a double click keeps his place
        now = timezone.now()
        hand = HandRaise.objects.create(workshop=workshop, user=acting_user, step=workshop.step, raised_at=now)
        _announce(workshop, acting_user)
        return hand


def lower_hand(workshop_id: int, *, user_id=None, acting_user) -> None:
    """A participant lowers his own hand; the facilitator may lower anyone's."""
    with _locked(workshop_id, acting_user) as (workshop, role):
        _require_live(workshop)
        target = acting_user.pk if user_id is None else user_id
        if target != acting_user.pk:
            _require(role, "lower_any_hand")
        hand = _open_hand(workshop, target)
        if hand is None:
            return  # already lowered (or answered meanwhile): nothing to do
        now = timezone.now()
        hand.lowered_at = now
        hand.save(update_fields=["lowered_at"])
        _announce(workshop, acting_user)


def _participant(workshop: Workshop, user_id) -> int:
    member = Membership.objects.filter(group_id=workshop.group_id, user_id=user_id).exclude(user_id=workshop.facilitator_id)
    if user_id is None or not member.exists():
        raise NotFound(_("This person is not a participant of this workshop."))
    return user_id


def _start_turn(workshop: Workshop, user_id: int, source: str, now: datetime) -> SpeakingTurn:
    """The overlap rule: whoever had the floor stops now. His raised hand is answered."""
    _close_open_turn(workshop, now)
    HandRaise.objects.filter(workshop=workshop, user_id=user_id, lowered_at__isnull=True).update(lowered_at=now, answered=True)
    return SpeakingTurn.objects.create(workshop=workshop, user_id=user_id, step=workshop.step, started_at=now, source=source)


def _close_open_turn(workshop: Workshop, now: datetime) -> bool:
    return SpeakingTurn.objects.filter(workshop=workshop, ended_at__isnull=True).update(ended_at=now) > 0


def give_floor(workshop_id: int, *, user_id, source=None, acting_user) -> None:
    """The facilitator gives the floor, to a raised hand or to anyone of the group (in the room,
    someone may have no screen). `source`: "clock" from the speaking clock."""
    source = source or SpeakingTurn.FLOOR
    if source not in (SpeakingTurn.FLOOR, SpeakingTurn.CLOCK):
        raise Invalid(_("Unknown way of giving the floor."))
    with _locked(workshop_id, acting_user) as (workshop, role):
        _require_live(workshop)
        _require(role, "give_floor")
        _participant(workshop, user_id)
        current = open_turn(workshop)
        if current is not None and current.user_id == user_id:
            return  # he already has it (a double tap)
        _require_running(workshop)
        now = timezone.now()
        _start_turn(workshop, user_id, source, now)
        _announce(workshop, acting_user)


def speak(workshop_id: int, *, on=True, acting_user) -> None:
    """The speaker's own "I'm speaking" toggle: on starts his turn, off ends it."""
    with _locked(workshop_id, acting_user) as (workshop, role):
        _require_live(workshop)
        _require(role, "speak")
        current = open_turn(workshop)
        mine = current is not None and current.user_id == acting_user.pk
        if on == mine:
            return  # already so: a resend changes nothing
        now = timezone.now()
        if on:
            _require_running(workshop)
            _start_turn(workshop, acting_user.pk, SpeakingTurn.SELF, now)
        else:
            _close_open_turn(workshop, now)
        _announce(workshop, acting_user)


def end_turn(workshop_id: int, *, acting_user) -> None:
    """The facilitator's "nobody speaks" (the clock's stop button)."""
    with _locked(workshop_id, acting_user) as (workshop, role):
        _require_live(workshop)
        _require(role, "end_turn")
        now = timezone.now()
        if _close_open_turn(workshop, now):
            _announce(workshop, acting_user)


# Called by workshops.actions inside their lock, before their own event.


def close_for_step_change(workshop: Workshop, now: datetime) -> None:
    """A new step (or the end): the open turn ends and the queue starts afresh. The step change
    re-renders every room, so no event of its own."""
    _close_open_turn(workshop, now)
    HandRaise.objects.filter(workshop=workshop, lowered_at__isnull=True).update(lowered_at=now)


def close_for_pause(workshop: Workshop, now: datetime, acting_user) -> None:
    if _close_open_turn(workshop, now):
        _announce(workshop, acting_user)


# --- what the room shows ------------------------------------------------------------------


def public_state(workshop: Workshop) -> dict:
    """Who has the floor and the queue: what every member sees (the event's payload)."""
    turn = open_turn(workshop)
    hands = queue_order(HandRaise.objects.filter(workshop=workshop, lowered_at__isnull=True).select_related("user"))
    return {
        "step": workshop.step,
        "speaker": {"person": serialize.person(turn.user), "since": turn.started_at.isoformat()} if turn else None,
        "queue": [{"person": serialize.person(h.user), "raised_at": h.raised_at.isoformat()} for h in hands],
    }
