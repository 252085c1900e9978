"""Groups and members, through the domain: size advice, invitations, reporting lines, handover."""
import re
import threading
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.validators import validate_email
from django.db import connection
from django.utils import formats, timezone, translation
from hypothesis import given
from hypothesis import strategies as st

from workshops import actions, membership, sessions
from workshops.errors import Forbidden, Invalid, NotFound, Refused
from workshops.models import Group, Handover, Invitation, Membership, ReportingLine, Session, Workshop
from workshops.steps import Step

JOIN = "http://testserver/join/{}/".format


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def with_email(user, address):
    user.email = address
    user.save(update_fields=["email"])
    return user


def invite(cast, address, by=None):
    return membership.invite(cast.group, address, acting_user=by or cast.claire, join_url=JOIN)


def token_of(message) -> str:
    return re.search(r"/join/([^/\s]+)/", message.body).group(1)


def add_participants(group, count):
    for n in range(count):
        user = User.objects.create_user(f"p{n}", first_name=f"P{n}")
        Membership.objects.create(group=group, user=user)


# --- size -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("participants", "warned", "reason"),
    [(3, True, "fewer than 4"), (4, False, ""), (10, False, ""), (11, True, "more than 10")],
)
def test_it_warns_outside_4_to_10_participants_and_says_why(db, participants, warned, reason):
    facilitator = User.objects.create_user("f")
    group = membership.create_group("Size", acting_user=facilitator)
    add_participants(group, participants)
    count = membership.participant_count(group)
    assert count == participants, "the facilitator is not counted"
    advice = membership.size_advice(count)
    assert (advice is not None) == warned
    if warned:
        assert reason in advice and "6 to 8" in advice


def test_the_advice_explains_each_side():
    assert "client too often" in membership.size_advice(1)
    assert "perspectives" in membership.size_advice(0)
    assert "not everyone can speak" in membership.size_advice(12)
    assert "run over" in membership.size_advice(12)


def test_an_invitation_that_leaves_the_group_outside_the_range_comes_with_advice(cast):
    report = membership.invite_many(cast.group, "a@example.org", acting_user=cast.claire, join_url=JOIN)
    assert (report.sent, report.advice) == (["a@example.org"], None), "3 members + 1 invitee = 4"
    addresses = ", ".join(f"p{n}@example.org" for n in range(7))
    report = membership.invite_many(cast.group, addresses, acting_user=cast.claire, join_url=JOIN)
    assert len(report.sent) == 7, "never blocked"
    assert "more than 10" in report.advice and "11 participants" in report.advice


def test_a_new_group_is_advised_until_it_has_four_participants(db):
    group = membership.create_group("New", acting_user=User.objects.create_user("f"))
    report = membership.invite_many(group, "a@example.org", acting_user=group.memberships.get().user, join_url=JOIN)
    assert report.sent and "fewer than 4" in report.advice


def test_create_group_makes_the_creator_facilitator(db):
    user = User.objects.create_user("ana")
    group = membership.create_group("  Managers Nord ", acting_user=user)
    assert group.name == "Managers Nord"
    assert membership.facilitator_of(group) == user
    with pytest.raises(Invalid):
        membership.create_group("   ", acting_user=user)
    with pytest.raises(Invalid):
        membership.create_group("x" * 201, acting_user=user)


# --- the address parser ---------------------------------------------------------------------------

LOCAL = st.lists(st.from_regex(r"[A-Za-z0-9_+-]{1,8}", fullmatch=True), min_size=1, max_size=3).map(".".join)
DOMAIN = st.tuples(
    st.lists(st.from_regex(r"[A-Za-z0-9]{1,8}", fullmatch=True), min_size=1, max_size=2), st.from_regex(r"[a-zA-Z]{2,6}", fullmatch=True)
).map(lambda parts: ".".join([*parts[0], parts[1]]))
ADDRESS = st.tuples(LOCAL, DOMAIN).map("@".join)
SEPARATOR = st.sampled_from([",", ";", "\n", "\r\n", ", ", " ;\n", "\n\n", ",,"])


@given(st.lists(st.tuples(ADDRESS, SEPARATOR, st.sampled_from(["", " ", "\t"])), min_size=1, max_size=8))
def test_the_parser_finds_every_address_whatever_the_separators(items):
    text = "".join(pad + address + pad + separator for address, separator, pad in items)
    good, errors = membership.parse_addresses(text)
    expected = list(dict.fromkeys(address.lower() for address, _sep, _pad in items))
    assert (good, errors) == (expected, [])


