"""A member's own data: export it all, or delete his account.

Deleting removes what was his alone (private notes, journal, kept records, evaluation comments,
votes, the reporting lines he declared, memberships, invitations to his address). What he said
in other people's cases stays in their record, signed by a placeholder "Former member" account
(one per deleted account, inactive, no password, no e-mail). His own cases are purged like
retention purges them, after the other members' learnings and notes went to their journals.
"""
import json
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from privacy import audit, retention
from privacy.models import AuditEntry, ClientRecord
from workshops import journal
from workshops import markdown as md
from workshops.errors import Invalid, NotFound, Refused
from workshops.models import (
    Attendance,
    Case,
    Contribution,
    Evaluation,
    Event,
    Group,
    Handover,
    HandRaise,
    Invitation,
    JournalEntry,
    Learning,
    Membership,
    PlannedAction,
    PrivateNote,
    ReportingLine,
    Session,
    SpeakingTurn,
    Vote,
    Workshop,
)
from workshops.people import display_name

PLACEHOLDER_PREFIX = "former-"


# --- export -------------------------------------------------------------------------------


def _contribution(c: Contribution) -> dict:
    return {"id": c.pk, "workshop": c.workshop_id, "group": c.workshop.group.name, "step": c.step, "kind": c.kind,
            "body": c.body, "created_at": c.created_at}


def export(user) -> dict:
    """Everything he wrote or declared, and nothing anybody else wrote (others' texts are ids)."""
    said = Contribution.objects.filter(author=user).select_related("workshop__group").order_by("created_at", "id")
    own_workshops = Workshop.objects.filter(case__owner=user).select_related("group").order_by("id")
    answered = Contribution.objects.filter(workshop__case__owner=user, kind="question").exclude(answer="").order_by("id")
    return {
        "exported_at": timezone.now(),
        "profile": {
            "username": user.get_username(), "first_name": user.first_name, "last_name": user.last_name,
            "email": user.email, "date_joined": user.date_joined, "last_login": user.last_login,
        },
        "memberships": [
            {"group": m.group_id, "group_name": m.group.name, "role": m.role, "joined_at": m.joined_at}
            for m in Membership.objects.filter(user=user).select_related("group").order_by("joined_at", "id")
        ],
        "cases": [
            {"id": c.pk, "group": c.group_id, "title": c.title, "summary": c.summary, "stakes": c.stakes,
             "urgency": c.urgency, "status": c.status, "context": c.context, "problem": c.problem, "tried": c.tried,
             "expectations": c.expectations, "created_at": c.created_at}
            for c in Case.objects.filter(owner=user).order_by("created_at", "id")
        ],
        "requests": [
            {"workshop": w.pk, "workshop_title": w.title, "group": w.group.name, "request": w.request, "help_kinds": w.help_kinds}
            for w in own_workshops if w.request or w.help_kinds
        ],
        "questions": [_contribution(c) for c in said if c.kind == "question"],
        "answers": [{"question": c.pk, "workshop": c.workshop_id, "answer": c.answer} for c in answered],
        "contributions": [_contribution(c) for c in said if c.kind != "question"],
        "plans": [
            {"id": a.pk, "workshop": a.workshop_id, "what": a.what, "first_step": a.first_step, "due": a.due,
             "success_sign": a.success_sign, "kept_contributions": [k.pk for k in a.kept.all()],
             "followup": a.followup, "followup_comment": a.followup_comment, "followup_at": a.followup_at}
            for a in PlannedAction.objects.filter(workshop__case__owner=user).prefetch_related("kept").order_by("id")
        ],
        "learnings": [
            {"id": item.pk, "workshop": item.workshop_id, "body": item.body, "created_at": item.created_at}
            for item in Learning.objects.filter(author=user).order_by("created_at", "id")
        ],
        "private_notes": [
            {"id": n.pk, "workshop": n.workshop_id, "step": n.step, "body": n.body, "created_at": n.created_at}
            for n in PrivateNote.objects.filter(author=user).order_by("created_at", "id")
        ],
        "evaluations": [
            {"workshop": e.workshop_id, "score": e.score, "comment": e.comment, "created_at": e.created_at}
            for e in Evaluation.objects.filter(author=user).order_by("created_at", "id")
        ],
        "votes": [
            {"session": v.session_id, "case": v.case_id, "count": v.count}
            for v in Vote.objects.filter(voter=user).order_by("id")
        ],
        "attendance": [
            {"session": a.session_id, "present": a.present, "marked_at": a.marked_at}
            for a in Attendance.objects.filter(user=user).order_by("marked_at", "id")
        ],
        "journal_entries": [
            {"id": e.pk, "body": e.body, "created_at": e.created_at, "updated_at": e.updated_at}
            for e in JournalEntry.objects.filter(owner=user)
        ],
        "client_records": [
            {"id": r.pk, "title": r.title, "workshop_title": r.workshop_title, "ended_at": r.ended_at, "markdown": r.body}
            for r in ClientRecord.objects.filter(owner=user).order_by("created_at", "id")
        ],
        "reporting_lines": [
            {"manager_email": line.manager_email, "report_email": line.report_email, "created_at": line.created_at}
            for line in ReportingLine.objects.filter(declared_by=user).order_by("id")
        ],
        "journal_markdown": journal_markdown(user),
    }


