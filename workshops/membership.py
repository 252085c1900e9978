"""Groups and their members: creating a group, inviting by e-mail, joining with the link, the
reporting lines that keep a manager and his direct reports apart, and handing the facilitator role
over. Plain domain code without HTTP: the member pages and the import command call it.

Co-development works among peers: no two members of a group may be in a reporting line. Lines are
kept by e-mail address (lower-case), so they hold before anyone has an account.
"""
import csv
import hashlib
import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from workshops.errors import Forbidden, Invalid, NotFound, Refused
from workshops.models import Group, Handover, Invitation, Membership, ReportingLine, Session, Workshop
from workshops.people import display_name

logger = logging.getLogger(__name__)

MIN_PARTICIPANTS, MAX_PARTICIPANTS = 4, 10  # outside this range the group page warns
RECOMMENDED = (6, 8)
MAX_NAME = 150  # the user model's name and username fields
MAX_CSV_BYTES = 1024 * 1024
MAX_TOKEN = 100  # longer than any token we make: not worth hashing
CSV_HEADER = ("manager_email", "report_email")
MANAGER, REPORT = "manager", "report"  # what the other person is to the one who declares


class LinkGone(Refused):
    """The invitation existed but can no longer be used (already used, or expired)."""


# --- groups ---------------------------------------------------------------------------------------


@transaction.atomic
def create_group(name: str, *, acting_user) -> Group:
    """A new group; whoever creates it is its facilitator."""
    name = " ".join((name or "").replace("\x00", "").split())  # one line: it goes into e-mail subjects
    if not name:
        raise Invalid(_("Give the group a name."))
    if len(name) > Group._meta.get_field("name").max_length:
        raise Invalid(_("The group's name is too long (200 characters at most)."))
    group = Group.objects.create(name=name)
    Membership.objects.create(group=group, user=acting_user, role=Membership.FACILITATOR)
    return group


def facilitator_of(group: Group):
    membership = group.memberships.select_related("user").filter(role=Membership.FACILITATOR).first()
    return membership.user if membership else None


def is_facilitator(group: Group, user) -> bool:
    return bool(user.is_authenticated) and group.memberships.filter(user_id=user.pk, role=Membership.FACILITATOR).exists()


def check_facilitator(group: Group, user) -> None:
    if not is_facilitator(group, user):
        raise Forbidden(_("Only the group's facilitator can do this."))


def participant_count(group: Group) -> int:
    """Members who take part in the workshops as client or consultant: everyone but the facilitator."""
    return group.memberships.exclude(role=Membership.FACILITATOR).count()


def size_advice(participants: int) -> str | None:
    """A warning when the group is too small or too large for the method; it never blocks."""
    low, high = RECOMMENDED
    if participants < MIN_PARTICIPANTS:
        return ngettext(
            "The group has %(count)s participant besides the facilitator. With fewer than 4 there are too few "
            "perspectives for the consultation, and each member is the client too often. %(low)s to %(high)s "
            "participants are recommended.",
            "The group has %(count)s participants besides the facilitator. With fewer than 4 there are too few "
            "perspectives for the consultation, and each member is the client too often. %(low)s to %(high)s "
            "participants are recommended.",
            participants,
        ) % {"count": participants, "low": low, "high": high}
    if participants > MAX_PARTICIPANTS:
        return _(
            "The group has %(count)s participants besides the facilitator. With more than 10 not everyone can "
            "speak, and the clarification and the consultation run over their time. %(low)s to %(high)s "
            "participants are recommended."
        ) % {"count": participants, "low": low, "high": high}
    return None


# --- e-mail addresses -----------------------------------------------------------------------------

_SEPARATORS = re.compile(r"[,;\n\r]+")
_BRACKETED = re.compile(r"<([^<>]*)>\s*$")


def normalise_email(raw: str) -> str:
    """The address in lower case, or Invalid with a message naming it."""
    text = (raw or "").strip()
    bracketed = _BRACKETED.search(text)  # "Claire Morel <claire@example.org>", as mail programs copy it
    address = (bracketed.group(1) if bracketed else text).strip().lower()
    shown = text if len(text) <= 80 else text[:79] + "…"
    if len(address) > MAX_NAME:
        raise Invalid(_("“%(address)s” is too long for an e-mail address.") % {"address": shown})
    try:
        validate_email(address)
    except ValidationError:
        raise Invalid(_("“%(address)s” is not a valid e-mail address.") % {"address": shown}) from None
    return address


