"""Speaking turns and balance: the queue's order, the accounting of speaking time (pauses,
overlaps, step changes), the balance figure and its hint, and the actions that keep them."""
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import make_user
from workshops import actions, room, speaking, speaking_view
from workshops.errors import Invalid, NotFound, Refused
from workshops.models import Event, HandRaise, Membership, SpeakingTurn
from workshops.speaking import Turn, balance, propose_next, queue_order, speaking_seconds
from workshops.steps import Step


@pytest.fixture(autouse=True)
def _english():
    """Refusals are matched on their English source text."""
    with translation.override("en"):
        yield


# --- accounting (pure) -------------------------------------------------------------------


def test_turns_add_up_per_person_and_per_step():
    turns = [Turn(1, 2, 0, 30), Turn(2, 2, 30, 100), Turn(1, 2, 100, 110), Turn(1, 4, 200, 260)]
    assert speaking_seconds(turns, now=1000) == {2: {1: 40, 2: 70}, 4: {1: 60}}


def test_an_open_turn_counts_up_to_now():
    assert speaking_seconds([Turn(1, 2, 10, None)], now=45) == {2: {1: 35}}


def test_overlapping_turns_are_clipped_the_later_speaker_has_the_floor():
    # Marc said "I'm speaking" at 0; Sophie at 5 while Marc's turn was not closed: one voice at a time.
    assert speaking_seconds([Turn(1, 2, 0, 10), Turn(2, 2, 5, 15)], now=100) == {2: {1: 5, 2: 10}}
    # A turn inside another one: the outer speaker gets nothing after the inner one began.
    assert speaking_seconds([Turn(1, 2, 0, 100), Turn(2, 2, 20, 30)], now=100) == {2: {1: 20, 2: 10}}


def test_time_during_a_pause_does_not_count():
    assert speaking_seconds([Turn(1, 2, 0, 10)], now=100, pauses=[(3, 5)]) == {2: {1: 8}}
    # a pause still going on, overlapping pauses counted once
    assert speaking_seconds([Turn(1, 2, 0, None)], now=100, pauses=[(50, None), (40, 60)]) == {2: {1: 40}}


def test_a_step_change_ends_the_turn_it_interrupts():
    turns = [Turn(1, 2, 0, None), Turn(2, 3, 60, 90)]
    assert speaking_seconds(turns, now=200, boundaries=[50]) == {2: {1: 50}, 3: {2: 30}}
    # a turn begun at the very instant of the change belongs to the new step
    assert speaking_seconds([Turn(2, 3, 50, 70)], now=200, boundaries=[50]) == {3: {2: 20}}


def oracle(turns, now, boundaries, pauses):
    """Second by second: who has the floor is whoever started speaking last, until his own end,
    the next step boundary or now; nothing counts during a pause."""
    totals = {}
    for t in range(now):
        started = [(turn.start, i, turn) for i, turn in enumerate(turns) if turn.start <= t]
        if not started:
            continue
        _start, _i, turn = max(started, key=lambda x: (x[0], x[1]))
        ended = turn.end is not None and t >= turn.end
        crossed = any(turn.start < b <= t for b in boundaries)
        paused = any(a <= t < (now if b is None else b) for a, b in pauses)
        if not (ended or crossed or paused):
            per = totals.setdefault(turn.step, {})
            per[turn.user] = per.get(turn.user, 0) + 1
    return totals


instants = st.integers(0, 60)
turn_strategy = st.builds(
    lambda user, step, start, length: Turn(user, step, start, None if length is None else start + length),
    st.integers(1, 4), st.integers(1, 6), instants, st.none() | st.integers(0, 30),
)
pause_strategy = st.tuples(instants, st.none() | st.integers(0, 20)).map(lambda p: (p[0], None if p[1] is None else p[0] + p[1]))


@given(
    turns=st.lists(turn_strategy, max_size=8),
    boundaries=st.lists(instants, max_size=3),
    pauses=st.lists(pause_strategy, max_size=3),
    now=st.integers(0, 90),
)
def test_the_accounting_agrees_second_by_second_whatever_the_turns(turns, boundaries, pauses, now):
    got = speaking_seconds(turns, now=now, boundaries=boundaries, pauses=pauses)
    expected = oracle(turns, now, boundaries, pauses)
    rounded = {step: {u: round(s, 6) for u, s in per.items()} for step, per in got.items()}
    assert rounded == expected
    assert sum(sum(per.values()) for per in got.values()) <= now  # one voice at a time, never more time than passed


# --- the queue and the proposal (pure) -----------------------------------------------------

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def hand(user_id, second, pk=None):
    return SimpleNamespace(user_id=user_id, raised_at=T0 + timedelta(seconds=second), pk=pk or user_id)


