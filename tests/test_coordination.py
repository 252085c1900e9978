"""The coordinator: process figures of every group and nothing said in them; creating a group and
naming its facilitator, who gets a one-time link; nobody else reaches these pages."""
import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import Permission, User
from django.core import mail
from django.urls import reverse

from workshops import actions, attendance, coordination, followup, membership, sessions
from workshops.errors import Forbidden, Invalid, Refused
from workshops.models import Case, Group, Handover, Invitation, Membership, ReportingLine, Session, Workshop
from workshops.steps import LAST, Step

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
TOO_FEW = "not enough answers to show without identifying anyone"


@pytest.fixture
def helene(db) -> User:
    user = User.objects.create_user("helene", email="helene@example.org", first_name="Hélène", last_name="Durand")
    user.user_permissions.add(Permission.objects.get(codename="coordinate", content_type__app_label="workshops"))
    return User.objects.get(pk=user.pk)  # a fresh instance: permissions are cached per instance


def join_url(token: str) -> str:
    return f"http://testserver/join/{token}/"


def hold(workshop: Workshop, case: Case, *, facilitator, scores: dict, plan: str = "", comment: str = "") -> Workshop:
    """Run a whole workshop on `case` through the domain: each user in `scores` evaluates it."""
    w = workshop.pk
    actions.designate_case(w, case.pk, acting_user=facilitator)
    actions.start(w, acting_user=facilitator)
    for step in range(Step.EXPOSE, LAST):
        if step == Step.PLAN and plan:
            actions.add_action(w, cid=f"00000000-0000-4000-8000-{w:012d}", what=plan, acting_user=case.owner)
        actions.advance(w, from_step=step, acting_user=facilitator)
    for user, score in scores.items():
        actions.evaluate(w, score=score, comment=comment, acting_user=user)
    return actions.end(w, acting_user=facilitator)


@pytest.fixture
def history(cast):
    """Two sessions held: Marc's case (3 evaluations, plan closed since), then Sophie's (3 more,
    plan open). Everyone present at the first; Julien absent from the second."""
    first = Session.objects.get(workshops=cast.workshop)
    hold(cast.workshop, cast.case, facilitator=cast.claire, plan="SECRET-plan-marc",
         scores={cast.marc: 5, cast.sophie: 4, cast.julien: 4}, comment="SECRET-comment")
    attendance.mark_all(first, {u.pk: True for u in (cast.claire, cast.marc, cast.sophie, cast.julien)}, acting_user=cast.claire)
    second = sessions.plan_session(cast.group, facilitator=cast.claire, number=2)
    workshop = second.workshops.get()
    followup.close(workshop.pk, plan_id=cast.workshop.pk, acting_user=cast.marc)
    case = Case.objects.create(group=cast.group, owner=cast.sophie, title="SECRET-case-sophie", problem="SECRET-problem")
    hold(workshop, case, facilitator=cast.claire, plan="SECRET-plan-sophie",
         scores={cast.marc: 3, cast.sophie: 5, cast.julien: 4})
    attendance.mark_all(second, {cast.claire.pk: True, cast.marc.pk: True, cast.sophie.pk: True, cast.julien.pk: False},
                        acting_user=cast.claire)
    sessions.plan_session(cast.group, facilitator=cast.claire, number=3)  # not held: counts for nothing
    return cast


def dashboard(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("coordination"), **EN)
    assert response.status_code == 200
    return response.content.decode()


# --- the figures ------------------------------------------------------------------------------


def test_the_coordinator_sees_each_groups_process_figures(history, helene):
    row = next(r for r in coordination.dashboard(helene) if r.group == history.group)
    assert row.facilitator == "Claire Morel"
    assert row.members == 3
    assert row.sessions_held == 2
    assert row.attendance.value == 88  # 7 present of 8 expected
    assert str(row.satisfaction.value) == "4.2"  # 25 / 6
    assert (row.plans_open, row.plans_closed) == (1, 1)
    other = next(r for r in coordination.dashboard(helene) if r.group.name == "Autre groupe")
    assert (other.sessions_held, other.members, other.facilitator) == (0, 1, "")


def test_the_dashboard_shows_figures_and_nothing_said_nor_any_members_name(history, helene, client):
    html = dashboard(client, helene)
    assert "Groupe Test" in html and "Autre groupe" in html and "Claire Morel" in html
    assert "88 %" in html and "4.2" in html
    for secret in ("SECRET", "Reprendre une équipe", "Personne ne parle", "Marc", "Sophie", "Julien", "Lefèvre", "Olivier"):
        assert secret not in html, secret


