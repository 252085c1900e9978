"""A member's learning journal: what he wrote in the learning step, his private notes, the plans of
his own cases and his free entries, across groups and cycles. Nobody else ever reads it: every
function takes the owner and reads only his rows."""
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from workshops import markdown as md
from workshops.actions import clean_text
from workshops.errors import NotFound
from workshops.models import JournalEntry, Learning, PlannedAction, PrivateNote, Workshop
from workshops.people import display_name
from workshops.records import action_markdown
from workshops.steps import STEPS


@dataclass
class WorkshopPart:
    """What the owner wrote in, or planned from, one workshop."""

    workshop: Workshop
    at: datetime
    learnings: list[Learning] = field(default_factory=list)
    notes: list[PrivateNote] = field(default_factory=list)
    actions: list[PlannedAction] = field(default_factory=list)
    kind = "workshop"

    @property
    def group(self):
        return self.workshop.group

    @property
    def title(self) -> str:
        return self.workshop.title


@dataclass
class FreePart:
    entry: JournalEntry
    kind = "entry"

    @property
    def at(self) -> datetime:
        return self.entry.created_at


def entries(user) -> list[WorkshopPart | FreePart]:
    """The owner's journal, oldest first: one part per workshop he wrote in, one per free entry."""
    parts: dict[int, WorkshopPart] = {}

    def part(workshop: Workshop) -> WorkshopPart:
        if workshop.pk not in parts:
            at = workshop.started_at or workshop.scheduled_at or workshop.ended_at or timezone.now()
            parts[workshop.pk] = WorkshopPart(workshop, at)
        return parts[workshop.pk]

    workshops = ("workshop", "workshop__group", "workshop__session__cycle")
    for learning in Learning.objects.filter(author=user).select_related(*workshops).order_by("created_at", "id"):
        part(learning.workshop).learnings.append(learning)
    for note in PrivateNote.objects.filter(author=user).select_related(*workshops).order_by("created_at", "id"):
        note.step_title = STEPS[note.step].title if note.step in STEPS else ""
        part(note.workshop).notes.append(note)
    plan = PlannedAction.objects.filter(workshop__case__owner=user).select_related(*workshops).prefetch_related("kept")
    for action in plan.order_by("created_at", "id"):
        part(action.workshop).actions.append(action)
    free = [FreePart(e) for e in JournalEntry.objects.filter(owner=user)]
    return sorted([*parts.values(), *free], key=lambda p: p.at)


# --- free entries: the owner's only; anyone else is told it does not exist -----------------


def access_entry(user, entry_id) -> JournalEntry:
    try:
        pk = int(entry_id)
    except (TypeError, ValueError):
        pk = None
    entry = JournalEntry.objects.filter(pk=pk, owner_id=user.pk).first() if pk and user.is_authenticated else None
    if entry is None:
        raise NotFound(_("This journal entry does not exist."))
    return entry


def add_entry(user, *, body) -> JournalEntry:
    return JournalEntry.objects.create(owner=user, body=clean_text(body))


@transaction.atomic
def edit_entry(user, entry_id, *, body) -> JournalEntry:
    body = clean_text(body)  # checked before anything changes: a refused edit keeps the old text
    entry = access_entry(user, entry_id)
    entry.body = body
    entry.save(update_fields=["body", "updated_at"])
    return entry


def delete_entry(user, entry_id) -> None:
    access_entry(user, entry_id).delete()


# --- export ------------------------------------------------------------------------------


def _when(value) -> str:
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")


def _day(value) -> str:
    return formats.date_format(value, "DATE_FORMAT")


def _workshop_md(part: WorkshopPart) -> list[str]:
    lines = [f"## {_day(timezone.localtime(part.at))} — {md.inline(part.group.name)} — {md.inline(part.title)}", ""]
    if part.learnings:
        lines += [f"### {_('What I learned')}", ""]
        lines += [f"- {md.text(item.body, '  ')}" for item in part.learnings]
        lines.append("")
    if part.notes:
        lines += [f"### {_('My private notes')}", ""]
        lines += [f"- *{item.step_title}* — {md.text(item.body, '  ')}" for item in part.notes]
        lines.append("")
    if part.actions:
        lines += [f"### {_('My action plan')}", ""]
        for action in part.actions:
            lines += action_markdown(action)
        lines.append("")
    return lines


def to_markdown(user) -> str:
    lines = [f"# {_('Learning journal')} — {md.inline(display_name(user))}", ""]
    parts = entries(user)
    if not parts:
        lines.append(_("Your journal is empty for now."))
    for part in parts:
        if isinstance(part, WorkshopPart):
            lines += _workshop_md(part)
        else:
            lines += [f"## {_when(part.at)} — {_('Free entry')}", "", md.text(part.entry.body), ""]
    return "\n".join(lines).rstrip() + "\n"
