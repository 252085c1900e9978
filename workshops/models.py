"""What a group keeps: its members, its cases and its workshops with everything said in them.

State changes go through workshops.actions, never through .save() elsewhere: actions keep the
event log and its sequence numbers right.

What people wrote is encrypted at rest (codev/fields.py): those fields cannot be filtered or
ordered by the database. Names, e-mails, dates, statuses and workshop titles ("Séance 3") are not.
"""
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from codev.fields import EncryptedJSONField, EncryptedTextField

User = settings.AUTH_USER_MODEL


class Group(models.Model):
    name = models.CharField(_("name"), max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # The organisation's coordinator (training or HR): imports reporting lines, never reads content.
        permissions = [("coordinate", "Coordinate groups")]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    FACILITATOR = "facilitator"
    MEMBER = "member"
    ROLES = [(FACILITATOR, _("Facilitator")), (MEMBER, _("Member"))]

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=ROLES, default=MEMBER)
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="one_membership")]


class Invitation(models.Model):
    """A one-time link sent by e-mail. Only the token's hash is kept: the database alone cannot join."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")


class ReportingLine(models.Model):
    """`manager` is the hierarchical superior of `report`. By e-mail: it holds before anyone joins."""

    MEMBER, IMPORT = "member", "import"
    manager_email = models.EmailField()
    report_email = models.EmailField()
    source = models.CharField(max_length=10, default=MEMBER)
    declared_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["manager_email", "report_email"], name="one_reporting_line")]


class Handover(models.Model):
    """The facilitator role passed from one member to another (mature groups rotate it)."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="handovers")
    from_user = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    to_user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(null=True, blank=True)  # the new facilitator has read the notice


class Case(models.Model):
    """A professional problem a member brings to the group's pool; the exposé fields are his to edit."""

    POOL, TREATED, WITHDRAWN = "pool", "treated", "withdrawn"
    STATUSES = [(POOL, _("in the pool")), (TREATED, _("treated")), (WITHDRAWN, _("withdrawn"))]
    URGENCIES = [(1, _("can wait")), (2, _("within weeks")), (3, _("urgent"))]

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="cases")
    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="cases")
    title = EncryptedTextField(_("title"))  # 200 characters at most: checked by the domain (pool, actions)
    summary = EncryptedTextField(_("short description"), blank=True)
    stakes = EncryptedTextField(_("stakes"), blank=True)
    urgency = models.PositiveSmallIntegerField(_("urgency"), choices=URGENCIES, default=2)
    status = models.CharField(max_length=10, choices=STATUSES, default=POOL)
    created_at = models.DateTimeField(default=timezone.now)
    context = EncryptedTextField(_("context"), blank=True)
    problem = EncryptedTextField(_("problem"), blank=True)
    tried = EncryptedTextField(_("what I tried"), blank=True)
    expectations = EncryptedTextField(_("what I expect"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.title


class Cycle(models.Model):
    """A year of sessions, typically one per member, at a steady rhythm."""

    WEEKLY, FORTNIGHTLY, MONTHLY = "weekly", "fortnightly", "monthly"
    RHYTHMS = [(WEEKLY, _("weekly")), (FORTNIGHTLY, _("every two weeks")), (MONTHLY, _("monthly"))]

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="cycles")
    title = models.CharField(_("title"), max_length=200)
    rhythm = models.CharField(_("rhythm"), max_length=12, choices=RHYTHMS, default=MONTHLY)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.title


class Session(models.Model):
    """One meeting of the group: a date, a place, a format; one or two cases, each its own Workshop."""

    LONG, SHORT, CUSTOM = "long", "short", "custom"
    FORMATS = [(LONG, _("3 hours")), (SHORT, _("1 h 30 (short)")), (CUSTOM, _("custom durations"))]

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="sessions")
    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, null=True, blank=True, related_name="sessions")
    number = models.PositiveSmallIntegerField(default=1)
    starts_at = models.DateTimeField(_("date and time"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True)
    video_url = models.URLField(_("video link"), blank=True)
    format = models.CharField(_("format"), max_length=10, choices=FORMATS, default=LONG)
    minutes = models.JSONField(default=dict, blank=True)  # custom format: {"1": 15, …, "6": 20}
    facilitator = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["starts_at", "number", "id"]


class Attendance(models.Model):
    ROOM, FACILITATOR = "room", "facilitator"
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="attendances")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    present = models.BooleanField(default=True)
    source = models.CharField(max_length=12, default=ROOM)
    marked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "user"], name="one_attendance")]


