"""Who may reach each page: one rule per URL name, checked by tests/test_leaks.py.

The leak test walks every URL pattern of the site as every role (anonymous visitor, signed-in
non-member, coordinator, member, client, facilitator, superuser) and compares what it gets with the
rule declared here. A URL name missing from RULES fails that test: whoever adds a page adds its
line below (one line, in the block of his area), saying who may reach it.

The rules:

- "public": anyone, signed in or not (sign-in, language switch, links carrying their own token).
- "signed_in": any signed-in user; the page shows only what is his (his groups, his lines) or
  nothing of any group's content (creating a group).
- "owner": any signed-in user, about his own things only: his journal and its entries, his
  cases. An object id of someone else's gets 404, as if it did not exist.
- "member": the members of the group the URL names (directly, or through its workshop, session,
  cycle or case). Non-members get 403 (404 when the object does not exist).
- "facilitator": the group's facilitator (for a session, also the one who ran it). Other
  members get 403.
- "client": the client of the workshop the URL names (the owner of its case). Other members get
  403.
- "coordinator": users with the permission workshops.coordinate (and superusers, who have every
  permission). They see process figures, never content.

A rule says who may reach a URL, not what the page shows: the leak test separately checks that
no response, whatever its status, contains a piece of content its viewer may not read.
Anonymous visitors are sent to the login page for everything but "public".
"""

PUBLIC, SIGNED_IN, OWNER = "public", "signed_in", "owner"
MEMBER, FACILITATOR, CLIENT, COORDINATOR = "member", "facilitator", "client", "coordinator"
ALL_RULES = (PUBLIC, SIGNED_IN, OWNER, MEMBER, FACILITATOR, CLIENT, COORDINATOR)

RULES: dict[str, str] = {
    # accounts and site
    "set_language": PUBLIC,
    "login": PUBLIC,
    "logout": PUBLIC,
    "signin": PUBLIC,  # the link carries its own single-use token
    "home": SIGNED_IN,
    # groups and members
    "group": MEMBER,
    "group_create": SIGNED_IN,
    "group_invite": FACILITATOR,
    "invitation_cancel": FACILITATOR,
    "group_handover": FACILITATOR,
    "handover_seen": MEMBER,
    "join": PUBLIC,  # the invitation link is the credential
    "reporting_lines": SIGNED_IN,
    "coordination_reporting_lines": COORDINATOR,
    # the room
    "workshop": MEMBER,
    "workshop_act": MEMBER,
    "workshop_clock": FACILITATOR,  # the speaking clock and the speaking figures: the workshop's facilitator
    "workshop_projector": MEMBER,  # the room's shared screen: what every member sees alike
    # the pool
    "case_submit": MEMBER,
    "case_withdraw": OWNER,
    # cycles and sessions
    "cycle_create": FACILITATOR,
    "session": MEMBER,
    "session_edit": FACILITATOR,
    "session_attendance": FACILITATOR,
    "session_attendance_pdf": FACILITATOR,
    "session_second_case": FACILITATOR,
    "session_ics": MEMBER,
    "cycle_ics": MEMBER,
    # journal, records, evaluations
    "journal": OWNER,
    "journal_add": OWNER,
    "journal_edit": OWNER,
    "journal_delete": OWNER,
    "journal_md": OWNER,
    "journal_pdf": OWNER,
    "workshop_record_md": CLIENT,
    "workshop_record_pdf": CLIENT,
    "group_evaluations": FACILITATOR,
    "workshop_self_assessment": FACILITATOR,  # the workshop's facilitator, for his own journal
    # privacy: a member's data, the case records retention kept, a group's retention and audit log
    "my_data": OWNER,
    "my_data_export": OWNER,
    "account_delete": OWNER,
    "client_records": OWNER,
    "client_record_md": OWNER,
    "client_record_delete": OWNER,
    "group_retention": FACILITATOR,
    "group_audit": FACILITATOR,
    # coordination
    "coordination": COORDINATOR,
    "coordination_group_create": COORDINATOR,
    "coordination_facilitator": COORDINATOR,
}


def rule_of(name: str) -> str | None:
    """The rule declared for a URL name, or None when nobody declared one."""
    return RULES.get(name)


def undeclared(names) -> list[str]:
    """URL names without a rule: each is a page nobody has said who may see."""
    return sorted(name for name in names if name not in RULES)
