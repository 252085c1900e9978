"""Who somebody is in a group or a workshop."""
from django.utils.translation import gettext as _

from workshops.errors import Forbidden, NotFound
from workshops.models import Group, Membership, Workshop
from workshops.steps import Role


def display_name(user) -> str:
    return user.get_full_name() or user.get_username()


def access_group(user, group_id: int) -> Group:
    """The group, if the user belongs to it."""
    group = Group.objects.filter(pk=group_id).first()
    if group is None:
        raise NotFound(_("This group does not exist."))
    if not user.is_authenticated or not Membership.objects.filter(group=group, user=user).exists():
        raise Forbidden(_("You are not a member of this group."))
    return group


def access_workshop(user, workshop_id: int, rows=None) -> Workshop:
    """The workshop, if the user belongs to its group: the check behind every page, form, socket
    and action. Actions pass `rows` to read it locked, in the same query."""
    rows = rows if rows is not None else Workshop.objects.select_related("group", "case", "case__owner", "facilitator")
    if user.is_authenticated:  # the row and the membership in one query: the case of every action
        workshop = rows.filter(pk=workshop_id, group__memberships__user_id=user.pk).first()
        if workshop is not None:
            return workshop
    if not Workshop.objects.filter(pk=workshop_id).exists():
        raise NotFound(_("This workshop does not exist."))
    raise Forbidden(_("You are not a member of this workshop's group."))


def members_among(workshop: Workshop, user_ids) -> set[int]:
    """Which of these users belong to the workshop's group: access_workshop's check, for several
    readers of one workshop at once."""
    return set(Membership.objects.filter(group_id=workshop.group_id, user_id__in=user_ids).values_list("user_id", flat=True))


def role_in(workshop: Workshop, user_id: int) -> Role:
    if user_id == workshop.facilitator_id:
        return Role.FACILITATOR
    if user_id == workshop.client_id:
        return Role.CLIENT
    return Role.CONSULTANT
