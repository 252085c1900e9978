"""The audit log: who viewed or exported what, who changed a step or overrode a rule.

An entry names an actor, an action and a target by id; its detail holds ids and kinds, never what
anyone wrote: `record` refuses anything else, so the log itself cannot leak a case. The group's
facilitator reads it (with the workshops' step changes, from their event log); the coordinator
gets only the number of exports (`export_count`).
"""
import re
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from privacy.models import AuditEntry
from workshops.errors import Forbidden
from workshops.membership import is_facilitator
from workshops.models import Event, Group
from workshops.people import display_name
from workshops.steps import STEPS

# action → how the facilitator's page names it
ACTIONS = {
    "record.exported": gettext_lazy("case record exported"),
    "journal.exported": gettext_lazy("journal exported"),
    "attendance.exported": gettext_lazy("attendance sheet downloaded"),
    "calendar.exported": gettext_lazy("calendar downloaded"),
    "data.exported": gettext_lazy("personal data exported"),
    "client_record.exported": gettext_lazy("kept case record downloaded"),
    "client_record.deleted": gettext_lazy("kept case record deleted"),
    "account.deleted": gettext_lazy("account deleted"),
    "retention.changed": gettext_lazy("retention period changed"),
    "retention.purged": gettext_lazy("workshop content purged"),
    "group.created": gettext_lazy("group created by the coordination"),
    "facilitator.assigned": gettext_lazy("facilitator assigned by the coordination"),
}
# What the coordinator may count: that an export happened, nothing more.
EXPORTS = frozenset(
    {"record.exported", "journal.exported", "attendance.exported", "calendar.exported", "data.exported", "client_record.exported"}
)
KIND = re.compile(r"^[a-z0-9_.\-]{1,40}$")  # a kind ("md", "retention"): never free text


def _clean_detail(detail: dict) -> dict:
    """Ids, counts, flags and kinds only. Anything else is a programming error, refused loudly."""
    for key, value in detail.items():
        if isinstance(value, bool) or value is None or isinstance(value, int):
            continue
        if isinstance(value, str) and KIND.match(value):
            continue
        raise ValueError(f"audit detail {key!r} must be an id, a count, a flag or a kind, not {type(value).__name__}")
    return detail


def record(actor, action: str, group: Group | None = None, target: Model | None = None, **detail) -> AuditEntry:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    return AuditEntry.objects.create(
        group=group,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        target_type=target._meta.model_name if target is not None else "",
        target_id=target.pk if target is not None else None,
        detail=_clean_detail(detail),
    )


def export_count(group: Group, *, since: datetime | None = None) -> int:
    """How many exports touched this group: what the coordinator sees, without who or what."""
    entries = AuditEntry.objects.filter(group=group, action__in=EXPORTS)
    if since is not None:
        entries = entries.filter(at__gte=since)
    return entries.count()


# --- the facilitator's page -----------------------------------------------------------------

LOG_KINDS = ("step.changed", "workshop.ended")
LIMIT = 500  # the newest ones: a page, not an archive


@dataclass
class Line:
    at: datetime
    actor: str
    what: str
    workshop: str = ""
    reason_given: bool = False


SYSTEM_ACTIONS = frozenset({"retention.purged"})  # run by cron, nobody's hand


def _actor(user, action: str = "") -> str:
    if user is not None:
        return display_name(user)
    return str(_("Codev (automatic)")) if action in SYSTEM_ACTIONS else str(_("a deleted account"))


def _step_title(number) -> str:
    try:
        return str(STEPS[int(number)].title)
    except (KeyError, TypeError, ValueError):
        return ""


def _event_line(event: Event) -> Line:
    """A step change or an end, told from the event's kinds and numbers; its reason only as a flag."""
    data = event.payload or {}
    line = Line(event.created_at, _actor(event.actor), "", event.workshop.title)
    if event.kind == "workshop.ended":
        line.reason_given = bool(data.get("reason"))
        line.what = str(_("workshop ended early")) if line.reason_given else str(_("workshop ended"))
    elif data.get("direction") == "back":
        line.what = _("went back to the step “%(step)s”") % {"step": _step_title(data.get("step"))}
        line.reason_given = bool(data.get("reason"))
    elif data.get("override"):
        line.what = _("moved on to “%(step)s” before everyone had accepted the rules") % {"step": _step_title(data.get("step"))}
        override = data["override"]
        line.reason_given = bool(override.get("reason")) if isinstance(override, dict) else True
    elif data.get("step"):
        line.what = _("moved on to the step “%(step)s”") % {"step": _step_title(data.get("step"))}
    else:
        line.what = str(_("step changed (details purged)"))
    return line


def _entry_line(entry: AuditEntry, workshops: dict[int, str]) -> Line:
    workshop = workshops.get(entry.target_id, "") if entry.target_type == "workshop" else ""
    return Line(entry.at, _actor(entry.actor, entry.action), str(ACTIONS.get(entry.action, entry.action)), workshop)


def group_log(group: Group, user) -> list[Line]:
    """The group's audit log and its workshops' step changes, newest first. Facilitator only."""
    if not is_facilitator(group, user):
        raise Forbidden(_("Only the group's facilitator reads its audit log."))
    entries = list(AuditEntry.objects.filter(group=group).select_related("actor")[:LIMIT])
    events = list(
        Event.objects.filter(workshop__group=group, kind__in=LOG_KINDS)
        .select_related("actor", "workshop")
        .order_by("-created_at", "-id")[:LIMIT]
    )
    titles = dict(group.workshops.values_list("pk", "title"))
    lines = [_entry_line(e, titles) for e in entries] + [_event_line(e) for e in events]
    lines.sort(key=lambda line: line.at, reverse=True)
    return lines[:LIMIT]


def my_entries(user, limit: int = 50) -> list[AuditEntry]:
    """What the log holds about one's own actions (shown on his data page)."""
    return list(AuditEntry.objects.filter(actor_id=user.pk)[:limit])


def label(action: str) -> str:
    return str(ACTIONS.get(action, action))