@given(st.lists(ADDRESS, min_size=1, max_size=5), st.from_regex(r"[^@,;\s<>]{1,20}", fullmatch=True), st.integers(0, 5))
def test_each_bad_address_gets_its_own_message_and_the_good_ones_are_kept(addresses, junk, position):
    chunks = list(addresses)
    chunks.insert(min(position, len(chunks)), junk)
    good, errors = membership.parse_addresses("\n".join(chunks))
    assert good == list(dict.fromkeys(a.lower() for a in addresses))
    assert len(errors) == 1 and junk.strip() in errors[0]


@given(st.text(max_size=200))
def test_the_parser_never_fails_and_returns_only_valid_lowercase_addresses(text):
    good, errors = membership.parse_addresses(text)
    assert len(good) == len(set(good))
    for address in good:
        validate_email(address)
        assert address == address.lower()
    assert all(isinstance(error, str) and error for error in errors)
    assert membership.parse_addresses(", ".join(good)) == (good, [])


def test_the_parser_accepts_names_as_mail_programs_copy_them():
    good, errors = membership.parse_addresses("Claire Morel <Claire.Morel@Example.org>; marc@example.org")
    assert good == ["claire.morel@example.org", "marc@example.org"] and errors == []


def test_invalid_addresses_raise_with_the_address_named():
    for bad in ("claire", "a@", "@b.fr", "a b@c.fr", "x" * 140 + "@example.org"):
        with pytest.raises(Invalid):
            membership.normalise_email(bad)
    with pytest.raises(ValidationError):
        validate_email("claire")


# --- invitations ----------------------------------------------------------------------------------


def test_an_invitation_stores_only_the_hash_and_mails_the_link(cast):
    invitation = invite(cast, "Nadia@Example.org")
    assert invitation.email == "nadia@example.org"
    (message,) = mail.outbox
    assert message.to == ["nadia@example.org"]
    token = token_of(message)
    assert invitation.token_hash != token and token not in invitation.token_hash
    assert JOIN(token) in message.body
    assert "Groupe Test" in message.body and "Claire Morel" in message.body
    assert "no hierarchical link" in message.body, "one sentence on what co-development is"
    expiry = formats.date_format(timezone.localtime(membership.expires_at(invitation)), "DATETIME_FORMAT")
    assert f"only once, until {expiry}" in message.body
    assert membership.find_invitation(token) == invitation
    with pytest.raises(NotFound):
        membership.find_invitation(invitation.token_hash)  # the database alone cannot join


def test_only_the_facilitator_invites(cast):
    for user in (cast.marc, cast.olivier):
        with pytest.raises(Forbidden):
            invite(cast, "a@example.org", by=user)
    assert not Invitation.objects.exists() and not mail.outbox


def test_inviting_a_member_is_refused_without_an_email(cast):
    with_email(cast.sophie, "sophie@example.org")
    with pytest.raises(Refused, match="already a member"):
        invite(cast, "SOPHIE@example.org")
    assert not Invitation.objects.exists() and not mail.outbox


def test_a_new_invitation_replaces_the_pending_one(cast):
    invite(cast, "nadia@example.org")
    invite(cast, "nadia@example.org")
    first, second = (token_of(m) for m in mail.outbox)
    assert Invitation.objects.count() == 1
    with pytest.raises(NotFound):
        membership.find_invitation(first)
    assert membership.find_invitation(second).email == "nadia@example.org"


def test_the_facilitator_cancels_a_pending_invitation(cast):
    invitation = invite(cast, "nadia@example.org")
    with pytest.raises(Forbidden):
        membership.cancel_invitation(cast.group, invitation.pk, acting_user=cast.marc)
    membership.cancel_invitation(cast.group, invitation.pk, acting_user=cast.claire)
    with pytest.raises(NotFound):
        membership.find_invitation(token_of(mail.outbox[0]))
    with pytest.raises(NotFound):
        membership.cancel_invitation(cast.group, invitation.pk, acting_user=cast.claire)


def test_accepting_creates_an_account_without_password(cast):
    invite(cast, "nadia@example.org")
    user, group = membership.accept_invitation(token_of(mail.outbox[0]), first_name=" Nadia ", last_name="Benali")
    assert group == cast.group
    assert (user.username, user.email, user.get_full_name()) == ("nadia@example.org", "nadia@example.org", "Nadia Benali")
    assert not user.has_usable_password()
    assert Membership.objects.get(group=group, user=user).role == Membership.MEMBER


