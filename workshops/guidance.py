"""The facilitator's co-pilot for the method itself: a short script for the opening and for each
step (what to say, what to watch), and, once the workshop has ended, a self-assessment of his
facilitation that he keeps in his own journal.

The scripts are data in the method's words. Nobody but the workshop's facilitator ever sees them
or his self-assessment: `script_for` is asked for him only, `access_self_assessment` refuses anyone else.
"""
from dataclasses import dataclass

from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from workshops.actions import clean_text
from workshops.errors import Forbidden, Invalid, Refused
from workshops.models import JournalEntry, Workshop
from workshops.people import access_workshop, display_name, role_in
from workshops.steps import Role, Step


@dataclass(frozen=True)
class Script:
    say: tuple[str, ...]  # sentences he can say aloud; %(client)s is the client's name
    watch: tuple[str, ...]  # the classic faults of the moment


OPENING = Script(
    say=(
        _("Welcome. Before a new case, the previous clients tell us where their action plans stand: what did you try, what did you learn?"),
        _("Who brings a case today? In one sentence: the situation, and why it matters to you now."),
        _("We choose one case together; the others stay in the pool for a next session."),
    ),
    watch=(
        _("The follow-up stays short: one round, no new consultation on an old case."),
        _("The chosen case is concrete, current and the client's own: something he can act on."),
        _("The votes are a first pass: nobody is pushed to bring a case."),
    ),
)

SCRIPTS: dict[Step, Script] = {
    Step.EXPOSE: Script(
        say=(
            _("%(client)s, tell us your situation as you live it: the context, what is at stake for you, what you have already tried."),
            _("Consultants, for now you only listen. Keep your questions in your private notes for the clarification."),
            _("%(client)s, end by telling us what you would like from the group."),
        ),
        watch=(
            _("Consultants who interrupt, even with a question: questions come in the next step."),
            _("A story about others: bring the client back to his own part, what he can act on."),
            _("An exposé that runs over eats the clarification's time."),
        ),
    ),
    Step.CLARIFICATION: Script(
        say=(
            _("Consultants, questions only now: to understand the situation, not yet to solve it."),
            _("“Have you thought of…?” or “Why not…?” is advice in disguise: keep it for the consultation."),
            _("%(client)s, answer briefly; “I don't know” is an answer too."),
        ),
        watch=(
            _("Advice disguised as questions: name it kindly and ask to rephrase (the room flags the likely ones)."),
            _("A few voices asking everything: invite those who have not asked yet."),
            _("Questions out of curiosity that do not serve the client."),
        ),
    ),
    Step.CONTRAT: Script(
        say=(
            _("%(client)s, now that we understand: what exactly do you want from the group? Start with “Help me to …”."),
            _("Let me say it back to you… Is that really your request?"),
            _("Our rules: confidentiality, what is said here stays here; goodwill; and the structure of the steps. Please accept them."),
        ),
        watch=(
            _("A request too vague or too broad: help the client narrow it to something he can act on."),
            _("The help he wants (ideas, experiences, resources, reframing) is said: the consultants will follow it."),
            _("Everyone has accepted the rules before the consultation; going on without that needs a reason."),
        ),
    ),
    Step.CONSULTATION: Script(
        say=(
            _("Consultants, offer your ideas, experiences, resources or perspectives in answer to the request: “If I were in your place…”, “In my experience…”."),
            _("%(client)s, you listen and note; no need to answer or justify yourself. Mark what you keep."),
            _("One contribution per turn, each in turn; we do not comment on each other's ideas."),
        ),
        watch=(
            _("The client who argues back (“yes, but…”, “I already tried”): remind him he listens now and sorts later."),
            _("Imposing (“you must…”) or ranking ideas: an offer, not a verdict."),
            _("A few voices taking all the time: go round so that every consultant speaks."),
            _("Contributions drifting away from the “Help me to …” request."),
        ),
    ),
    Step.PLAN: Script(
        say=(
            _("%(client)s, from what you kept, what will you do before our next session? Start small: a first step you can take this week."),
            _("How will you know it worked?"),
            _("Consultants, the plan is the client's: you read, you no longer advise."),
        ),
        watch=(
            _("A plan that is a wish (“communicate better”): ask for a concrete first step and a sign of success."),
            _("Consultants who start advising again: the consultation is over."),
            _("Too many actions: one or two he really commits to are better."),
        ),
    ),
    Step.APPRENTISSAGE: Script(
        say=(
            _("Each of us, client included: what do I take away for my own practice? Not about the case: about yourself."),
            _("Then evaluate the session; your score is anonymous."),
            _("%(client)s, thank you for the case you entrusted to the group."),
        ),
        watch=(
            _("Learnings that summarise the case or give new advice: bring back to “what I learned”."),
            _("Everyone speaks, the quieter ones too; share your own learning last."),
            _("End on time, with a reminder that what was said stays in the group."),
        ),
    ),
}


