"""The record of a case that its client takes away: his exposé, the questions and his answers, the
contract, what the consultants offered (with what he kept) and his action plan. Only he gets it."""
from dataclasses import dataclass

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from workshops import labels
from workshops import markdown as md
from workshops.errors import Forbidden, Refused
from workshops.models import Case, Contribution, PlannedAction, Workshop
from workshops.people import display_name
from workshops.steps import STEPS, Step

# Kept first, then to explore, then the rest: what the client chose comes before what he left.
MARK_ORDER = {"keep": 0, "explore": 1, "": 2}
CASE_PARTS = (
    ("summary", gettext_lazy("Short description")),
    ("context", gettext_lazy("Context")),
    ("problem", gettext_lazy("The problem")),
    ("tried", gettext_lazy("What I have tried")),
    ("expectations", gettext_lazy("What I expect from the group")),
    ("stakes", gettext_lazy("Stakes")),
)


@dataclass
class Record:
    workshop: Workshop
    case: Case
    client: str
    facilitator: str
    questions: list[Contribution]
    help_kinds: list[str]
    contributions: list[Contribution]
    actions: list[PlannedAction]

    @property
    def step_titles(self) -> dict[str, str]:
        return {str(int(step)): info.title for step, info in STEPS.items()}

    @property
    def case_parts(self) -> list[tuple[str, str]]:
        """(translated heading, text) of the exposé fields the client filled in."""
        return [(str(heading), getattr(self.case, name)) for name, heading in CASE_PARTS if getattr(self.case, name)]


def is_client(workshop: Workshop, user) -> bool:
    return user.is_authenticated and workshop.case_id is not None and workshop.client_id == user.pk


def client_record(workshop: Workshop, user) -> Record:
    """The record of `workshop`, for its client only. The caller has checked group membership."""
    if not is_client(workshop, user):
        raise Forbidden(_("Only the client of this workshop can download its record."))
    if workshop.status == Workshop.PLANNED:
        raise Refused(_("The workshop has not started yet: there is no record to download."))
    said = workshop.contributions.select_related("author")
    consultation = list(said.filter(step=Step.CONSULTATION))
    consultation.sort(key=lambda c: (MARK_ORDER.get(c.mark, 2), c.pk))
    return Record(
        workshop=workshop,
        case=workshop.case,
        client=display_name(workshop.case.owner),
        facilitator=display_name(workshop.facilitator),
        questions=list(said.filter(step=Step.CLARIFICATION, kind="question")),
        help_kinds=[str(labels.HELP.get(k, k)) for k in workshop.help_kinds],
        contributions=consultation,
        actions=list(workshop.actions.prefetch_related("kept")),
    )


def filename(record: Record, ext: str) -> str:
    return f"{record.workshop.title}-{record.case.title}.{ext}"


# --- Markdown ----------------------------------------------------------------------------


def _day(value) -> str:
    return formats.date_format(value, "DATE_FORMAT")


def _section(title: str) -> list[str]:
    return ["", f"## {title}", ""]


def _mark(item: Contribution) -> str:
    return f" — **{labels.MARKS[item.mark]}**" if item.mark in labels.MARKS else ""


def _field(label, value: str) -> str:
    """"Label: value", the colon placed as the language wants it (French: " : ")."""
    return _("%(label)s: %(value)s") % {"label": label, "value": value}


def action_markdown(action: PlannedAction) -> list[str]:
    """One action of a plan as a Markdown list item; the journal shows the client's plans the same way."""
    lines = [f"- **{md.inline(action.what)}**"]
    if action.first_step:
        lines.append("  - " + _field(_("First step"), md.text(action.first_step, "    ")))
    if action.due:
        lines.append("  - " + _field(_("By"), _day(action.due)))
    if action.success_sign:
        lines.append("  - " + _field(_("Sign of success"), md.text(action.success_sign, "    ")))
    for kept in action.kept.all():
        lines.append("  - " + _field(_("From"), md.inline(kept.body)))
    followup = str(action.get_followup_display())
    if action.followup_comment:
        followup += " — " + md.text(action.followup_comment, "    ")
    lines.append("  - " + _field(_("Follow-up"), followup))
    return lines


def to_markdown(record: Record) -> str:
    w = record.workshop
    when = _day(timezone.localtime(w.started_at)) if w.started_at else ""
    lines = [
        f"# {md.inline(record.case.title)}",
        "",
        f"{md.inline(w.group.name)} — {md.inline(w.title)}{' — ' + when if when else ''}  ",
        _field(_("Client"), md.inline(record.client)) + " — " + _field(_("Facilitator"), md.inline(record.facilitator)),
    ]
    lines += _section(STEPS[Step.EXPOSE].title)
    for heading, value in record.case_parts:
        lines += [f"### {heading}", "", md.text(value), ""]
    lines += _section(STEPS[Step.CLARIFICATION].title)
    for q in record.questions:
        lines.append(f"- {md.text(q.body, '  ')} *({md.inline(display_name(q.author))})*")
        answer = md.text(q.answer, "    ") if q.answer else f"*{_('No answer.')}*"
        lines.append(f"  - {_('Answer:')} {answer}")
    if not record.questions:
        lines.append(_("No question was asked."))
    lines += _section(STEPS[Step.CONTRAT].title)
    lines.append(md.text(w.request) if w.request else _("No request was written."))
    if record.help_kinds:
        lines += ["", f"{_('Help wanted:')} {', '.join(record.help_kinds)}"]
    lines += _section(STEPS[Step.CONSULTATION].title)
    for c in record.contributions:
        kind = labels.KINDS.get(c.kind, c.kind)
        lines.append(f"- *{kind}*{_mark(c)} — {md.text(c.body, '  ')} *({md.inline(display_name(c.author))})*")
    if not record.contributions:
        lines.append(_("No contribution."))
    lines += _section(STEPS[Step.PLAN].title)
    for a in record.actions:
        lines += action_markdown(a)
    if not record.actions:
        lines.append(_("No action was planned."))
    return "\n".join(lines).rstrip() + "\n"