def journal_markdown(user) -> str:
    """His journal as Markdown, like its export but without the consultants' words his plans kept."""
    lines = [f"# {_('Learning journal')} — {md.inline(display_name(user))}", ""]
    for part in journal.entries(user):
        if isinstance(part, journal.FreePart):
            when = formats.date_format(timezone.localtime(part.at), "DATETIME_FORMAT")
            lines += [f"## {when} — {_('Free entry')}", "", md.text(part.entry.body), ""]
            continue
        day = formats.date_format(timezone.localtime(part.at), "DATE_FORMAT")
        lines += [f"## {day} — {md.inline(part.group.name)} — {md.inline(part.title)}", ""]
        for heading, items in ((_("What I learned"), part.learnings), (_("My private notes"), part.notes)):
            if items:
                lines += [f"### {heading}", "", *[f"- {md.text(item.body, '  ')}" for item in items], ""]
        if part.actions:
            lines += [f"### {_('My action plan')}", ""]
            for action in part.actions:
                lines.append(f"- {md.text(action.what, '  ')}")
                for label, value in ((_("First step"), action.first_step), (_("Sign of success"), action.success_sign),
                                     (_("Follow-up"), action.followup_comment)):
                    if value:
                        lines.append(f"  - {label} — {md.text(value, '    ')}")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def export_json(user) -> str:
    audit.record(user, "data.exported", target=user)
    return json.dumps(export(user), cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)


# --- deletion -----------------------------------------------------------------------------


def confirmation_matches(user, typed) -> bool:
    typed = str(typed or "").strip()
    if not typed:
        return False
    return typed == user.get_username() or bool(user.email) and typed.casefold() == user.email.strip().casefold()


def blocking_groups(user) -> list[str]:
    """Groups he facilitates that have other members: he must hand the role over first."""
    led = Membership.objects.filter(user=user, role=Membership.FACILITATOR).values_list("group_id", flat=True)
    crowded = Membership.objects.filter(group_id__in=led).exclude(user=user).values_list("group__name", flat=True)
    return sorted(set(crowded))


def check_may_delete(user) -> None:
    groups = blocking_groups(user)
    if groups:
        raise Refused(
            _("You are the facilitator of %(groups)s, which has other members: hand the facilitator role over to one of "
              "them first (on the group's page, under Members), then delete your account.") % {"groups": ", ".join(groups)}
        )
    live = Workshop.objects.filter(status=Workshop.LIVE).filter(Q(case__owner=user) | Q(facilitator=user))
    if live.exists():
        raise Refused(_("A workshop on your case, or that you facilitate, is under way: delete your account once it has ended."))


def _placeholder():
    """One inactive account per deleted one: what he said stays together, and nobody can sign in as it."""
    with translation.override(settings.LANGUAGE_CODE):
        name = _("Former member")
    user = get_user_model()(username=PLACEHOLDER_PREFIX + secrets.token_hex(8), first_name=name, is_active=False)
    user.set_unusable_password()
    user.save()
    return user


def _swap_person(value, user_id: int, old_name: str, new: dict):
    """The payload with his {"id", "name"} and his name written alone replaced by the placeholder's."""
    if isinstance(value, dict):
        if set(value) == {"id", "name"} and value.get("id") == user_id:
            return dict(new)
        return {key: _swap_person(item, user_id, old_name, new) for key, item in value.items()}
    if isinstance(value, list):
        return [_swap_person(item, user_id, old_name, new) for item in value]
    if isinstance(value, str) and value == old_name:
        return new["name"]
    return value


def _tells_his_case(payload, case_ids: set[int]) -> bool:
    case = payload.get("case") if isinstance(payload, dict) else None
    return isinstance(case, dict) and case.get("id") in case_ids