def parse_addresses(text: str) -> tuple[list[str], list[str]]:
    """Addresses typed one per line or separated by commas or semicolons: (good ones without
    duplicates, in order; one message per bad one)."""
    good: list[str] = []
    errors: list[str] = []
    for chunk in _SEPARATORS.split(text or ""):
        if not chunk.strip():
            continue
        try:
            address = normalise_email(chunk)
        except Invalid as error:
            errors.append(error.message)
            continue
        if address not in good:
            good.append(address)
    return good, errors


def user_by_email(email: str):
    """The active account that owns this address (an account made by an invitation has it as username)."""
    users = get_user_model().objects.filter(Q(email__iexact=email) | Q(username__iexact=email), is_active=True)
    return users.order_by("pk").first()


# --- reporting lines ------------------------------------------------------------------------------


def linked_emails(email: str) -> set[str]:
    """Addresses in a reporting line with `email`, whichever way round."""
    lines = ReportingLine.objects.filter(Q(manager_email=email) | Q(report_email=email))
    return {line.report_email if line.manager_email == email else line.manager_email for line in lines}


def _people_of(group: Group, *, except_invitation: Invitation | None = None) -> dict[str, str]:
    """Every member and pending invitee of the group: lower-case address → the name to show."""
    people: dict[str, str] = {}
    pending = pending_invitations(group)
    if except_invitation is not None:
        pending = pending.exclude(pk=except_invitation.pk)
    for invitation in pending:
        people[invitation.email.lower()] = invitation.email
    for membership in group.memberships.select_related("user"):
        if membership.user.email:
            people[membership.user.email.lower()] = display_name(membership.user)
    return people


def _refuse_hierarchy(group: Group, email: str, name: str, *, except_invitation: Invitation | None = None) -> None:
    """Refused if `email` is in a reporting line with a member or pending invitee of the group.
    The message names both people, never who manages whom."""
    people = _people_of(group, except_invitation=except_invitation)
    for other in sorted(linked_emails(email)):
        if other in people and other != email:
            raise Refused(
                _(
                    "Co-development works among peers with no hierarchical link: %(a)s and %(b)s are in a "
                    "reporting line, so they cannot be in the same group."
                )
                % {"a": name, "b": people[other]}
            )


def hierarchy_conflicts(group: Group) -> list[tuple[str, str]]:
    """Pairs of members (or pending invitees) in a reporting line declared after they met in the
    group. Each pair is in alphabetical order, so it says nothing of who manages whom."""
    people = _people_of(group)
    lines = ReportingLine.objects.filter(manager_email__in=people, report_email__in=people)
    pairs = {tuple(sorted((people[line.manager_email], people[line.report_email]), key=str.casefold)) for line in lines}
    return sorted(pairs, key=lambda pair: (pair[0].casefold(), pair[1].casefold()))


def declare_reporting_line(user, other_email: str, relation: str) -> tuple[ReportingLine, bool]:
    """The member says "<other_email> is my manager" (relation MANAGER) or "… my direct report"
    (REPORT). Returns the line and whether it is new."""
    own = (user.email or "").strip().lower()
    if not own:
        raise Invalid(_("Your account has no e-mail address, so a reporting line cannot be attached to you."))
    if relation not in (MANAGER, REPORT):
        raise Invalid(_("Choose whether this person is your manager or your direct report."))
    other = normalise_email(other_email)
    if other == own:
        raise Invalid(_("A reporting line links two different people."))
    manager, report = (other, own) if relation == MANAGER else (own, other)
    return _add_line(manager, report, source=ReportingLine.MEMBER, declared_by=user)


def _add_line(manager: str, report: str, *, source: str, declared_by) -> tuple[ReportingLine, bool]:
    try:
        with transaction.atomic():  # a savepoint: a racing twin only costs this line
            return ReportingLine.objects.get_or_create(
                manager_email=manager, report_email=report, defaults={"source": source, "declared_by": declared_by}
            )
    except IntegrityError:
        return ReportingLine.objects.get(manager_email=manager, report_email=report), False