def test_a_figure_over_fewer_than_five_answers_is_not_shown(cast, helene, client):
    first = Session.objects.get(workshops=cast.workshop)
    hold(cast.workshop, cast.case, facilitator=cast.claire, scores={cast.marc: 1, cast.sophie: 2, cast.julien: 2})
    attendance.mark_all(first, {cast.marc.pk: True, cast.sophie.pk: False}, acting_user=cast.claire)
    row = next(r for r in coordination.dashboard(helene) if r.group == cast.group)
    assert (row.satisfaction.value, row.satisfaction.answers) == (None, 3)
    assert (row.attendance.value, row.attendance.answers) == (None, 4)
    html = dashboard(client, helene)
    assert html.count(TOO_FEW) == 2
    assert "1.7" not in html and "25 %" not in html


def test_the_coordinator_sees_that_exports_happened_not_what_nor_who(history, helene, client):
    client.force_login(history.marc)
    assert client.get(reverse("workshop_record_md", args=[history.workshop.pk])).status_code == 200
    assert client.get(reverse("workshop_record_pdf", args=[history.workshop.pk])).status_code == 200
    row = next(r for r in coordination.dashboard(helene) if r.group == history.group)
    assert row.exports == 2
    html = dashboard(client, helene)
    assert re.search(r'<td class="num">2</td>\s*</tr>', html)
    assert "Marc" not in html and "Lefèvre" not in html


@pytest.mark.parametrize("who", ["claire", "marc", "olivier"])
def test_members_and_facilitators_do_not_reach_the_coordination_pages(cast, client, who):
    client.force_login(getattr(cast, who))
    for url in (reverse("coordination"), reverse("coordination_group_create"),
                reverse("coordination_facilitator", args=[cast.group.pk])):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("coordination_group_create"), {"name": "G", "email": "x@example.org"}).status_code == 403
    assert not Group.objects.filter(name="G").exists()
    with pytest.raises(Forbidden):
        coordination.dashboard(getattr(cast, who))


