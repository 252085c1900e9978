"""Groups and members, as facilitators, members, invitees, coordinators and outsiders meet the pages."""
import re
from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import Permission, User
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from workshops import membership
from workshops.models import Group, Handover, Invitation, Membership, ReportingLine, Workshop


@pytest.fixture(autouse=True)
def _english(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


def group_url(cast):
    return reverse("group", args=[cast.group.pk])


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def with_email(user, address):
    user.email = address
    user.save(update_fields=["email"])
    return user


def send_invitation(client, cast, emails):
    client.force_login(cast.claire)
    return client.post(reverse("group_invite", args=[cast.group.pk]), {"emails": emails}, follow=True)


def join_path(message) -> str:
    link = re.search(r"http://testserver(/join/[^/\s]+/)", message.body)
    assert link, message.body
    return link.group(1)


def signed_in_user(client):
    return User.objects.filter(pk=client.session.get(SESSION_KEY)).first()


# --- creating a group ------------------------------------------------------------------------------


def test_home_offers_to_create_a_group_and_the_creator_facilitates_it(client, cast):
    client.force_login(cast.olivier)
    assert reverse("group_create") in page(client, reverse("home"))
    response = client.post(reverse("group_create"), {"name": "Managers Nord"}, follow=True)
    group = Group.objects.get(name="Managers Nord")
    assert response.redirect_chain[-1][0].startswith(reverse("group", args=[group.pk]))
    assert membership.facilitator_of(group) == cast.olivier
    assert 'name="emails"' in response.content.decode(), "the invite form is offered straight away"


def test_a_group_without_name_is_refused_with_a_message(client, cast):
    client.force_login(cast.olivier)
    response = client.post(reverse("group_create"), {"name": "  "})
    assert response.status_code == 400 and b"Give the group a name" in response.content
    assert Group.objects.count() == 2


# --- the group page --------------------------------------------------------------------------------


@pytest.mark.parametrize(("participants", "warned"), [(3, True), (4, False), (10, False), (11, True)])
def test_the_facilitator_sees_the_size_advice(client, cast, participants, warned):
    for n in range(participants - 3):
        Membership.objects.create(group=cast.group, user=User.objects.create_user(f"p{n}"))
    client.force_login(cast.claire)
    html = page(client, group_url(cast))
    assert f"{participants} participants besides you" in html
    assert ("6 to 8 participants are recommended" in html) == warned
    client.force_login(cast.marc)
    assert "recommended" not in page(client, group_url(cast)), "advice is for the facilitator"


def test_members_see_roles_and_joining_dates_but_no_facilitator_forms(client, cast):
    client.force_login(cast.marc)
    html = page(client, group_url(cast))
    assert "Claire Morel" in html and "Facilitator" in html and "joined on" in html
    assert reverse("reporting_lines") in html
    for url in (reverse("group_invite", args=[cast.group.pk]), reverse("group_handover", args=[cast.group.pk])):
        assert url not in html


# --- invitations -----------------------------------------------------------------------------------


def test_an_invitee_joins_without_a_password_and_is_signed_in(client, cast):
    response = send_invitation(client, cast, "nadia@example.org")
    assert "Invitation sent to: nadia@example.org" in response.content.decode()
    (message,) = mail.outbox
    assert "Claire Morel" in message.body and "Groupe Test" in message.body
    path = join_path(message)
    client.logout()
    for _twice in range(2):  # a mail scanner opening the link uses nothing up
        html = page(client, path)
        assert "Join Groupe Test, invited by Claire Morel" in html and 'name="first_name"' in html
    response = client.post(path, {"first_name": "Nadia", "last_name": "Benali"}, follow=True)
    nadia = User.objects.get(username="nadia@example.org")
    assert response.redirect_chain[-1][0].startswith(group_url(cast))
    assert "Welcome to “Groupe Test”" in response.content.decode()
    assert signed_in_user(client) == nadia and not nadia.has_usable_password()
    assert nadia.get_full_name() == "Nadia Benali"
    assert Invitation.objects.get().accepted_by == nadia


def test_the_join_link_works_once(client, cast):
    send_invitation(client, cast, "nadia@example.org")
    path = join_path(mail.outbox[0])
    client.logout()
    client.post(path, {"first_name": "Nadia"})
    client.logout()
    assert client.get(path).status_code == 410
    response = client.post(path, {"first_name": "Other"})
    assert response.status_code == 410 and b"already been used" in response.content
    assert User.objects.filter(username="nadia@example.org").count() == 1
    assert signed_in_user(client) is None


def test_the_join_link_expires_after_seven_days(client, cast):
    send_invitation(client, cast, "nadia@example.org")
    path = join_path(mail.outbox[0])
    client.logout()
    Invitation.objects.update(created_at=timezone.now() - timedelta(days=7, seconds=1))
    assert client.get(path).status_code == 410
    response = client.post(path, {"first_name": "Nadia"})
    assert response.status_code == 410 and b"expired" in response.content
    assert not User.objects.filter(username="nadia@example.org").exists()


@pytest.mark.parametrize("token", ["forged", "A" * 43, "x" * 300])
def test_a_forged_link_is_404_and_creates_nothing(client, cast, token):
    send_invitation(client, cast, "nadia@example.org")
    client.logout()
    users = User.objects.count()
    assert client.get(reverse("join", args=[token])).status_code == 404
    response = client.post(reverse("join", args=[token]), {"first_name": "Eve"})
    assert response.status_code == 404 and b"not valid" in response.content
    assert User.objects.count() == users and signed_in_user(client) is None


def test_an_existing_account_joins_and_is_signed_in(client, cast):
    with_email(cast.olivier, "olivier@example.org")
    send_invitation(client, cast, "Olivier@Example.org")
    path = join_path(mail.outbox[0])
    client.force_login(cast.sophie)  # someone else on this browser: the link proves the address
    html = page(client, path)
    assert "you will join as Olivier Dupuis" in html and 'name="first_name"' not in html
    client.post(path)
    assert signed_in_user(client) == cast.olivier
    assert Membership.objects.filter(group=cast.group, user=cast.olivier).exists()


def test_inviting_a_member_says_so_and_sends_nothing(client, cast):
    with_email(cast.sophie, "sophie@example.org")
    html = send_invitation(client, cast, "sophie@example.org").content.decode()
    assert "sophie@example.org is already a member of this group" in html
    assert not mail.outbox and not Invitation.objects.exists()


def test_each_bad_address_gets_its_message_and_the_good_ones_are_sent(client, cast):
    html = send_invitation(client, cast, "a@example.org, not-an-address\nb@example.org;").content.decode()
    assert "“not-an-address” is not a valid e-mail address" in html
    assert sorted(m.to[0] for m in mail.outbox) == ["a@example.org", "b@example.org"]
    assert "a@example.org" in html and "expires" in html, "pending invitations are listed"


def test_the_facilitator_cancels_an_invitation_and_its_link_stops_working(client, cast):
    send_invitation(client, cast, "nadia@example.org")
    invitation = Invitation.objects.get()
    response = client.post(reverse("invitation_cancel", args=[cast.group.pk, invitation.pk]), follow=True)
    assert b"Invitation cancelled" in response.content
    assert client.get(join_path(mail.outbox[0])).status_code == 404


def test_facilitator_forms_are_403_for_members_and_outsiders(client, cast):
    send_invitation(client, cast, "nadia@example.org")
    invitation = Invitation.objects.get()
    posts = [
        (reverse("group_invite", args=[cast.group.pk]), {"emails": "eve@example.org"}),
        (reverse("invitation_cancel", args=[cast.group.pk, invitation.pk]), {}),
        (reverse("group_handover", args=[cast.group.pk]), {"to": cast.sophie.pk}),
    ]
    for user in (cast.marc, cast.olivier):
        client.force_login(user)
        for url, data in posts:
            assert client.post(url, data).status_code == 403, (user, url)
    assert len(mail.outbox) == 1 and Invitation.objects.get() == invitation
    assert membership.facilitator_of(cast.group) == cast.claire


def test_facilitator_forms_refuse_get(client, cast):
    client.force_login(cast.claire)
    assert client.get(reverse("group_invite", args=[cast.group.pk])).status_code == 405


# --- reporting lines -------------------------------------------------------------------------------


def test_a_refusal_for_a_reporting_line_names_the_pair_only(client, cast):
    with_email(cast.sophie, "sophie@example.org")
    ReportingLine.objects.create(manager_email="sophie@example.org", report_email="boss@example.org")
    html = send_invitation(client, cast, "boss@example.org").content.decode()
    assert "boss@example.org and Sophie Bernard are in a reporting line" in html
    assert not mail.outbox


def test_accepting_after_a_new_reporting_line_is_refused_with_an_explanation(client, cast):
    with_email(cast.sophie, "sophie@example.org")
    send_invitation(client, cast, "boss@example.org")
    ReportingLine.objects.create(manager_email="boss@example.org", report_email="sophie@example.org")
    client.logout()
    response = client.post(join_path(mail.outbox[0]), {"first_name": "Bruno"})
    assert response.status_code == 403
    assert "no hierarchical link" in response.content.decode()
    assert not User.objects.filter(username="boss@example.org").exists() and signed_in_user(client) is None


def test_the_facilitator_sees_conflicting_pairs_without_direction(client, cast):
    with_email(cast.sophie, "sophie@example.org")
    with_email(cast.julien, "julien@example.org")
    client.force_login(cast.claire)
    seen = []
    for manager, report in (("sophie", "julien"), ("julien", "sophie")):
        ReportingLine.objects.all().delete()
        ReportingLine.objects.create(manager_email=f"{manager}@example.org", report_email=f"{report}@example.org")
        html = page(client, group_url(cast))
        assert "These pairs are in a reporting line:" in html
        assert "<li>Julien Petit – Sophie Bernard</li>" in html
        seen.append(re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html))
    assert seen[0] == seen[1], "nothing on the page tells who manages whom"
    client.force_login(cast.marc)
    assert "These pairs are in a reporting line" not in page(client, group_url(cast))


