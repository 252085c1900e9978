"""Every (step × role × act) cell of the method, checked through the real domain actions."""
import uuid

import pytest

from workshops import actions, steps
from workshops.errors import Refused
from workshops.models import Workshop
from workshops.steps import Act, Role, Step

C, K, F = Role.CLIENT, Role.CONSULTANT, Role.FACILITATOR
ALL = {C, K, F}

# The method, written out independently of workshops/steps.py.
EXPECTED: dict[int, dict[Act, set[Role]]] = {
    1: {Act.EDIT_CASE: {C}, Act.WRITE_NOTE: ALL},
    2: {Act.ASK_QUESTION: {K}, Act.ANSWER_QUESTION: {C}, Act.WRITE_NOTE: ALL},
    3: {Act.WRITE_REQUEST: {C}, Act.ACCEPT_RULES: {C, K}, Act.WRITE_NOTE: ALL},
    4: {Act.CONTRIBUTE: {K}, Act.MARK_CONTRIBUTION: {C}, Act.WRITE_NOTE: ALL},
    5: {Act.WRITE_ACTION: {C}, Act.MARK_CONTRIBUTION: {C}, Act.WRITE_NOTE: ALL},
    6: {Act.WRITE_LEARNING: ALL, Act.EVALUATE: {C, K}, Act.WRITE_NOTE: ALL},
}

CELLS = [(step, role, act) for step in range(1, 7) for role in Role for act in Act]


def expected(step: int, role: Role, act: Act) -> bool:
    return role in EXPECTED[step].get(act, set())


@pytest.mark.parametrize("step,role,act", CELLS, ids=[f"{s}-{r.value}-{a.value}" for s, r, a in CELLS])
def test_the_pure_table_matches_the_method(step, role, act):
    assert steps.allowed(step, role, act) is expected(step, role, act)


def _prepare(cast, target: int) -> dict:
    """Walk to the target step, leaving a question (step 2) and a contribution (step 4) behind."""
    made = {}
    if target >= 2:
        cast.at_step(Step.CLARIFICATION)
        made["question"] = actions.ask_question(cast.workshop.pk, cid=uuid.uuid4(), body="Depuis quand ?", acting_user=cast.sophie)
    if target >= 4:
        cast.at_step(Step.CONSULTATION)
        made["contribution"] = actions.contribute(cast.workshop.pk, cid=uuid.uuid4(), kind="idea", body="Un café", acting_user=cast.sophie)
    cast.at_step(Step(target))
    return made


def _perform(cast, act: Act, user, made: dict):
    w = cast.workshop.pk
    question = made.get("question")
    contribution = made.get("contribution")
    calls = {
        Act.EDIT_CASE: lambda: actions.edit_case(w, fields={"context": "Contexte"}, acting_user=user),
        Act.WRITE_NOTE: lambda: actions.write_note(w, cid=uuid.uuid4(), body="note", acting_user=user),
        Act.ASK_QUESTION: lambda: actions.ask_question(w, cid=uuid.uuid4(), body="Qui ?", acting_user=user),
        Act.ANSWER_QUESTION: lambda: actions.answer_question(w, question_id=question.pk if question else 0, body="Oui", acting_user=user),
        Act.WRITE_REQUEST: lambda: actions.write_request(w, request="Aidez-moi à …", help_kinds=["ideas"], acting_user=user),
        Act.ACCEPT_RULES: lambda: actions.accept_rules(w, acting_user=user),
        Act.CONTRIBUTE: lambda: actions.contribute(w, cid=uuid.uuid4(), kind="resource", body="Un livre", acting_user=user),
        Act.MARK_CONTRIBUTION: lambda: actions.mark_contribution(w, contribution_id=contribution.pk if contribution else 0, mark="keep", acting_user=user),
        Act.WRITE_ACTION: lambda: actions.add_action(w, cid=uuid.uuid4(), what="Appeler", acting_user=user),
        Act.WRITE_LEARNING: lambda: actions.write_learning(w, cid=uuid.uuid4(), body="Écouter", acting_user=user),
        Act.EVALUATE: lambda: actions.evaluate(w, score=4, acting_user=user),
    }
    return calls[act]()


@pytest.mark.parametrize("step,role,act", CELLS, ids=[f"{s}-{r.value}-{a.value}" for s, r, a in CELLS])
def test_it_enforces_the_cell_on_the_server(cast, step, role, act):
    made = _prepare(cast, step)
    user = {C: cast.marc, K: cast.sophie, F: cast.claire}[role]
    seq_before = Workshop.objects.get(pk=cast.workshop.pk).seq
    if expected(step, role, act):
        _perform(cast, act, user, made)
        assert Workshop.objects.get(pk=cast.workshop.pk).seq > seq_before, "an accepted act records an event"
    else:
        with pytest.raises(Refused) as refused:
            _perform(cast, act, user, made)
        assert refused.value.message, "a refusal says why"
        assert Workshop.objects.get(pk=cast.workshop.pk).seq == seq_before, "a refused act changes nothing"


FACILITATOR_ONLY = {
    "advance": lambda c, u, s: actions.advance(c.workshop.pk, from_step=s, override_reason="test", acting_user=u),
    "go_back": lambda c, u, s: actions.go_back(c.workshop.pk, from_step=s, reason="Revenir", acting_user=u),
    "pause": lambda c, u, s: actions.control_timer(c.workshop.pk, op="pause", acting_user=u),
    "extend": lambda c, u, s: actions.control_timer(c.workshop.pk, op="extend", minutes=5, acting_user=u),
    "end": lambda c, u, s: actions.end(c.workshop.pk, reason="Fin anticipée", acting_user=u),
}
GUIDE_CELLS = [(step, name) for step in range(1, 7) for name in FACILITATOR_ONLY]


@pytest.mark.parametrize("step,name", GUIDE_CELLS)
def test_only_the_facilitator_guides_the_process(cast, step, name):
    cast.at_step(Step(step))
    for user in (cast.marc, cast.sophie):
        with pytest.raises(Refused):
            FACILITATOR_ONLY[name](cast, user, step)
    impossible = (name == "advance" and step == 6) or (name == "go_back" and step == 1)
    if impossible:
        with pytest.raises(Refused):
            FACILITATOR_ONLY[name](cast, cast.claire, step)
    else:
        FACILITATOR_ONLY[name](cast, cast.claire, step)