class Vote(models.Model):
    """A first pass on which case to treat: each member spreads 3 votes; the facilitator decides."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="votes")
    voter = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="votes")
    count = models.PositiveSmallIntegerField(default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "voter", "case"], name="one_vote_row")]


class Workshop(models.Model):
    """One run of the six steps on one case. Timers are timestamps: the browser counts down."""

    PLANNED, LIVE, ENDED = "planned", "live", "ended"
    STATUSES = [(PLANNED, _("planned")), (LIVE, _("live")), (ENDED, _("ended"))]

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="workshops")
    session = models.ForeignKey(Session, on_delete=models.CASCADE, null=True, blank=True, related_name="workshops")
    title = models.CharField(_("title"), max_length=200)
    minutes = models.JSONField(default=dict, blank=True)  # custom step durations, from the session
    plan_closed_at = models.DateTimeField(null=True, blank=True)  # the client closed his plan's follow-up
    plan_reminder_sent_at = models.DateTimeField(null=True, blank=True)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    short_format = models.BooleanField(default=False)
    facilitator = models.ForeignKey(User, on_delete=models.PROTECT, related_name="facilitated")
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.RESTRICT)  # goes only with its group
    status = models.CharField(max_length=10, choices=STATUSES, default=PLANNED)
    step = models.PositiveSmallIntegerField(null=True, blank=True)
    seq = models.PositiveIntegerField(default=0)  # last event's sequence number
    timer_duration = models.PositiveIntegerField(default=0)  # seconds planned, extensions included
    timer_elapsed = models.FloatField(default=0)  # seconds run before timer_started_at
    timer_started_at = models.DateTimeField(null=True, blank=True)  # null while paused
    request = EncryptedTextField(blank=True)  # "Aidez-moi à …"
    help_kinds = models.JSONField(default=list, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.title

    @property
    def client_id(self) -> int | None:
        return self.case.owner_id if self.case_id else None


class Contribution(models.Model):
    """Something said to the group: a clarification question (and its answer) or a consultation offer."""

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="contributions")
    author = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    cid = models.UUIDField(default=uuid.uuid4)  # chosen by the browser: a retry is stored once
    step = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=20)  # question, idea, experience, resource, perspective
    body = EncryptedTextField()
    answer = EncryptedTextField(blank=True)
    mark = models.CharField(max_length=10, blank=True)  # "", keep, explore
    flagged = models.BooleanField(default=False)  # a question posted anyway although it read as advice
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["workshop", "cid"], name="contribution_once")]


class PrivateNote(models.Model):
    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    cid = models.UUIDField(default=uuid.uuid4)
    step = models.PositiveSmallIntegerField()
    body = EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["workshop", "cid"], name="note_once")]


class PlannedAction(models.Model):
    """One line of the client's action plan."""

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="actions")
    cid = models.UUIDField(default=uuid.uuid4)
    what = EncryptedTextField()
    first_step = EncryptedTextField(blank=True)
    due = models.DateField(null=True, blank=True)
    success_sign = EncryptedTextField(blank=True)
    kept = models.ManyToManyField(Contribution, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # Follow-up at later sessions ("retour"): the client says where each action stands.
    OPEN, DONE, IN_PROGRESS, DROPPED = "", "done", "in_progress", "dropped"
    FOLLOWUPS = [(OPEN, _("not reported yet")), (DONE, _("done")), (IN_PROGRESS, _("in progress")), (DROPPED, _("dropped"))]
    followup = models.CharField(max_length=12, choices=FOLLOWUPS, blank=True, default=OPEN)
    followup_comment = EncryptedTextField(blank=True)
    followup_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["workshop", "cid"], name="action_once")]


class Learning(models.Model):
    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="learnings")
    author = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    cid = models.UUIDField(default=uuid.uuid4)
    body = EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["workshop", "cid"], name="learning_once")]


class Evaluation(models.Model):
    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="evaluations")
    author = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    score = models.PositiveSmallIntegerField()
    comment = EncryptedTextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workshop", "author"], name="one_evaluation")]


class JournalEntry(models.Model):
    """A free entry in a member's private learning journal. Nobody else ever reads it."""

    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="journal_entries")
    body = EncryptedTextField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]


class RuleAcceptance(models.Model):
    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="acceptances")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    accepted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workshop", "user"], name="accept_once")]


class Presence(models.Model):
    """One open socket in a room. Kept in the database so every worker sees the same room."""

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="presences")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    channel_name = models.CharField(max_length=200, unique=True)
    seen_at = models.DateTimeField()


class Event(models.Model):
    """The workshop's log: every change, numbered, replayable. audience=None means the whole group."""

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=40)
    payload = EncryptedJSONField(default=dict)
    audience = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["seq"]
        constraints = [models.UniqueConstraint(fields=["workshop", "seq"], name="seq_once")]


class HandRaise(models.Model):
    """A participant asks for the floor. Open while `lowered_at` is null; the queue is the open
    hands in the order they were raised. `answered`: lowered because the floor was given to him."""

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="hands")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    step = models.PositiveSmallIntegerField()
    raised_at = models.DateTimeField()
    lowered_at = models.DateTimeField(null=True, blank=True)
    answered = models.BooleanField(default=False)

    class Meta:
        ordering = ["raised_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["workshop", "user"], condition=models.Q(lowered_at__isnull=True), name="one_raised_hand")
        ]


class SpeakingTurn(models.Model):
    """Someone had the floor from `started_at` to `ended_at` (null: he still has it). One open
    turn per workshop: starting a turn ends the current one (workshops.speaking)."""

    SELF, FLOOR, CLOCK = "self", "floor", "clock"
    SOURCES = [(SELF, _("I'm speaking")), (FLOOR, _("given the floor")), (CLOCK, _("speaking clock"))]

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="turns")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    step = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=8, choices=SOURCES, default=SELF)

    class Meta:
        ordering = ["started_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["workshop"], condition=models.Q(ended_at__isnull=True), name="one_open_turn")
        ]