def test_the_queue_is_first_come_first_served():
    hands = [hand(3, 20), hand(1, 5), hand(2, 5, pk=9), hand(4, 0)]
    assert [h.user_id for h in queue_order(hands)] == [4, 1, 2, 3]  # same second: the earlier row first


def test_the_proposal_favours_who_has_spoken_least_in_the_step():
    hands = queue_order([hand(1, 0), hand(2, 10), hand(3, 20)])
    assert propose_next(hands, {1: 120, 2: 30, 3: 60}, {}).user_id == 2
    # equal time: fewer contributions first; then the earliest hand
    assert propose_next(hands, {1: 30, 2: 30, 3: 30}, {1: 2, 2: 1, 3: 1}).user_id == 2
    assert propose_next(hands, {}, {}).user_id == 1
    assert propose_next([], {1: 3}, {}) is None


# --- the balance figure (pure) ---------------------------------------------------------------


def test_balance_is_100_when_everyone_spoke_equally_and_0_when_one_spoke_all():
    assert balance({1: 60, 2: 60, 3: 60}, [1, 2, 3]).score == 100
    assert balance({1: 180}, [1, 2, 3]).score == 0
    assert balance({1: 90, 2: 90}, [1, 2, 3]).score == 50  # a third of the time would have to change hands, of two thirds at worst


def test_the_hint_names_who_spoke_more_than_twice_the_fair_share():
    figure = balance({1: 300, 2: 30, 3: 30, 4: 0}, [1, 2, 3, 4])
    assert figure.fair_share == 90 and figure.over == (1,)
    assert balance({1: 170, 2: 70, 3: 60}, [1, 2, 3]).over == ()  # 170 < 2 × 100: no hint
    assert balance({1: 50, 2: 0, 3: 0}, [1, 2, 3]).over == ()  # the step has just begun
    assert balance({1: 50}, [1]).score is None and balance({}, [1, 2]).score is None  # nothing to weigh


@given(st.lists(st.integers(0, 3600), min_size=2, max_size=8), st.integers(2, 50), st.randoms())
def test_balance_is_a_score_from_0_to_100_that_ignores_order_and_scale(times, factor, rnd):
    people = list(range(len(times)))
    seconds = dict(zip(people, times, strict=True))
    figure = balance(seconds, people)
    if sum(times) == 0:
        assert figure.score is None
        return
    assert 0 <= figure.score <= 100
    shuffled = people[:]
    rnd.shuffle(shuffled)
    assert balance(dict(zip(shuffled, times, strict=True)), people).score == figure.score
    assert balance({u: s * factor for u, s in seconds.items()}, people).score == figure.score


# --- the actions, with a clock the test moves ---------------------------------------------------


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self):
        return self.now

    def tick(self, seconds):
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(timezone, "now", c)
    return c


def speaking_events(cast):
    return [e for e in Event.objects.filter(workshop=cast.workshop).order_by("seq") if e.kind == "speaking.changed"]


def test_raised_hands_queue_in_order_and_each_change_is_one_event(cast, clock):
    w = cast.at_step(Step.CLARIFICATION).pk
    speaking.raise_hand(w, acting_user=cast.julien)
    clock.tick(2)
    speaking.raise_hand(w, acting_user=cast.sophie)
    speaking.raise_hand(w, acting_user=cast.sophie)  # a double click keeps her place
    queue = speaking_events(cast)[-1].payload["speaking"]["queue"]
    assert [entry["person"]["name"] for entry in queue] == ["Julien Petit", "Sophie Bernard"]
    assert len(speaking_events(cast)) == 2
    speaking.lower_hand(w, acting_user=cast.julien)
    assert [e["person"]["id"] for e in speaking_events(cast)[-1].payload["speaking"]["queue"]] == [cast.sophie.pk]


def test_who_may_raise_lower_and_give_the_floor(cast):
    with pytest.raises(Refused, match="not started"):
        speaking.raise_hand(cast.workshop.pk, acting_user=cast.sophie)
    w = cast.at_step(Step.CLARIFICATION).pk
    with pytest.raises(Refused, match="facilitator"):
        speaking.raise_hand(w, acting_user=cast.claire)
    with pytest.raises(Refused, match="facilitator"):
        speaking.speak(w, on=True, acting_user=cast.claire)
    speaking.raise_hand(w, acting_user=cast.sophie)
    with pytest.raises(Refused):
        speaking.lower_hand(w, user_id=cast.sophie.pk, acting_user=cast.julien)
    with pytest.raises(Refused, match="facilitator"):
        speaking.give_floor(w, user_id=cast.julien.pk, acting_user=cast.sophie)
    with pytest.raises(Refused, match="facilitator"):
        speaking.end_turn(w, acting_user=cast.marc)
    for nobody in (cast.claire.pk, cast.olivier.pk, 0, None):
        with pytest.raises(NotFound):
            speaking.give_floor(w, user_id=nobody, acting_user=cast.claire)
    with pytest.raises(Invalid):
        speaking.give_floor(w, user_id=cast.sophie.pk, source="megaphone", acting_user=cast.claire)
    speaking.lower_hand(w, user_id=cast.sophie.pk, acting_user=cast.claire)
    assert not HandRaise.objects.filter(lowered_at__isnull=True).exists()