def test_anonymous_visitors_are_sent_to_sign_in(cast, client):
    response = client.get(reverse("coordination"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_only_the_coordinator_has_the_link_in_the_top_bar(cast, helene, client):
    client.force_login(cast.claire)
    assert reverse("coordination") not in client.get(reverse("home")).content.decode()
    client.force_login(helene)
    assert reverse("coordination") in client.get(reverse("home")).content.decode()


# --- creating a group --------------------------------------------------------------------------


def test_the_coordinator_creates_a_group_for_a_new_facilitator_who_joins_with_the_link(db, helene, client):
    client.force_login(helene)
    response = client.post(reverse("coordination_group_create"), {"name": "  Managers   Nantes ", "email": "Paul@Example.org"}, **EN)
    assert response.status_code == 302 and response["Location"] == reverse("coordination")
    group = Group.objects.get(name="Managers Nantes")
    paul = User.objects.get(username="paul@example.org")
    assert paul.email == "paul@example.org" and not paul.has_usable_password()
    assert list(group.memberships.values_list("user__username", "role")) == [("paul@example.org", Membership.FACILITATOR)]
    assert not Membership.objects.filter(user=helene).exists()  # the coordinator does not join
    (message,) = mail.outbox
    assert message.to == ["paul@example.org"] and "Managers Nantes" in message.subject
    link = re.search(r"http://testserver(/join/[^/\s]+/)", message.body).group(1)
    client.logout()
    assert client.get(link).status_code == 200
    response = client.post(link)
    assert response.status_code == 302 and response["Location"].startswith(reverse("group", args=[group.pk]))
    assert int(client.session[SESSION_KEY]) == paul.pk
    assert membership.is_facilitator(group, paul)
    assert client.post(link).status_code == 410  # single use


def test_a_known_address_makes_its_account_the_facilitator(cast, helene):
    cast.sophie.email = "sophie@example.org"
    cast.sophie.save()
    group = membership.create_group_for("Second groupe", "SOPHIE@example.org", acting_user=helene, join_url=join_url)
    assert membership.facilitator_of(group) == cast.sophie
    assert User.objects.filter(email__iexact="sophie@example.org").count() == 1


@pytest.mark.parametrize(
    ("name", "email", "message"),
    [
        ("", "paul@example.org", "Give the group a name."),
        ("G" * 201, "paul@example.org", "too long"),
        ("Groupe", "", "Enter the facilitator"),
        ("Groupe", "not an address", "is not a valid e-mail address"),
    ],
)
def test_bad_input_is_explained_and_nothing_is_created(db, helene, client, name, email, message):
    client.force_login(helene)
    response = client.post(reverse("coordination_group_create"), {"name": name, "email": email}, **EN)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert email[:20] in response.content.decode()  # what he typed is kept
    assert not Group.objects.exists() and not User.objects.exclude(pk=helene.pk).exists() and not mail.outbox


def test_a_failed_e_mail_creates_nothing(db, helene, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, False, 2
    with pytest.raises(Refused, match="could not be sent"):
        membership.create_group_for("Groupe", "paul@example.org", acting_user=helene, join_url=join_url)
    assert not Group.objects.exists() and not User.objects.filter(username="paul@example.org").exists()


def test_only_the_coordinator_creates_a_group_for_someone_else(cast):
    with pytest.raises(Forbidden):
        membership.create_group_for("Groupe", "paul@example.org", acting_user=cast.claire, join_url=join_url)


# --- naming another facilitator -------------------------------------------------------------------


def test_the_coordinator_names_a_member_facilitator_and_planned_sessions_follow(cast, helene, client):
    for user in (cast.sophie, cast.claire):
        user.email = f"{user.username}@example.org"
        user.save()
    client.force_login(helene)
    page = client.get(reverse("coordination_facilitator", args=[cast.group.pk]), **EN).content.decode()
    assert "Claire Morel" in page and "Sophie" not in page and "Marc" not in page
    response = client.post(reverse("coordination_facilitator", args=[cast.group.pk]), {"email": "sophie@example.org"}, **EN)
    assert response.status_code == 302
    roles = dict(cast.group.memberships.values_list("user__username", "role"))
    assert roles == {"claire": Membership.MEMBER, "sophie": Membership.FACILITATOR, "marc": Membership.MEMBER,
                     "julien": Membership.MEMBER}
    assert Workshop.objects.get(pk=cast.workshop.pk).facilitator == cast.sophie
    assert Session.objects.get(workshops=cast.workshop).facilitator == cast.sophie
    handover = Handover.objects.get(group=cast.group)
    assert (handover.from_user, handover.to_user) == (cast.claire, cast.sophie)
    told, previous = mail.outbox  # the new facilitator, and the one replaced: never a silent change
    assert told.to == ["sophie@example.org"] and "Hélène Durand" in told.body
    assert previous.to == ["claire@example.org"] and "Hélène Durand" in previous.body and "Sophie" in previous.body
    assert not Membership.objects.filter(user=helene).exists()


def test_someone_outside_the_group_joins_as_facilitator_with_a_link(cast, helene):
    membership.assign_facilitator(cast.group, "nadia@example.org", acting_user=helene, join_url=join_url)
    nadia = User.objects.get(username="nadia@example.org")
    assert membership.facilitator_of(cast.group) == nadia
    assert Invitation.objects.filter(group=cast.group, email="nadia@example.org", accepted_at__isnull=True).exists()
    assert "/join/" in mail.outbox[0].body


def test_the_role_does_not_pass_while_a_workshop_is_live(cast, helene):
    cast.at_step(Step.CLARIFICATION)
    with pytest.raises(Refused, match="live"):
        membership.assign_facilitator(cast.group, "nadia@example.org", acting_user=helene, join_url=join_url)
    assert membership.facilitator_of(cast.group) == cast.claire
    assert not User.objects.filter(username="nadia@example.org").exists()


def test_naming_the_current_facilitator_again_is_explained(cast, helene, client):
    cast.claire.email = "claire@example.org"
    cast.claire.save()
    client.force_login(helene)
    response = client.post(reverse("coordination_facilitator", args=[cast.group.pk]), {"email": "claire@example.org"}, **EN)
    assert response.status_code == 400
    assert "already the facilitator" in response.content.decode()
    assert not Handover.objects.exists()


def test_a_facilitator_in_a_reporting_line_with_a_member_is_refused_without_naming_the_member(cast, helene, client):
    cast.julien.email = "julien@example.org"
    cast.julien.save()
    ReportingLine.objects.create(manager_email="boss@example.org", report_email="julien@example.org")
    client.force_login(helene)
    response = client.post(reverse("coordination_facilitator", args=[cast.group.pk]), {"email": "boss@example.org"}, **EN)
    assert response.status_code == 400
    html = response.content.decode()
    assert "reporting line" in html and "Julien" not in html and "julien@" not in html
    assert membership.facilitator_of(cast.group) == cast.claire
    assert not User.objects.filter(username="boss@example.org").exists()


@pytest.mark.parametrize("who", ["helene", "root"])
def test_a_coordinator_cannot_name_himself_into_a_group(cast, helene, who):
    """Else coordinating would be a way to read what a group has said."""
    if who == "root":
        User.objects.create_superuser("root", email="root@example.org")
    address = f"{who}@example.org"
    with pytest.raises(Refused, match="coordinator cannot be named"):
        membership.assign_facilitator(cast.group, address, acting_user=helene, join_url=join_url)
    assert membership.facilitator_of(cast.group) == cast.claire
    assert not Membership.objects.filter(user__email=address).exists()


def test_an_unknown_group_is_not_found(db, helene, client):
    client.force_login(helene)
    assert client.get(reverse("coordination_facilitator", args=[999999])).status_code == 404


def test_only_the_coordinator_names_a_facilitator(cast):
    with pytest.raises(Forbidden):
        membership.assign_facilitator(cast.group, "nadia@example.org", acting_user=cast.claire, join_url=join_url)
    with pytest.raises(Invalid):
        membership.assign_facilitator(cast.group, "", acting_user=User(is_superuser=True, is_active=True), join_url=join_url)