def _anonymise_events(user, placeholder, group_ids: list[int], case_ids: set[int]) -> None:
    """The live log of his groups' workshops names him in payloads: name the placeholder instead,
    and forget his cases' texts wherever a room was told them (a case chosen, then changed)."""
    new = {"id": placeholder.pk, "name": display_name(placeholder)}
    old_name = display_name(user)
    changed = []
    for event in Event.objects.filter(workshop__group_id__in=group_ids).exclude(audience=user).iterator():
        if _tells_his_case(event.payload, case_ids):
            event.payload = {}
            changed.append(event)
            continue
        payload = _swap_person(event.payload, user.pk, old_name, new)
        if payload != event.payload:
            event.payload = payload
            changed.append(event)
    Event.objects.bulk_update(changed, ["payload"], batch_size=200)
    Event.objects.filter(actor=user).update(actor=placeholder)


def _purge_own_cases(user, placeholder, now) -> None:
    """His cases: treated ones purged like retention (others keep their notes), the rest deleted."""
    for workshop in Workshop.objects.filter(case__owner=user, status=Workshop.ENDED):
        retention.purge_workshop(workshop, now=now, reason="account", skip_user_id=user.pk, acting_user=placeholder)
    for workshop in Workshop.objects.filter(case__owner=user, status=Workshop.PLANNED):
        # Chosen but not started: the workshop waits for another case; the choice's event told the case.
        Event.objects.filter(workshop=workshop, kind="client.designated").update(payload={})
        Workshop.objects.filter(pk=workshop.pk).update(case=None)
    used = Workshop.objects.filter(case__owner=user).values_list("case_id", flat=True)
    Case.objects.filter(owner=user).exclude(pk__in=used).delete()  # its votes go with it
    Case.objects.filter(owner=user).update(owner=placeholder)  # blanked by the purge


@transaction.atomic
def delete_account(user, *, confirmation, now=None):
    """Delete his account as described above; returns the placeholder that now signs his words."""
    if not confirmation_matches(user, confirmation):
        raise Invalid(_("To confirm, type your username or your e-mail address exactly."))
    check_may_delete(user)
    now = now or timezone.now()
    group_ids = list(Membership.objects.filter(user=user).values_list("group_id", flat=True))
    case_ids = set(Case.objects.filter(owner=user).values_list("pk", flat=True))
    placeholder = _placeholder()
    _purge_own_cases(user, placeholder, now)
    # What was his alone.
    PrivateNote.objects.filter(author=user).delete()
    JournalEntry.objects.filter(owner=user).delete()
    ClientRecord.objects.filter(owner=user).delete()
    Vote.objects.filter(voter=user).delete()
    ReportingLine.objects.filter(declared_by=user).delete()
    if user.email:
        Invitation.objects.filter(email__iexact=user.email).delete()
    Evaluation.objects.filter(author=user).update(comment="", author=placeholder)  # scores stay, anonymous
    # What he said to others stays in their cases, signed "Former member"; the process keeps its figures.
    Contribution.objects.filter(author=user).update(author=placeholder)
    Learning.objects.filter(author=user).update(author=placeholder)
    Attendance.objects.filter(user=user).update(user=placeholder)
    SpeakingTurn.objects.filter(user=user).update(user=placeholder)  # the group's speaking figures keep his time
    HandRaise.objects.filter(user=user).delete()
    Session.objects.filter(facilitator=user).update(facilitator=placeholder)
    Workshop.objects.filter(facilitator=user).update(facilitator=placeholder)
    Handover.objects.filter(to_user=user).update(to_user=placeholder)
    Handover.objects.filter(from_user=user).update(from_user=placeholder)
    _anonymise_events(user, placeholder, group_ids, case_ids)
    AuditEntry.objects.filter(actor=user).update(actor=placeholder)
    Membership.objects.filter(user=user).delete()
    for group in Group.objects.filter(pk__in=group_ids):  # each facilitator's log says a member left this way
        audit.record(placeholder, "account.deleted", group=group)
    if not group_ids:
        audit.record(placeholder, "account.deleted")
    user.delete()
    return placeholder


# --- the case records retention kept: their owner's only; anyone else is told they do not exist ---


def kept_records(user) -> list[ClientRecord]:
    rows = list(ClientRecord.objects.filter(owner_id=user.pk))
    return sorted(rows, key=lambda r: (r.ended_at or r.created_at, r.pk), reverse=True)


def access_record(user, record_id) -> ClientRecord:
    try:
        pk = int(record_id)
    except (TypeError, ValueError):
        pk = None
    record = ClientRecord.objects.filter(pk=pk, owner_id=user.pk).first() if pk and user.is_authenticated else None
    if record is None:
        raise NotFound(_("This record does not exist."))
    return record


def download_record(user, record_id) -> ClientRecord:
    record = access_record(user, record_id)
    audit.record(user, "client_record.exported", target=record)
    return record


def delete_record(user, record_id) -> None:
    record = access_record(user, record_id)
    audit.record(user, "client_record.deleted", target=record)
    record.delete()