def open_turns(cast):
    return list(SpeakingTurn.objects.filter(workshop=cast.workshop, ended_at__isnull=True).values_list("user_id", flat=True))


def test_giving_the_floor_answers_the_hand_and_ends_the_current_turn(cast, clock):
    w = cast.at_step(Step.CONSULTATION).pk
    speaking.raise_hand(w, acting_user=cast.julien)
    speaking.speak(w, on=True, acting_user=cast.sophie)
    clock.tick(40)
    speaking.give_floor(w, user_id=cast.julien.pk, acting_user=cast.claire)
    assert open_turns(cast) == [cast.julien.pk]  # one voice at a time
    assert HandRaise.objects.get(user=cast.julien).answered
    state = speaking_events(cast)[-1].payload["speaking"]
    assert state["speaker"]["person"]["id"] == cast.julien.pk and state["queue"] == []
    seq = cast.workshop.events.count()
    speaking.give_floor(w, user_id=cast.julien.pk, source="clock", acting_user=cast.claire)  # a double tap
    assert cast.workshop.events.count() == seq
    clock.tick(20)
    speaking.speak(w, on=False, acting_user=cast.sophie)  # not hers any more: nothing happens
    assert open_turns(cast) == [cast.julien.pk]
    speaking.end_turn(w, acting_user=cast.claire)
    assert open_turns(cast) == []
    assert speaking_view.seconds_by_step(cast.workshop, clock.now) == {Step.CONSULTATION: {cast.sophie.pk: 40, cast.julien.pk: 20}}


def test_a_pause_closes_the_turn_and_no_turn_starts_while_paused(cast, clock):
    w = cast.at_step(Step.CLARIFICATION).pk
    speaking.speak(w, on=True, acting_user=cast.sophie)
    clock.tick(30)
    actions.control_timer(w, op="pause", acting_user=cast.claire)
    assert open_turns(cast) == []
    assert speaking_events(cast)[-1].payload["speaking"]["speaker"] is None  # everyone sees it stop
    with pytest.raises(Refused, match="paused"):
        speaking.speak(w, on=True, acting_user=cast.sophie)
    with pytest.raises(Refused, match="paused"):
        speaking.give_floor(w, user_id=cast.julien.pk, acting_user=cast.claire)
    clock.tick(300)
    actions.control_timer(w, op="resume", acting_user=cast.claire)
    speaking.speak(w, on=True, acting_user=cast.sophie)
    clock.tick(10)
    assert speaking_view.seconds_by_step(cast.workshop, clock.now) == {Step.CLARIFICATION: {cast.sophie.pk: 40}}


def test_a_step_change_closes_the_turn_and_clears_the_queue(cast, clock):
    w = cast.at_step(Step.CLARIFICATION).pk
    speaking.raise_hand(w, acting_user=cast.julien)
    speaking.speak(w, on=True, acting_user=cast.marc)
    clock.tick(25)
    actions.advance(w, from_step=Step.CLARIFICATION, acting_user=cast.claire)
    assert open_turns(cast) == [] and not HandRaise.objects.filter(lowered_at__isnull=True).exists()
    clock.tick(5)
    speaking.speak(w, on=True, acting_user=cast.marc)
    clock.tick(15)
    actions.go_back(w, from_step=Step.CONTRAT, reason="Une question oubliée", acting_user=cast.claire)
    clock.tick(60)
    speaking.give_floor(w, user_id=cast.julien.pk, acting_user=cast.claire)
    clock.tick(10)
    actions.end(w, reason="Fin anticipée", acting_user=cast.claire)
    clock.tick(999)
    seconds = speaking_view.seconds_by_step(cast.workshop, clock.now)
    assert seconds == {Step.CLARIFICATION: {cast.marc.pk: 25, cast.julien.pk: 10}, Step.CONTRAT: {cast.marc.pk: 15}}


def test_the_accounting_clips_a_turn_left_open_across_a_step_change(cast, clock):
    """Should a turn ever stay open (a crash between two writes), the log's step changes and pauses
    still bound it."""
    w = cast.at_step(Step.CLARIFICATION).pk
    speaking.speak(w, on=True, acting_user=cast.sophie)
    clock.tick(30)
    actions.control_timer(w, op="pause", acting_user=cast.claire)
    clock.tick(30)
    actions.control_timer(w, op="resume", acting_user=cast.claire)
    clock.tick(30)
    actions.advance(w, from_step=Step.CLARIFICATION, acting_user=cast.claire)
    clock.tick(30)
    SpeakingTurn.objects.filter(workshop=cast.workshop).update(ended_at=None)  # as if never closed
    # 0–30 and 60–90: neither the pause nor the time after the step change
    assert speaking_view.seconds_by_step(cast.workshop, clock.now) == {Step.CLARIFICATION: {cast.sophie.pk: 60}}