def script_for(workshop: Workshop) -> dict | None:
    """The facilitator's script where the workshop stands: the opening before it starts, the
    current step while it runs; none once it has ended (the self-assessment takes over).
    Ask it for the facilitator only."""
    if workshop.status == Workshop.PLANNED:
        script, title = OPENING, _("Opening: follow-up and choosing the case")
    elif workshop.status == Workshop.LIVE and workshop.step in SCRIPTS:
        script, title = SCRIPTS[Step(workshop.step)], None
    else:
        return None
    owner = workshop.case.owner if workshop.case_id else None
    # Said aloud to the client: his first name, as one speaks in the group.
    names = {"client": (owner.first_name or display_name(owner)) if owner else _("the client")}
    return {
        "title": title,
        "say": [str(line) % names for line in script.say],
        "watch": [str(line) % names for line in script.watch],
    }


# --- the self-assessment ------------------------------------------------------------------

ANSWERS = (("yes", _("Yes")), ("partly", _("Partly")), ("no", _("No")))

# The method's points a facilitator checks himself against, in the order of the workshop.
CHECKLIST = (
    ("time", _("Each step kept to its time box, or the group agreed to change it.")),
    ("request", _("The client's request was stated as “Help me to …” and he confirmed it.")),
    ("rules", _("Confidentiality, goodwill and structure were reminded and accepted by everyone.")),
    ("questions", _("In clarification, only questions were asked: I let no advice in disguise through.")),
    ("voices", _("Every consultant could speak; a few voices did not take all the time.")),
    ("listening", _("In consultation, the client listened and noted, without arguing back or justifying himself.")),
    ("plan", _("The client left with a concrete action plan: a first step and a sign of success.")),
    ("learnings", _("Learnings were gathered from everyone, the client included.")),
    ("posture", _("I guarded the structure and the time, and stayed out of the content.")),
)
ITEM_KEYS = tuple(key for key, _label in CHECKLIST)
COMMENT_LIMIT = 3000  # with the checklist, the entry stays within what the journal lets him edit


def access_self_assessment(user, workshop_id) -> Workshop:
    """The workshop, for the facilitator who ran it; anyone else is refused as on the room."""
    workshop = access_workshop(user, workshop_id)
    if role_in(workshop, user.pk) != Role.FACILITATOR:
        raise Forbidden(_("Only the facilitator of this workshop assesses how he ran it."))
    return workshop


def is_open(workshop: Workshop) -> bool:
    """A self-assessment looks back on a whole workshop: it opens when the workshop has ended."""
    return workshop.status == Workshop.ENDED


def unanswered(answers) -> list[str]:
    """The checklist points without a valid answer, in order."""
    valid = {value for value, _label in ANSWERS}
    return [key for key in ITEM_KEYS if not isinstance(answers.get(key), str) or answers[key] not in valid]


def save_self_assessment(workshop_id, *, acting_user, answers, comment="") -> JournalEntry:
    """Check everything first, then write his answers as a dated entry of his own journal.

    Each saving adds an entry: an earlier one, which he may have edited since, is never
    overwritten. Sending the very same answers again (a double click) keeps the one entry."""
    workshop = access_self_assessment(acting_user, workshop_id)
    if not is_open(workshop):
        raise Refused(_("The self-assessment opens once the workshop has ended."))
    missing = unanswered(answers)
    if missing:
        raise Invalid(ngettext(
            "Answer each point with yes, partly or no: %(count)d is still unanswered.",
            "Answer each point with yes, partly or no: %(count)d are still unanswered.",
            len(missing),
        ) % {"count": len(missing)})
    comment = clean_text(comment, required=False, limit=COMMENT_LIMIT)
    body = entry_body(workshop, answers, comment)
    with transaction.atomic():
        latest = JournalEntry.objects.filter(owner=acting_user).order_by("-created_at", "-id").first()
        if latest is not None and latest.body == body:
            return latest
        return JournalEntry.objects.create(owner=acting_user, body=body)


def entry_body(workshop: Workshop, answers: dict, comment: str) -> str:
    """The entry as he will read it in his journal and its exports: plain lines, his language."""
    labels = dict(ANSWERS)
    when = workshop.ended_at or workshop.started_at or timezone.now()
    heading = _("Self-assessment of my facilitation")
    lines = [
        f"{heading} — {workshop.group.name} · {workshop.title} · {formats.date_format(timezone.localtime(when), 'DATE_FORMAT')}",
        "",
        *(f"- {labels[answers[key]]} — {label}" for key, label in CHECKLIST),
    ]
    if comment:
        lines += ["", str(_("My comment:")), comment]
    return "\n".join(lines)