def test_a_member_declares_and_removes_a_reporting_line(client, cast):
    with_email(cast.sophie, "sophie@example.org")
    client.force_login(cast.sophie)
    url = reverse("reporting_lines")
    response = client.post(url, {"email": "boss@example.org", "relation": "manager"}, follow=True)
    assert "Reporting line recorded" in response.content.decode()
    assert "boss@example.org is my manager" in response.content.decode()
    line = ReportingLine.objects.get(manager_email="boss@example.org", report_email="sophie@example.org")
    client.force_login(cast.julien)
    assert "boss@example.org" not in page(client, url), "each member sees his own declarations"
    client.post(url, {"remove": line.pk})
    assert ReportingLine.objects.filter(pk=line.pk).exists()
    client.force_login(cast.sophie)
    client.post(url, {"remove": line.pk})
    assert not ReportingLine.objects.exists()


def test_a_bad_declaration_keeps_what_was_typed(client, cast):
    with_email(cast.sophie, "sophie@example.org")
    client.force_login(cast.sophie)
    response = client.post(reverse("reporting_lines"), {"email": "boss@example", "relation": "report"})
    html = response.content.decode()
    assert response.status_code == 400 and "is not a valid e-mail address" in html
    assert 'value="boss@example"' in html and not ReportingLine.objects.exists()