def test_an_existing_account_joins_with_its_address(cast):
    nadia = User.objects.create_user("nadia", email="Nadia@Example.org", first_name="Nadia")
    invite(cast, "nadia@example.org")
    user, _group = membership.accept_invitation(token_of(mail.outbox[0]), first_name="Ignored")
    assert user == nadia and user.first_name == "Nadia"
    assert User.objects.filter(email__iexact="nadia@example.org").count() == 1


def test_a_link_works_once(cast):
    invite(cast, "nadia@example.org")
    token = token_of(mail.outbox[0])
    membership.accept_invitation(token)
    with pytest.raises(membership.LinkGone, match="already been used"):
        membership.accept_invitation(token)
    assert User.objects.filter(username="nadia@example.org").count() == 1


def test_a_link_expires_after_seven_days(cast, settings):
    assert settings.SIGNIN_LINK_TIMEOUT == 7 * 24 * 3600
    invitation = invite(cast, "nadia@example.org")
    token = token_of(mail.outbox[0])
    now = timezone.now()
    Invitation.objects.filter(pk=invitation.pk).update(created_at=now - timedelta(days=7) + timedelta(minutes=1))
    assert membership.find_invitation(token)
    Invitation.objects.filter(pk=invitation.pk).update(created_at=now - timedelta(days=7, seconds=1))
    with pytest.raises(membership.LinkGone, match="expired"):
        membership.accept_invitation(token)
    assert not User.objects.filter(username="nadia@example.org").exists()
    assert not membership.pending_invitations(cast.group).exists()


@pytest.mark.django_db(transaction=True)
def test_two_clicks_racing_join_once(cast):
    invite(cast, "nadia@example.org")
    token = token_of(mail.outbox[0])
    barrier = threading.Barrier(2)
    outcomes = []

    def click():
        barrier.wait()
        try:
            membership.accept_invitation(token, first_name="Nadia")
            outcomes.append("joined")
        except membership.LinkGone:
            outcomes.append("used")
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["joined", "used"]
    assert User.objects.filter(username="nadia@example.org").count() == 1


@pytest.mark.parametrize("token", ["", "x", "A" * 43, "a" * 5000, "../../etc", "é"])
def test_an_unknown_or_forged_token_is_not_found(cast, token):
    invite(cast, "nadia@example.org")
    with pytest.raises(NotFound):
        membership.accept_invitation(token)
    assert Membership.objects.filter(group=cast.group).count() == 4