def my_reporting_lines(user) -> list[dict]:
    """The lines this member declared himself, as he said them."""
    own = (user.email or "").lower()
    rows = []
    for line in ReportingLine.objects.filter(declared_by=user, source=ReportingLine.MEMBER).order_by("created_at", "id"):
        relation = MANAGER if line.report_email == own else REPORT
        other = line.manager_email if relation == MANAGER else line.report_email
        rows.append({"id": line.pk, "email": other, "relation": relation, "created_at": line.created_at})
    return rows


def remove_reporting_line(user, line_id) -> None:
    deleted, _rows = ReportingLine.objects.filter(pk=_as_id(line_id), declared_by=user, source=ReportingLine.MEMBER).delete()
    if not deleted:
        raise NotFound(_("This reporting line does not exist or was not declared by you."))


def may_coordinate(user) -> bool:
    return bool(user.is_authenticated) and user.has_perm("workshops.coordinate")


@dataclass
class ImportReport:
    added: int = 0
    known: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number, message)


def decode_csv(data: bytes) -> str:
    """A CSV file's text: UTF-8 (with or without the BOM spreadsheets add), else Windows-1252."""
    if len(data) > MAX_CSV_BYTES:
        raise Invalid(_("The file is too large (1 MB at most)."))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def import_reporting_lines(text: str, *, acting_user=None) -> ImportReport:
    """Lines "manager_email,report_email" (or separated by semicolons, as French spreadsheets save
    them) after that header. Idempotent: a known line is counted, not doubled. Each bad line is
    reported with its number; the good ones are kept. acting_user None is the server's command line."""
    if acting_user is not None and not may_coordinate(acting_user):
        raise Forbidden(_("Only the coordinator can import reporting lines."))
    lines = (text or "").lstrip("\ufeff").splitlines()
    header = lines[0] if lines else ""
    delimiter = ";" if ";" in header and "," not in header else ","
    if tuple(cell.strip().lower() for cell in next(csv.reader([header], delimiter=delimiter), [])) != CSV_HEADER:
        raise Invalid(_("The first line must be the header: manager_email,report_email"))
    report = ImportReport()
    for number, row in enumerate(csv.reader(lines[1:], delimiter=delimiter), start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != 2:
            report.errors.append((number, _("Expected two addresses (manager, direct report), found %(count)s fields.") % {"count": len(row)}))
            continue
        try:
            manager, report_email = normalise_email(row[0]), normalise_email(row[1])
        except Invalid as error:
            report.errors.append((number, error.message))
            continue
        if manager == report_email:
            report.errors.append((number, _("A reporting line links two different people.")))
            continue
        _line, created = _add_line(manager, report_email, source=ReportingLine.IMPORT, declared_by=acting_user)
        if created:
            report.added += 1
        else:
            report.known += 1
    return report


# --- invitations ----------------------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_lifetime() -> timedelta:
    return timedelta(seconds=settings.SIGNIN_LINK_TIMEOUT)


def expires_at(invitation: Invitation):
    return invitation.created_at + link_lifetime()


def pending_invitations(group: Group):
    """Sent, neither used nor expired."""
    return group.invitations.filter(accepted_at__isnull=True, created_at__gt=timezone.now() - link_lifetime()).order_by(
        "created_at", "id"
    )


def planned_size(group: Group) -> int:
    """Participants the group would have once every pending invitation is accepted."""
    return participant_count(group) + pending_invitations(group).count()


@dataclass
class InviteReport:
    sent: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    advice: str | None = None  # the group, invitees included, is outside the recommended range


def invite_many(group: Group, text: str, *, acting_user, join_url) -> InviteReport:
    """Invite each address of `text`; each refusal gets its own message, the others are sent."""
    check_facilitator(group, acting_user)
    addresses, errors = parse_addresses(text)
    report = InviteReport(errors=errors)
    if not addresses and not errors:
        raise Invalid(_("Enter at least one e-mail address."))
    for address in addresses:
        try:
            invite(group, address, acting_user=acting_user, join_url=join_url)
        except (Invalid, Refused) as error:
            report.errors.append(error.message)
        else:
            report.sent.append(address)
    if report.sent:
        report.advice = size_advice(planned_size(group))
    return report


def invite(group: Group, email: str, *, acting_user, join_url) -> Invitation:
    """Send a one-time join link to `email`. `join_url(token)` makes the absolute link (the page
    knows the host). Inviting again replaces the pending link: the old one stops working."""
    with transaction.atomic():
        Group.objects.select_for_update().get(pk=group.pk)  # invitations, joins and handovers of a group queue here
        check_facilitator(group, acting_user)
        email = normalise_email(email)
        existing = user_by_email(email)
        if existing is not None and group.memberships.filter(user=existing).exists():
            raise Refused(_("%(address)s is already a member of this group: no invitation sent.") % {"address": email})
        name = display_name(existing) if existing is not None else email
        _refuse_hierarchy(group, email, name)
        group.invitations.filter(email=email, accepted_at__isnull=True).delete()
        token = secrets.token_urlsafe(32)
        invitation = Invitation.objects.create(group=group, email=email, token_hash=_hash(token), invited_by=acting_user)
        _send_invitation(invitation, join_url(token))  # a failed send rolls the invitation back
    return invitation


def _send_invitation(invitation: Invitation, link: str) -> None:
    inviter = display_name(invitation.invited_by)
    expiry = formats.date_format(timezone.localtime(expires_at(invitation)), "DATETIME_FORMAT")
    values = {"group": invitation.group.name, "inviter": inviter, "link": link, "expires": expiry}
    subject = _("Invitation to the co-development group “%(group)s”") % values
    body = "\n\n".join(
        [
            _("%(inviter)s invites you to join the co-development group “%(group)s” on Codev.") % values,
            _(
                "A co-development group brings peers together, with no hierarchical link, to help one another "
                "on concrete professional problems: in each workshop one member, the client, presents a situation "
                "and the others, the consultants, help him in six structured steps."
            ),
            _("To join, open this link (no password needed):\n%(link)s") % values,
            _("It works only once, until %(expires)s (after that, ask %(inviter)s for a new one).") % values,
            _("If you do not wish to join, simply ignore this message."),
        ]
    )
    try:
        send_mail(" ".join(subject.split()), body, None, [invitation.email])
    except OSError as error:  # smtplib's errors are OSErrors: the server is down or refused
        raise Refused(_("The invitation to %(address)s could not be sent: %(error)s") % {"address": invitation.email, "error": error}) from None


def cancel_invitation(group: Group, invitation_id, *, acting_user) -> None:
    check_facilitator(group, acting_user)
    deleted, _rows = group.invitations.filter(pk=_as_id(invitation_id), accepted_at__isnull=True).delete()
    if not deleted:
        raise NotFound(_("This invitation does not exist or has already been used."))


def find_invitation(token: str, *, lock: bool = False) -> Invitation:
    """The invitation a link carries, if it can still be used; NotFound or LinkGone otherwise."""
    invitation = None
    if token and len(token) <= MAX_TOKEN:
        rows = Invitation.objects.select_related("group", "invited_by")
        if lock:
            rows = rows.select_for_update(of=("self",))
        invitation = rows.filter(token_hash=_hash(token)).first()
    if invitation is None:
        raise NotFound(_("This invitation link is not valid. Check that it was copied whole, or ask the facilitator for a new one."))
    if invitation.accepted_at is not None:
        raise LinkGone(_("This invitation link has already been used. Sign in, or ask the facilitator for a new link."))
    if timezone.now() >= expires_at(invitation):
        raise LinkGone(_("This invitation link has expired. Ask the facilitator of the group to invite you again."))
    return invitation


def invited_account(invitation: Invitation):
    """The account that will join with this invitation, or None if one will be created."""
    return user_by_email(invitation.email)


def accept_invitation(token: str, *, first_name: str = "", last_name: str = ""):
    """Join the group with the link: the account owning the address (the link proves it) or a new
    one without a password. Returns (user, group). Reporting lines are checked again: they may have
    been declared since the invitation was sent."""
    first_name, last_name = (first_name or "").replace("\x00", "").strip(), (last_name or "").replace("\x00", "").strip()
    if len(first_name) > MAX_NAME or len(last_name) > MAX_NAME:
        raise Invalid(_("Names are limited to 150 characters."))
    with transaction.atomic():
        # Lock the group, as invite() does, then read the link again: of two clicks racing, the
        # second finds it used; a link replaced meanwhile is unknown.
        group = Group.objects.select_for_update().get(pk=find_invitation(token).group_id)
        invitation = find_invitation(token, lock=True)
        user = user_by_email(invitation.email)
        _refuse_hierarchy(group, invitation.email, display_name(user) if user else invitation.email, except_invitation=invitation)
        if user is None and get_user_model().objects.filter(username__iexact=invitation.email).exists():
            raise Refused(_("The account with this address is deactivated. Ask the facilitator of the group."))
        if user is None:
            user = get_user_model()(username=invitation.email, email=invitation.email, first_name=first_name, last_name=last_name)
            user.set_unusable_password()
            user.save()
        elif not user.email:
            user.email = invitation.email
            user.save(update_fields=["email"])
        Membership.objects.get_or_create(group=group, user=user)
        invitation.accepted_at, invitation.accepted_by = timezone.now(), user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
    return user, group


# --- handing the facilitator role over --------------------------------------------------------------


def hand_over(group: Group, to_user, *, acting_user) -> Handover:
    """The facilitator passes his role to another member. Sessions and workshops that have not
    started move to the new facilitator; past ones keep theirs (that is the group's history)."""
    with transaction.atomic():
        Group.objects.select_for_update().get(pk=group.pk)
        check_facilitator(group, acting_user)
        target = group.memberships.filter(user_id=_as_id(getattr(to_user, "pk", to_user))).select_related("user").first()
        if target is None:
            raise Invalid(_("The facilitator role can only be handed to a member of the group."))
        if target.user_id == acting_user.pk:
            raise Invalid(_("You are already the facilitator."))
        workshops = Workshop.objects.select_for_update().filter(group=group).exclude(status=Workshop.ENDED)
        if any(w.status == Workshop.LIVE for w in workshops):
            raise Refused(_("A workshop of this group is live: hand the role over once it has ended."))
        group.memberships.filter(user=acting_user).update(role=Membership.MEMBER)
        group.memberships.filter(pk=target.pk).update(role=Membership.FACILITATOR)
        _planned_sessions_follow(group, target.user)
        handover = Handover.objects.create(group=group, from_user=acting_user, to_user=target.user)
    _tell_new_facilitator(handover)
    return handover


def _tell_new_facilitator(handover: Handover) -> None:
    """An e-mail to the new facilitator; the group page tells him too, so a failed send is only logged."""
    if not handover.to_user.email:
        return
    values = {
        "group": handover.group.name,
        "name": display_name(handover.from_user),
        "date": formats.date_format(timezone.localtime(handover.at), "DATETIME_FORMAT"),
    }
    subject = _("You are now the facilitator of “%(group)s”") % values
    body = "\n\n".join(
        [
            _("%(name)s handed the facilitator role of the co-development group “%(group)s” over to you on %(date)s.") % values,
            _(
                "As facilitator you guide the six steps and guard the process: you plan the sessions, invite "
                "members and start the workshops. The sessions already planned are now yours to facilitate."
            ),
        ]
    )
    try:
        send_mail(" ".join(subject.split()), body, None, [handover.to_user.email])
    except OSError:
        logger.warning("Could not e-mail the new facilitator of group %s", handover.group_id, exc_info=True)


def handover_notice(group: Group, user) -> Handover | None:
    """The handover this user has not acknowledged yet, while he is still the facilitator."""
    if not is_facilitator(group, user):
        return None
    return group.handovers.select_related("from_user").filter(to_user=user, seen_at__isnull=True).order_by("-at").first()


def mark_handover_seen(group: Group, handover_id, *, acting_user) -> None:
    updated = group.handovers.filter(pk=_as_id(handover_id), to_user=acting_user, seen_at__isnull=True).update(seen_at=timezone.now())
    if not updated:
        raise NotFound(_("This notice does not exist or has already been dismissed."))


def handover_history(group: Group):
    return group.handovers.select_related("from_user", "to_user").order_by("at", "id")


def _as_id(value) -> int:
    """A primary key from a form; 0 (which matches no row) when the value is not one."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 0
    return number if 0 < number < 2**63 else 0


# --- the coordinator's groups ---------------------------------------------------------------------
# The coordinator (training or HR) creates groups and names their facilitator. He never becomes a
# member: what a group says stays out of his reach. His refusals name no member either.


def check_coordinator(user) -> None:
    if not may_coordinate(user):
        raise Forbidden(_("Only the coordinator can do this."))


def _group_name(name: str) -> str:
    """The name on one line (it goes into e-mail subjects), as create_group wants it."""
    name = " ".join((name or "").replace("\x00", "").split())
    if not name:
        raise Invalid(_("Give the group a name."))
    if len(name) > Group._meta.get_field("name").max_length:
        raise Invalid(_("The group's name is too long (200 characters at most)."))
    return name


def _facilitator_email(raw: str) -> str:
    if not (raw or "").strip():
        raise Invalid(_("Enter the facilitator's e-mail address."))
    return normalise_email(raw)


def _account_for(email: str):
    """The active account with this address, or a new one without a password: the e-mailed link
    signs its owner in, as it does for invited members."""
    user = user_by_email(email)
    if user is not None:
        return user
    if get_user_model().objects.filter(username__iexact=email).exists():
        raise Refused(_("The account with this address is deactivated."))
    user = get_user_model()(username=email, email=email)
    user.set_unusable_password()
    user.save()
    return user


def _refuse_hierarchy_unnamed(group: Group, email: str) -> None:
    """The no-hierarchy rule for a facilitator the coordinator names: the refusal says there is a
    line, never with whom (the coordinator does not learn who the members are)."""
    people = _people_of(group)
    if any(other in people and other != email for other in linked_emails(email)):
        raise Refused(
            _("%(address)s is in a reporting line with a member of this group: choose another facilitator.") % {"address": email}
        )


def _invite_facilitator(group: Group, email: str, *, acting_user, join_url) -> Invitation:
    """A one-time link, like a member's invitation: it signs the facilitator in and opens his group."""
    group.invitations.filter(email=email, accepted_at__isnull=True).delete()
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(group=group, email=email, token_hash=_hash(token), invited_by=acting_user)
    inviter = display_name(acting_user)
    expiry = formats.date_format(timezone.localtime(expires_at(invitation)), "DATETIME_FORMAT")
    values = {"group": group.name, "inviter": inviter, "link": join_url(token), "expires": expiry}
    subject = _("You are invited to facilitate the co-development group “%(group)s”") % values
    body = "\n\n".join(
        [
            _("%(inviter)s, who coordinates the co-development groups, asks you to facilitate the group “%(group)s” on Codev.") % values,
            _(
                "As facilitator you guide the six steps and guard the process: you invite the members, plan the "
                "sessions and start the workshops. You do not bring a case yourself."
            ),
            _("To join, open this link (no password needed):\n%(link)s") % values,
            _("It works only once, until %(expires)s (after that, ask %(inviter)s for a new one).") % values,
            _("If you cannot take this role, tell %(inviter)s.") % values,
        ]
    )
    try:
        send_mail(" ".join(subject.split()), body, None, [email])
    except OSError as error:  # the caller's transaction rolls back: nothing half-made remains
        raise Refused(_("The invitation to %(address)s could not be sent: %(error)s") % {"address": email, "error": error}) from None
    return invitation


def create_group_for(name: str, facilitator_email: str, *, acting_user, join_url) -> Group:
    """The coordinator creates a group and names its facilitator: the account with that address,
    or a new one. The facilitator gets a one-time link by e-mail; the coordinator does not join."""
    check_coordinator(acting_user)
    name = _group_name(name)
    email = _facilitator_email(facilitator_email)
    with transaction.atomic():
        user = _account_for(email)
        group = Group.objects.create(name=name)
        Membership.objects.create(group=group, user=user, role=Membership.FACILITATOR)
        _invite_facilitator(group, email, acting_user=acting_user, join_url=join_url)
    return group


def _planned_sessions_follow(group: Group, user) -> None:
    """What has not started moves to the new facilitator; the past keeps its own (the history)."""
    started = Workshop.objects.filter(group=group, session__isnull=False).exclude(status=Workshop.PLANNED)
    Session.objects.filter(group=group).exclude(pk__in=started.values("session_id")).update(facilitator=user)
    Workshop.objects.filter(group=group, status=Workshop.PLANNED).update(facilitator=user)


def assign_facilitator(group: Group, facilitator_email: str, *, acting_user, join_url) -> Handover:
    """The coordinator names another facilitator. The role passes as with hand_over: the previous
    facilitator stays a member, planned sessions follow the new one. Someone who is not a member
    yet joins as facilitator and gets a one-time link; a member is told by e-mail."""
    check_coordinator(acting_user)
    email = _facilitator_email(facilitator_email)
    with transaction.atomic():
        Group.objects.select_for_update().get(pk=group.pk)
        current = facilitator_of(group)
        user = user_by_email(email)
        if user is not None and current is not None and user.pk == current.pk:
            raise Invalid(_("%(address)s is already the facilitator of this group.") % {"address": email})
        if user is not None and may_coordinate(user):
            # Else coordinating would be a way into what a group has said: its past workshops.
            raise Refused(_("A coordinator cannot be named facilitator of an existing group: name someone else."))
        workshops = Workshop.objects.select_for_update().filter(group=group).exclude(status=Workshop.ENDED)
        if any(w.status == Workshop.LIVE for w in workshops):
            raise Refused(_("A workshop of this group is live: hand the role over once it has ended."))
        _refuse_hierarchy_unnamed(group, email)
        user = user or _account_for(email)
        target, joins = Membership.objects.get_or_create(group=group, user=user, defaults={"role": Membership.FACILITATOR})
        group.memberships.filter(role=Membership.FACILITATOR).exclude(pk=target.pk).update(role=Membership.MEMBER)
        group.memberships.filter(pk=target.pk).update(role=Membership.FACILITATOR)
        _planned_sessions_follow(group, user)
        handover = Handover.objects.create(group=group, from_user=current, to_user=user)
        if joins:
            _invite_facilitator(group, email, acting_user=acting_user, join_url=join_url)
    if not joins:
        _tell_assigned_facilitator(handover, acting_user)
    _tell_previous_facilitator(handover, acting_user)
    return handover


def _tell_assigned_facilitator(handover: Handover, coordinator) -> None:
    """A member named facilitator by the coordinator: an e-mail (the group page tells him too)."""
    address = handover.to_user.email or (handover.to_user.username if "@" in handover.to_user.username else "")
    if not address:
        return
    values = {
        "group": handover.group.name,
        "name": display_name(coordinator),
        "date": formats.date_format(timezone.localtime(handover.at), "DATETIME_FORMAT"),
    }
    subject = _("You are now the facilitator of “%(group)s”") % values
    body = "\n\n".join(
        [
            _("%(name)s, who coordinates the co-development groups, made you the facilitator of “%(group)s” on %(date)s.") % values,
            _(
                "As facilitator you guide the six steps and guard the process: you plan the sessions, invite "
                "members and start the workshops. The sessions already planned are now yours to facilitate."
            ),
        ]
    )
    try:
        send_mail(" ".join(subject.split()), body, None, [address])
    except OSError:
        logger.warning("Could not e-mail the new facilitator of group %s", handover.group_id, exc_info=True)


def _tell_previous_facilitator(handover: Handover, coordinator) -> None:
    """The facilitator replaced by the coordinator learns it, and by whom: such a change is never silent."""
    previous = handover.from_user
    address = previous.email if previous is not None else ""
    if not address:
        return
    values = {
        "group": handover.group.name,
        "coordinator": display_name(coordinator),
        "name": display_name(handover.to_user),
        "date": formats.date_format(timezone.localtime(handover.at), "DATETIME_FORMAT"),
    }
    subject = _("A new facilitator for “%(group)s”") % values
    body = _(
        "%(coordinator)s, who coordinates the co-development groups, named %(name)s facilitator of “%(group)s” "
        "in your place on %(date)s. You stay a member of the group."
    ) % values
    try:
        send_mail(" ".join(subject.split()), body, None, [address])
    except OSError:
        logger.warning("Could not e-mail the previous facilitator of group %s", handover.group_id, exc_info=True)
