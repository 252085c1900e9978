"""The six steps of a co-development workshop and who may do what in each.

Pure data and pure functions: no database, no HTTP, no websocket. Read it as the method.
"""
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from django.utils.translation import gettext_lazy as _


class Step(IntEnum):
    EXPOSE = 1
    CLARIFICATION = 2
    CONTRAT = 3
    CONSULTATION = 4
    PLAN = 5
    APPRENTISSAGE = 6


class Role(StrEnum):
    FACILITATOR = "facilitator"
    CLIENT = "client"
    CONSULTANT = "consultant"


class Act(StrEnum):
    """What a participant may do with the content of a workshop."""

    EDIT_CASE = "edit_case"
    WRITE_NOTE = "write_note"
    ASK_QUESTION = "ask_question"
    ANSWER_QUESTION = "answer_question"
    WRITE_REQUEST = "write_request"
    ACCEPT_RULES = "accept_rules"
    CONTRIBUTE = "contribute"
    MARK_CONTRIBUTION = "mark_contribution"
    WRITE_ACTION = "write_action"
    WRITE_LEARNING = "write_learning"
    EVALUATE = "evaluate"


@dataclass(frozen=True)
class StepInfo:
    step: Step
    title: str
    purpose: str
    rule: str
    minutes: int  # the 3-hour format
    short_minutes: int  # the 1h30-2h format


STEPS: dict[Step, StepInfo] = {
    Step.EXPOSE: StepInfo(
        Step.EXPOSE,
        _("Exposé"),
        _("The client presents a concrete professional situation they want to explore, improve or resolve."),
        _("The client speaks; the consultants listen and may keep private notes."),
        15,
        10,
    ),
    Step.CLARIFICATION: StepInfo(
        Step.CLARIFICATION,
        _("Clarification"),
        _("The consultants ask questions to understand the situation in depth and remove any ambiguity."),
        _("Consultants only ask questions, never advice in disguise; the client answers each one."),
        40,
        20,
    ),
    Step.CONTRAT: StepInfo(
        Step.CONTRAT,
        _("Contract"),
        _("The client states the help they want; everyone agrees on the rules of the session."),
        _("The client writes “Help me to …”; each participant accepts confidentiality, benevolence and structure."),
        15,
        10,
    ),
    Step.CONSULTATION: StepInfo(
        Step.CONSULTATION,
        _("Consultation"),
        _("The consultants share ideas, experiences, resources and perspectives without imposing solutions."),
        _("Consultants offer without ranking or commenting on each other; the client listens and only marks what they keep."),
        35,
        20,
    ),
    Step.PLAN: StepInfo(
        Step.PLAN,
        _("Action plan"),
        _("The client builds a concrete micro-plan to try before the next session."),
        _("The client writes their actions; the others read."),
        15,
        10,
    ),
    Step.APPRENTISSAGE: StepInfo(
        Step.APPRENTISSAGE,
        _("Learning"),
        _("Everyone states what they learned, then evaluates the session."),
        _("Everyone, client included, writes what they learned; the client and the consultants evaluate the session."),
        20,
        10,
    ),
}

FIRST, LAST = Step.EXPOSE, Step.APPRENTISSAGE

_C, _K, _F = Role.CLIENT, Role.CONSULTANT, Role.FACILITATOR
_EVERYONE = frozenset({_C, _K, _F})

# The rule table: for each step, which roles may do each act. An act absent from a step is
# refused to everyone in that step. Private notes are one's own notebook: always allowed.
RULES: dict[Step, dict[Act, frozenset[Role]]] = {
    Step.EXPOSE: {
        Act.EDIT_CASE: frozenset({_C}),
        Act.WRITE_NOTE: _EVERYONE,
    },
    Step.CLARIFICATION: {
        Act.ASK_QUESTION: frozenset({_K}),
        Act.ANSWER_QUESTION: frozenset({_C}),
        Act.WRITE_NOTE: _EVERYONE,
    },
    Step.CONTRAT: {
        Act.WRITE_REQUEST: frozenset({_C}),
        Act.ACCEPT_RULES: frozenset({_C, _K}),
        Act.WRITE_NOTE: _EVERYONE,
    },
    Step.CONSULTATION: {
        Act.CONTRIBUTE: frozenset({_K}),
        Act.MARK_CONTRIBUTION: frozenset({_C}),
        Act.WRITE_NOTE: _EVERYONE,
    },
    Step.PLAN: {
        Act.WRITE_ACTION: frozenset({_C}),
        Act.MARK_CONTRIBUTION: frozenset({_C}),
        Act.WRITE_NOTE: _EVERYONE,
    },
    Step.APPRENTISSAGE: {
        Act.WRITE_LEARNING: _EVERYONE,
        Act.EVALUATE: frozenset({_C, _K}),
        Act.WRITE_NOTE: _EVERYONE,
    },
}

# Why an act is refused, told to the participant in his language.
REFUSALS: dict[Act, str] = {
    Act.EDIT_CASE: _("Only the client edits their case, during the exposé."),
    Act.WRITE_NOTE: _("Private notes cannot be written now."),
    Act.ASK_QUESTION: _("Only consultants ask questions, during the clarification."),
    Act.ANSWER_QUESTION: _("Only the client answers questions, during the clarification."),
    Act.WRITE_REQUEST: _("Only the client writes their request, during the contract."),
    Act.ACCEPT_RULES: _("The rules are accepted by the client and the consultants, during the contract."),
    Act.CONTRIBUTE: _("Only consultants contribute, during the consultation; the client listens."),
    Act.MARK_CONTRIBUTION: _("Only the client marks contributions, during the consultation or the action plan."),
    Act.WRITE_ACTION: _("Only the client writes their action plan, during the action plan step."),
    Act.WRITE_LEARNING: _("Learnings are written during the learning step."),
    Act.EVALUATE: _("The client and the consultants evaluate the session during the learning step."),
}

# Which roles must accept the rules before the contract can be left without an override.
MUST_ACCEPT_RULES = frozenset({_C, _K})

CONTRIBUTION_KINDS = ("idea", "experience", "resource", "perspective")
MARKS = ("", "keep", "explore")
HELP_KINDS = ("ideas", "experiences", "resources", "reframing")


def allowed(step: Step | int | None, role: Role, act: Act) -> bool:
    if step is None or step not in RULES:
        return False
    return role in RULES[Step(step)].get(act, frozenset())


def acts_for(step: Step | int | None, role: Role) -> frozenset[Act]:
    """Everything this role may do in this step: what the room offers him."""
    if step is None or step not in RULES:
        return frozenset()
    return frozenset(act for act, roles in RULES[Step(step)].items() if role in roles)


def next_step(step: Step) -> Step | None:
    return Step(step + 1) if step < LAST else None


def previous_step(step: Step) -> Step | None:
    return Step(step - 1) if step > FIRST else None


def planned_seconds(step: Step, short: bool = False, minutes: dict | None = None) -> int:
    """The step's time box: the session's custom minutes when it has them, else the preset."""
    info = STEPS[step]
    custom = (minutes or {}).get(str(int(step)))
    if custom:
        return 60 * int(custom)
    return 60 * (info.short_minutes if short else info.minutes)
