"""What a group keeps: its members, its cases and its workshops with everything said in them.

State changes go through workshops.actions, never through .save() elsewhere: actions keep the
event log and its sequence numbers right.
"""
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

User = settings.AUTH_USER_MODEL


class Group(models.Model):
    name = models.CharField(_("name"), max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    FACILITATOR = "facilitator"
    MEMBER = "member"
    ROLES = [(FACILITATOR, _("Facilitator")), (MEMBER, _("Member"))]

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=ROLES, default=MEMBER)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="one_membership")]


class Case(models.Model):
    """A professional problem a member brings; the exposé fields are his to edit."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="cases")
    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="cases")
    title = models.CharField(_("title"), max_length=200)
    context = models.TextField(_("context"), blank=True)
    problem = models.TextField(_("problem"), blank=True)
    tried = models.TextField(_("what I tried"), blank=True)
    expectations = models.TextField(_("what I expect"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.title


class Workshop(models.Model):
    """One run of the six steps on one case. Timers are timestamps: the browser counts down."""

    PLANNED, LIVE, ENDED = "planned", "live", "ended"
    STATUSES = [(PLANNED, _("planned")), (LIVE, _("live")), (ENDED, _("ended"))]

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="workshops")
    title = models.CharField(_("title"), max_length=200)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    short_format = models.BooleanField(default=False)
    facilitator = models.ForeignKey(User, on_delete=models.PROTECT, related_name="facilitated")
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.PROTECT)
    status = models.CharField(max_length=10, choices=STATUSES, default=PLANNED)
    step = models.PositiveSmallIntegerField(null=True, blank=True)
    seq = models.PositiveIntegerField(default=0)  # last event's sequence number
    timer_duration = models.PositiveIntegerField(default=0)  # seconds planned, extensions included
    timer_elapsed = models.FloatField(default=0)  # seconds run before timer_started_at
    timer_started_at = models.DateTimeField(null=True, blank=True)  # null while paused
    request = models.TextField(blank=True)  # "Aidez-moi à …"
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
    body = models.TextField()
    answer = models.TextField(blank=True)
    mark = models.CharField(max_length=10, blank=True)  # "", keep, explore
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["workshop", "cid"], name="contribution_once")]


class PrivateNote(models.Model):
    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    cid = models.UUIDField(default=uuid.uuid4)
    step = models.PositiveSmallIntegerField()
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["workshop", "cid"], name="note_once")]


class PlannedAction(models.Model):
    """One line of the client's action plan."""

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="actions")
    cid = models.UUIDField(default=uuid.uuid4)
    what = models.TextField()
    first_step = models.TextField(blank=True)
    due = models.DateField(null=True, blank=True)
    success_sign = models.TextField(blank=True)
    kept = models.ManyToManyField(Contribution, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["workshop", "cid"], name="action_once")]


class Learning(models.Model):
    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="learnings")
    author = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    cid = models.UUIDField(default=uuid.uuid4)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["workshop", "cid"], name="learning_once")]


class Evaluation(models.Model):
    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="evaluations")
    author = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workshop", "author"], name="one_evaluation")]


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
    payload = models.JSONField(default=dict)
    audience = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["seq"]
        constraints = [models.UniqueConstraint(fields=["workshop", "seq"], name="seq_once")]