@pytest.fixture
def coordinator(db):
    user = User.objects.create_user("rh")
    user.user_permissions.add(Permission.objects.get(codename="coordinate"))
    return user


def upload(text: str):
    return {"file": SimpleUploadedFile("lines.csv", text.encode(), content_type="text/csv")}


def test_the_coordinator_imports_a_csv_and_reads_the_report(client, coordinator):
    client.force_login(coordinator)
    assert page(client, reverse("coordination_reporting_lines"))
    text = "manager_email,report_email\nboss@example.org,sophie@example.org\nboss@example.org,sophie@example.org\nbroken\n"
    html = client.post(reverse("coordination_reporting_lines"), upload(text)).content.decode()
    assert "1 line added." in html and "1 line already known." in html and "Line 4:" in html
    assert ReportingLine.objects.count() == 1
    response = client.post(reverse("coordination_reporting_lines"), upload("who,whom\n"))
    assert response.status_code == 400 and b"manager_email,report_email" in response.content


def test_everyone_else_gets_403_on_the_coordination_page(client, cast):
    url = reverse("coordination_reporting_lines")
    for user in (cast.claire, cast.marc, cast.olivier):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert client.post(url, upload("manager_email,report_email\na@example.org,b@example.org\n")).status_code == 403
    assert not ReportingLine.objects.exists()
    client.logout()
    assert client.get(url).status_code == 302


# --- handover --------------------------------------------------------------------------------------


def test_the_new_facilitator_is_told_clearly_and_dismisses_the_notice(client, cast):
    with_email(cast.sophie, "sophie@example.org")
    client.force_login(cast.claire)
    response = client.post(reverse("group_handover", args=[cast.group.pk]), {"to": cast.sophie.pk}, follow=True)
    assert "Sophie Bernard is now the facilitator" in response.content.decode()
    assert reverse("group_invite", args=[cast.group.pk]) not in response.content.decode(), "Claire is a member now"
    assert mail.outbox[0].to == ["sophie@example.org"]
    assert Workshop.objects.get(pk=cast.workshop.pk).facilitator == cast.sophie
    client.force_login(cast.sophie)
    html = page(client, group_url(cast))
    assert "You are now the facilitator of this group, handed over by Claire Morel on" in html
    assert reverse("group_invite", args=[cast.group.pk]) in html
    handover = Handover.objects.get()
    client.post(reverse("handover_seen", args=[cast.group.pk, handover.pk]))
    html = page(client, group_url(cast))
    assert "You are now the facilitator" not in html
    assert "Claire Morel handed over to Sophie Bernard" in html, "the history stays"


def test_a_handover_during_a_live_workshop_is_refused_with_a_message(client, cast):
    from workshops.steps import Step

    cast.at_step(Step.EXPOSE)
    client.force_login(cast.claire)
    response = client.post(reverse("group_handover", args=[cast.group.pk]), {"to": cast.sophie.pk}, follow=True)
    assert "A workshop of this group is live" in response.content.decode()
    assert membership.facilitator_of(cast.group) == cast.claire


def test_a_file_too_large_is_refused_with_a_message(client, coordinator):
    client.force_login(coordinator)
    big = "manager_email,report_email\n" + "a@example.org,b@example.org\n" * 40000
    response = client.post(reverse("coordination_reporting_lines"), upload(big))
    assert response.status_code == 400 and b"too large" in response.content
    assert not ReportingLine.objects.exists()