def test_a_failed_send_leaves_no_invitation(cast, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, False, 2
    with pytest.raises(Refused, match="could not be sent"):
        invite(cast, "nadia@example.org")
    assert not Invitation.objects.exists()


# --- reporting lines ------------------------------------------------------------------------------


@pytest.fixture
def lines(cast):
    """Sophie and Julien have addresses; Bruno (boss@example.org) has no account yet."""
    with_email(cast.sophie, "sophie@example.org")
    with_email(cast.julien, "julien@example.org")
    return cast


@pytest.mark.parametrize("boss_manages_sophie", [True, False])
def test_inviting_someone_in_a_reporting_line_with_a_member_is_refused(lines, boss_manages_sophie):
    manager, report = ("boss@example.org", "sophie@example.org") if boss_manages_sophie else ("sophie@example.org", "boss@example.org")
    ReportingLine.objects.create(manager_email=manager, report_email=report)
    with pytest.raises(Refused) as refusal:
        invite(lines, "Boss@example.org")
    assert refusal.value.message == (
        "Co-development works among peers with no hierarchical link: boss@example.org and Sophie Bernard are in a "
        "reporting line, so they cannot be in the same group."
    ), "the same words whichever way the line goes"
    assert not Invitation.objects.exists() and not mail.outbox


def test_a_reporting_line_with_a_pending_invitee_is_refused_too(lines):
    invite(lines, "a@example.org")
    ReportingLine.objects.create(manager_email="a@example.org", report_email="b@example.org")
    report = membership.invite_many(lines.group, "b@example.org\nc@example.org", acting_user=lines.claire, join_url=JOIN)
    assert report.sent == ["c@example.org"]
    assert len(report.errors) == 1 and "a@example.org and" not in report.errors[0] and "b@example.org and a@example.org" in report.errors[0]


@pytest.mark.parametrize("boss_manages_sophie", [True, False])
def test_accepting_is_refused_when_a_line_was_declared_since(lines, boss_manages_sophie):
    invite(lines, "boss@example.org")
    manager, report = ("boss@example.org", "sophie@example.org") if boss_manages_sophie else ("sophie@example.org", "boss@example.org")
    membership.declare_reporting_line(lines.sophie, "boss@example.org", membership.MANAGER if boss_manages_sophie else membership.REPORT)
    assert ReportingLine.objects.filter(manager_email=manager, report_email=report).exists()
    with pytest.raises(Refused, match="boss@example.org and Sophie Bernard are in a reporting line"):
        membership.accept_invitation(token_of(mail.outbox[0]), first_name="Bruno")
    assert not User.objects.filter(username="boss@example.org").exists()
    assert membership.pending_invitations(lines.group).count() == 1, "the link is not used up by the refusal"


def test_conflicts_are_pairs_without_direction(lines):
    assert membership.hierarchy_conflicts(lines.group) == []
    membership.declare_reporting_line(lines.sophie, "julien@example.org", membership.MANAGER)
    one_way = membership.hierarchy_conflicts(lines.group)
    ReportingLine.objects.all().delete()
    membership.declare_reporting_line(lines.julien, "sophie@example.org", membership.MANAGER)
    assert membership.hierarchy_conflicts(lines.group) == one_way == [("Julien Petit", "Sophie Bernard")]


def test_a_member_declares_lists_and_removes_his_lines(lines):
    line, created = membership.declare_reporting_line(lines.sophie, " Boss@Example.org ", membership.MANAGER)
    assert created and (line.manager_email, line.report_email, line.source) == ("boss@example.org", "sophie@example.org", "member")
    assert membership.declare_reporting_line(lines.sophie, "boss@example.org", membership.MANAGER)[1] is False
    membership.declare_reporting_line(lines.sophie, "new@example.org", membership.REPORT)
    rows = membership.my_reporting_lines(lines.sophie)
    assert [(r["email"], r["relation"]) for r in rows] == [("boss@example.org", "manager"), ("new@example.org", "report")]
    assert membership.my_reporting_lines(lines.julien) == []
    with pytest.raises(NotFound):
        membership.remove_reporting_line(lines.julien, line.pk)
    membership.remove_reporting_line(lines.sophie, line.pk)
    assert not ReportingLine.objects.filter(pk=line.pk).exists()


def test_declaring_needs_an_address_and_another_person(lines):
    with pytest.raises(Invalid, match="no e-mail address"):
        membership.declare_reporting_line(lines.marc, "boss@example.org", membership.MANAGER)
    with pytest.raises(Invalid, match="two different people"):
        membership.declare_reporting_line(lines.sophie, "SOPHIE@example.org", membership.MANAGER)
    with pytest.raises(Invalid):
        membership.declare_reporting_line(lines.sophie, "boss@example.org", "friend")
    with pytest.raises(Invalid):
        membership.declare_reporting_line(lines.sophie, "not an address", membership.MANAGER)
    assert not ReportingLine.objects.exists()


CSV = """manager_email,report_email
boss@example.org,sophie@example.org
Boss@Example.org , julien@example.org

boss@example.org,sophie@example.org
only-one-field@example.org
a@example.org,b@example.org,c@example.org
not-an-address,x@example.org
same@example.org,SAME@example.org
"""


@pytest.fixture
def coordinator(db):
    user = User.objects.create_user("rh", first_name="Hélène")
    user.user_permissions.add(Permission.objects.get(codename="coordinate"))
    return User.objects.get(pk=user.pk)  # fresh: permissions are cached


def test_the_csv_import_counts_and_reports_each_bad_line(coordinator):
    report = membership.import_reporting_lines(CSV, acting_user=coordinator)
    assert (report.added, report.known) == (2, 1)
    assert [number for number, _message in report.errors] == [6, 7, 8, 9]
    assert "not-an-address" in report.errors[2][1]
    assert set(ReportingLine.objects.values_list("manager_email", "report_email", "source")) == {
        ("boss@example.org", "sophie@example.org", "import"),
        ("boss@example.org", "julien@example.org", "import"),
    }
    again = membership.import_reporting_lines(CSV, acting_user=coordinator)
    assert (again.added, again.known) == (0, 3), "idempotent"


def test_the_csv_import_reads_semicolons_and_a_bom(coordinator):
    text = membership.decode_csv("\ufeffmanager_email;report_email\r\nchef@exemple.fr;equipe@exemple.fr\r\n".encode())
    report = membership.import_reporting_lines(text, acting_user=coordinator)
    assert (report.added, report.errors) == (1, [])
    latin = membership.decode_csv("manager_email,report_email\nchef@exemple.fr,andré@exemple.fr\n".encode("cp1252"))
    assert "andré@exemple.fr" in latin


def test_the_csv_import_needs_the_header_and_the_permission(coordinator, cast):
    with pytest.raises(Invalid, match="manager_email,report_email"):
        membership.import_reporting_lines("boss@example.org,sophie@example.org\n", acting_user=coordinator)
    with pytest.raises(Forbidden):
        membership.import_reporting_lines(CSV, acting_user=cast.claire)
    assert not ReportingLine.objects.exists()


def test_the_import_command_uses_the_same_rules(db, tmp_path, capsys):
    path = tmp_path / "lines.csv"
    path.write_text("manager_email,report_email\nboss@example.org,sophie@example.org\n")
    call_command("import_reporting_lines", str(path))
    assert "1 added, 0 already known" in capsys.readouterr().out
    path.write_text(CSV)
    with pytest.raises(CommandError, match="4 lines refused"):
        call_command("import_reporting_lines", str(path))
    assert "Line 9" in capsys.readouterr().err
    assert ReportingLine.objects.count() == 2
    with pytest.raises(CommandError):
        call_command("import_reporting_lines", str(tmp_path / "missing.csv"))


# --- handover -------------------------------------------------------------------------------------


def test_handover_swaps_roles_and_moves_what_has_not_started(lines):
    first = Workshop.objects.get(pk=lines.workshop.pk)
    lines.at_step(Step.EXPOSE)
    actions.end(first.pk, acting_user=lines.claire, reason="Fin de séance")
    later = sessions.plan_session(lines.group, facilitator=lines.claire, number=2)
    handover = membership.hand_over(lines.group, lines.sophie, acting_user=lines.claire)
    assert membership.facilitator_of(lines.group) == lines.sophie
    assert Membership.objects.get(group=lines.group, user=lines.claire).role == Membership.MEMBER
    assert Session.objects.get(pk=first.session_id).facilitator == lines.claire, "the past keeps its facilitator"
    assert Workshop.objects.get(pk=first.pk).facilitator == lines.claire
    assert Session.objects.get(pk=later.pk).facilitator == lines.sophie
    assert later.workshops.get().facilitator == lines.sophie
    assert (handover.from_user, handover.to_user) == (lines.claire, lines.sophie)
    (message,) = mail.outbox
    assert message.to == ["sophie@example.org"] and "Claire Morel" in message.body and "Groupe Test" in message.body


def test_handover_is_refused_while_a_workshop_is_live(cast):
    cast.at_step(Step.EXPOSE)
    with pytest.raises(Refused, match="live"):
        membership.hand_over(cast.group, cast.sophie, acting_user=cast.claire)
    assert membership.facilitator_of(cast.group) == cast.claire and not Handover.objects.exists()


def test_only_the_facilitator_hands_over_and_only_to_a_member(cast):
    with pytest.raises(Forbidden):
        membership.hand_over(cast.group, cast.julien, acting_user=cast.sophie)
    with pytest.raises(Invalid):
        membership.hand_over(cast.group, cast.olivier, acting_user=cast.claire)
    with pytest.raises(Invalid):
        membership.hand_over(cast.group, cast.claire, acting_user=cast.claire)
    with pytest.raises(Invalid):
        membership.hand_over(cast.group, "not-an-id", acting_user=cast.claire)
    assert membership.facilitator_of(cast.group) == cast.claire and not Handover.objects.exists()


def test_the_notice_is_for_the_new_facilitator_until_dismissed(cast):
    handover = membership.hand_over(cast.group, cast.sophie, acting_user=cast.claire)
    assert not mail.outbox, "Sophie has no address: the group page tells her"
    assert membership.handover_notice(cast.group, cast.claire) is None
    assert membership.handover_notice(cast.group, cast.sophie) == handover
    with pytest.raises(NotFound):
        membership.mark_handover_seen(cast.group, handover.pk, acting_user=cast.claire)
    membership.mark_handover_seen(cast.group, handover.pk, acting_user=cast.sophie)
    assert membership.handover_notice(cast.group, cast.sophie) is None
    assert Group.objects.get(pk=cast.group.pk).handovers.get().seen_at is not None