# --- what the facilitator and the group see --------------------------------------------------


def third_consultant(cast):
    lea = make_user("lea", "Léa", "Martin")
    Membership.objects.create(group=cast.group, user=lea)
    return lea


def talk(cast, clock, user, seconds):
    speaking.give_floor(cast.workshop.pk, user_id=user.pk, acting_user=cast.claire)
    clock.tick(seconds)


def test_the_facilitator_sees_shares_balance_hint_and_proposal(cast, clock):
    lea = third_consultant(cast)
    w = cast.at_step(Step.CONSULTATION).pk
    talk(cast, clock, cast.sophie, 200)
    talk(cast, clock, cast.julien, 20)
    talk(cast, clock, cast.marc, 100)  # the client's time is shown, not weighed in the consultation
    talk(cast, clock, lea, 20)
    speaking.end_turn(w, acting_user=cast.claire)
    for user in (cast.sophie, lea, cast.julien):
        speaking.raise_hand(w, acting_user=user)
        clock.tick(1)
    actions.contribute(w, cid="5b0c1f2e-0000-4000-8000-000000000001", kind="idea", body="Une idée", acting_user=lea)
    figures = speaking_view.live_figures(cast.workshop.__class__.objects.get(pk=w), clock.now)
    rows = {row["person"]["name"]: row for row in figures["rows"]}
    assert rows["Sophie Bernard"]["time"] == "3:20" and rows["Léa Martin"]["contributions"] == 1
    assert figures["over"] == ["Sophie Bernard"]  # 200 s > 2 × 80 s among the three consultants
    assert figures["balance"] == 25  # half of the time would have to change hands, of two thirds at worst
    assert figures["proposed"]["name"] == "Julien Petit"  # 20 s like Léa, but no contribution


def render_room(workshop, user):
    return room.render_room(room.context(workshop, user))


def test_only_the_facilitator_gets_the_figures_in_the_room(cast, clock):
    lea = third_consultant(cast)
    workshop = cast.at_step(Step.CONSULTATION)
    talk(cast, clock, cast.sophie, 300)
    talk(cast, clock, lea, 10)
    talk(cast, clock, cast.julien, 10)
    html = render_room(workshop, cast.claire)
    assert 'id="speaking-balance"' in html and "speaking-hint" in html and "Sophie Bernard" in html
    for user in (cast.marc, cast.sophie, cast.julien, lea):
        html = render_room(workshop, user)
        assert 'id="speaking"' in html and "Julien Petit" in html  # who speaks: everyone sees it
        assert 'id="speaking-balance"' not in html and "speaking-hint" not in html and "5:00" not in html


def test_the_speaking_clock_is_the_facilitators_alone(cast, clock):
    cast.at_step(Step.CLARIFICATION)
    url = reverse("workshop_clock", args=[cast.workshop.pk])
    client = Client()
    for user, status in ((cast.claire, 200), (cast.marc, 403), (cast.sophie, 403), (cast.olivier, 403)):
        client.force_login(user)
        assert client.get(url).status_code == status, user
    client.force_login(cast.claire)
    page = client.get(url).content.decode()
    for name in ("Marc Lefèvre", "Sophie Bernard", "Julien Petit"):
        assert name in page
    assert "Claire Morel</span>" not in page  # no button for the facilitator himself


def test_the_session_record_keeps_the_figures_for_the_group_not_the_coordinator(cast, clock):
    lea = third_consultant(cast)
    w = cast.at_step(Step.CONSULTATION).pk
    talk(cast, clock, cast.sophie, 200)
    talk(cast, clock, lea, 20)
    talk(cast, clock, cast.julien, 20)
    actions.end(w, reason="Fin", acting_user=cast.claire)
    steps = speaking_view.record(cast.workshop.__class__.objects.get(pk=w))
    assert [s["step"] for s in steps] == [Step.CONSULTATION]
    assert steps[0]["balance"] == 25 and steps[0]["over"] == ["Sophie Bernard"]
    url = reverse("session", args=[cast.workshop.session_id])
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(cast.julien)
    page = client.get(url).content.decode()
    assert 'id="speaking-record"' in page and "3:20" in page and "Sophie Bernard" in page
    coordinator = User.objects.create_superuser("cora", password="pw")
    client.force_login(coordinator)
    assert client.get(url).status_code == 403
    for name in ("coordination",):
        page = client.get(reverse(name)).content.decode()
        assert "3:20" not in page and "speaking-record" not in page
